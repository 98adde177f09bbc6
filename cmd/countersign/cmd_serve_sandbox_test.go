package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/details"
)

// startServe runs serve in the background and returns its base URL, the
// metrics listener's address ("" when there is none) and a stop func giving
// the exit code.
func startServe(t *testing.T, args []string, env map[string]string, logs *syncWriter) (string, string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan [2]string, 1)
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, args, func(k string) string { return env[k] }, streams{out: logs, err: logs}, func(a, m string) { addr <- [2]string{a, m} })
	}()
	select {
	case a := <-addr:
		return "http://" + a[0], a[1], func() int { cancel(); return <-done }
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before listening:\n%s", code, logs.String())
		return "", "", nil
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeSandboxNeedsNoCredentials(t *testing.T) {
	var logs syncWriter
	// Even with an app id in the environment, --sandbox reads no credentials.
	base, metrics, stop := startServe(t, []string{"--sandbox", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"}, map[string]string{"COUNTERSIGN_APP_ID": "12345"}, &logs)
	if !strings.Contains(logs.String(), "Countersign sandbox: open "+base+"/") {
		t.Errorf("the sandbox does not print its URL:\n%s", logs.String())
	}
	code, body := get(t, base+"/")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d", code)
	}
	for _, want := range []string{"#1 Resize the general node pool", "#2 Document the on-call rotation", "#3 Pin CI actions", "#4 Bump golang.org/x/net", `data-check="success"`, `data-check="action_required"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the sandbox page lacks %q", want)
		}
	}
	if code, _ := get(t, "http://"+metrics+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz on --metrics-listen: %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusNotFound {
		t.Errorf("/readyz on the sandbox's page listener: %d, want 404", code)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, logs.String())
	}
}

func TestServeSandboxRefusesServerSettings(t *testing.T) {
	var out, errb syncWriter
	code := serve(context.Background(), []string{"--sandbox", "--app-id", "1"}, func(string) string { return "" }, streams{out: &out, err: &errb}, nil)
	if code != exitError || !strings.Contains(errb.String(), "app-id") {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
}

func TestServeServesTheDetailsPage(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "details-serve-secret"
	env := map[string]string{
		"COUNTERSIGN_APP_ID":         "1",
		"COUNTERSIGN_PRIVATE_KEY":    string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		"COUNTERSIGN_WEBHOOK_SECRET": secret,
		"COUNTERSIGN_LISTEN":         "127.0.0.1:0",
		"COUNTERSIGN_METRICS_LISTEN": "127.0.0.1:0",
		"COUNTERSIGN_GITHUB_URL":     "https://ghe.example.com/api/v3/",
		"COUNTERSIGN_PUBLIC_URL":     "https://countersign.example.com/",
	}
	var logs syncWriter
	base, _, stop := startServe(t, nil, env, &logs)
	defer stop()
	const head = "5d6e7f8a9b0c1d2e3f405162738495a6b7c8d9e0"
	path := base + "/details/acme/platform/7/" + head + "?token="
	if code, _ := get(t, path+"wrong"); code != http.StatusNotFound {
		t.Errorf("a wrong token: %d", code)
	}
	// The key is derived from the webhook secret; nothing was evaluated since the start.
	code, body := get(t, path+details.NewSigner([]byte(secret)).Token("acme", "platform", 7, head))
	if code != http.StatusOK || !strings.Contains(body, "not available here") || !strings.Contains(body, `href="https://ghe.example.com/acme/platform/pull/7"`) {
		t.Errorf("details page: %d\n%s", code, body)
	}
	if strings.Contains(body, secret) {
		t.Error("the page shows the webhook secret")
	}
}
