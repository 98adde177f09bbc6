package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeRefusesBadSettings(t *testing.T) {
	var out, errb bytes.Buffer
	code := serve(context.Background(), []string{"--workers", "0"}, func(string) string { return "" },
		streams{out: &out, err: &errb}, nil)
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	for _, want := range []string{"--app-id / COUNTERSIGN_APP_ID", "COUNTERSIGN_PRIVATE_KEY", "--webhook-secret", "--workers / COUNTERSIGN_WORKERS"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

func TestServeHelp(t *testing.T) {
	var out bytes.Buffer
	if code := serve(context.Background(), []string{"-h"}, func(string) string { return "" }, streams{out: &out, err: &out}, nil); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "COUNTERSIGN_WEBHOOK_SECRET_FILE") {
		t.Fatalf("usage:\n%s", out.String())
	}
}

func TestServeStartsAndStops(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	env := map[string]string{
		"COUNTERSIGN_APP_ID":         "1",
		"COUNTERSIGN_PRIVATE_KEY":    string(keyPEM),
		"COUNTERSIGN_WEBHOOK_SECRET": "serve-test-secret",
		"COUNTERSIGN_LISTEN":         "127.0.0.1:0",
		"COUNTERSIGN_METRICS_LISTEN": "127.0.0.1:0",
		"COUNTERSIGN_GITHUB_URL":     "http://127.0.0.1:1/api/v3",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan [2]string, 1)
	done := make(chan int, 1)
	var logs syncWriter
	go func() {
		done <- serve(ctx, nil, func(k string) string { return env[k] }, streams{out: &logs, err: &logs}, func(a, m string) { addr <- [2]string{a, m} })
	}()
	var url, opsURL string
	select {
	case a := <-addr:
		url, opsURL = "http://"+a[0], "http://"+a[1]
	case code := <-done:
		t.Fatalf("serve exited %d before listening:\n%s", code, logs.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(opsURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	// Only POST /webhook is for the outside: no probes or metrics there.
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the webhook listener: %d, want 404", path, resp.StatusCode)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after cancel:\n%s", code, logs.String())
	}
	if s := logs.String(); strings.Contains(s, "serve-test-secret") || strings.Contains(s, "PRIVATE KEY") {
		t.Fatalf("logs leak a secret:\n%s", s)
	}
}

// TestServeRefusesMetricsOnTheWebhookAddress: a metrics address that
// overlaps the webhook's is a settings error naming the flag, before
// anything listens.
func TestServeRefusesMetricsOnTheWebhookAddress(t *testing.T) {
	env := map[string]string{"COUNTERSIGN_APP_ID": "1", "COUNTERSIGN_WEBHOOK_SECRET": "s", "COUNTERSIGN_PRIVATE_KEY": "x"}
	var out, errb syncWriter
	code := serve(context.Background(), []string{"--listen", ":8080", "--metrics-listen", "127.0.0.1:8080"}, func(k string) string { return env[k] }, streams{out: &out, err: &errb}, nil)
	if code != exitError || !strings.Contains(errb.String(), "--metrics-listen / COUNTERSIGN_METRICS_LISTEN") {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
}

// syncWriter is a bytes.Buffer safe for the server's concurrent logging.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
