package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	keyPEM  []byte
	keyErr  error
)

// testKeyPEM returns a PKCS #1 RSA key, generated once per test binary.
func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			keyErr = err
			return
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyPEM
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSettingsDefaultsAndPrecedence(t *testing.T) {
	key := testKeyPEM(t)
	keyFile := writeFile(t, "key.pem", key)
	secretFile := writeFile(t, "secret", []byte("from-file\n"))
	s, err := LoadSettings(
		[]string{"--app-id", "42", "--private-key-file", keyFile, "--github-url", "https://ghe.example.com/api/v3"},
		mapEnv(map[string]string{"COUNTERSIGN_APP_ID": "7", "COUNTERSIGN_WEBHOOK_SECRET_FILE": secretFile}))
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != 42 {
		t.Errorf("AppID = %d: the flag wins over the environment", s.AppID)
	}
	if string(s.WebhookSecret) != "from-file" {
		t.Errorf("WebhookSecret = %q: a secret file's trailing newline is trimmed", s.WebhookSecret)
	}
	if s.GitHubURL != "https://ghe.example.com/api/v3/" {
		t.Errorf("GitHubURL = %q, want a trailing slash", s.GitHubURL)
	}
	if s.PrivateKey == nil || string(s.PrivateKeyPEM) != string(key) {
		t.Error("private key not loaded")
	}
	if s.Listen != ":8080" || s.Workers != 4 || s.QueueSize != 1000 || s.LogLevel != slog.LevelInfo ||
		s.LogFormat != "json" || s.DrainTimeout != 30*time.Second || s.PublicURL != "" || s.MetricsListen != "127.0.0.1:9090" {
		t.Errorf("defaults: %+v", s)
	}

	s, err = LoadSettings(nil, mapEnv(map[string]string{
		"COUNTERSIGN_APP_ID": "7", "COUNTERSIGN_PRIVATE_KEY": strings.ReplaceAll(string(key), "\n", `\n`),
		"COUNTERSIGN_WEBHOOK_SECRET": "env-secret", "COUNTERSIGN_LISTEN": "127.0.0.1:9000",
		"COUNTERSIGN_METRICS_LISTEN": ":9100",
		"COUNTERSIGN_PUBLIC_URL":     "https://countersign.example.com", "COUNTERSIGN_WORKERS": "16",
		"COUNTERSIGN_LOG_LEVEL": "DEBUG", "COUNTERSIGN_LOG_FORMAT": "text", "COUNTERSIGN_DRAIN_TIMEOUT": "2m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != 7 || s.PrivateKey == nil || string(s.WebhookSecret) != "env-secret" || s.Listen != "127.0.0.1:9000" || s.MetricsListen != ":9100" ||
		s.PublicURL != "https://countersign.example.com/" || s.Workers != 16 || s.LogLevel != slog.LevelDebug ||
		s.LogFormat != "text" || s.DrainTimeout != 2*time.Minute || s.GitHubURL != DefaultGitHubURL {
		t.Errorf("from the environment: %+v", s)
	}
}

func TestLoadSettingsErrors(t *testing.T) {
	key := testKeyPEM(t)
	keyFile := writeFile(t, "key.pem", key)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecFile := writeFile(t, "ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	certFile := writeFile(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}))
	badRSA := writeFile(t, "bad.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("not der")}))
	emptySecret := writeFile(t, "empty", []byte("\n"))
	good := map[string]string{
		"COUNTERSIGN_APP_ID":           "1",
		"COUNTERSIGN_PRIVATE_KEY_FILE": keyFile,
		"COUNTERSIGN_WEBHOOK_SECRET":   "s",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // every one must appear in the error
	}{
		{"no app id", nil, with("COUNTERSIGN_APP_ID", ""), []string{"--app-id", "COUNTERSIGN_APP_ID", "required"}},
		{"app id not a number", nil, with("COUNTERSIGN_APP_ID", "abc"), []string{"--app-id", "COUNTERSIGN_APP_ID", `"abc"`}},
		{"app id zero", []string{"--app-id=0"}, good, []string{"--app-id", "positive"}},
		{"no private key", nil, with("COUNTERSIGN_PRIVATE_KEY_FILE", ""), []string{"--private-key-file", "COUNTERSIGN_PRIVATE_KEY_FILE", "COUNTERSIGN_PRIVATE_KEY", "required"}},
		{"key file and key", nil, with("COUNTERSIGN_PRIVATE_KEY", string(key)), []string{"COUNTERSIGN_PRIVATE_KEY", "not both"}},
		{"key file missing", []string{"--private-key-file", "/nonexistent/key.pem"}, good, []string{"--private-key-file", "COUNTERSIGN_PRIVATE_KEY_FILE", "reading"}},
		{"key not PEM", nil, with("COUNTERSIGN_PRIVATE_KEY_FILE", "", "COUNTERSIGN_PRIVATE_KEY", "hello"), []string{"COUNTERSIGN_PRIVATE_KEY", "not a PEM"}},
		{"key is EC", []string{"--private-key-file", ecFile}, good, []string{"--private-key-file", "not RSA"}},
		{"key is a certificate", []string{"--private-key-file", certFile}, good, []string{"--private-key-file", "CERTIFICATE"}},
		{"key malformed", []string{"--private-key-file", badRSA}, good, []string{"--private-key-file", "malformed"}},
		{"no secret", nil, with("COUNTERSIGN_WEBHOOK_SECRET", ""), []string{"--webhook-secret", "COUNTERSIGN_WEBHOOK_SECRET", "--webhook-secret-file", "COUNTERSIGN_WEBHOOK_SECRET_FILE", "required"}},
		{"secret and secret file", nil, with("COUNTERSIGN_WEBHOOK_SECRET_FILE", emptySecret), []string{"--webhook-secret", "not both"}},
		{"empty secret flag", []string{"--webhook-secret="}, with("COUNTERSIGN_WEBHOOK_SECRET", ""), []string{"--webhook-secret", "COUNTERSIGN_WEBHOOK_SECRET", "empty"}},
		{"empty secret file", nil, with("COUNTERSIGN_WEBHOOK_SECRET", "", "COUNTERSIGN_WEBHOOK_SECRET_FILE", emptySecret), []string{"--webhook-secret-file", "COUNTERSIGN_WEBHOOK_SECRET_FILE", "empty"}},
		{"secret file missing", []string{"--webhook-secret-file", "/nonexistent"}, with("COUNTERSIGN_WEBHOOK_SECRET", ""), []string{"--webhook-secret-file", "reading"}},
		{"github url relative", []string{"--github-url", "api.github.com"}, good, []string{"--github-url", "COUNTERSIGN_GITHUB_URL", "absolute"}},
		{"github url ftp", nil, with("COUNTERSIGN_GITHUB_URL", "ftp://ghe/api/v3/"), []string{"--github-url", "absolute http(s)"}},
		{"github url with credentials", nil, with("COUNTERSIGN_GITHUB_URL", "https://user:hunter2@ghe/api/v3/"), []string{"--github-url", "credentials"}},
		{"github url with query", nil, with("COUNTERSIGN_GITHUB_URL", "https://ghe/api/v3/?x=1"), []string{"--github-url", "query"}},
		{"listen without port", []string{"--listen", "localhost"}, good, []string{"--listen", "COUNTERSIGN_LISTEN", "host:port"}},
		{"listen bad port", nil, with("COUNTERSIGN_LISTEN", ":http-ish"), []string{"--listen", "port"}},
		{"metrics listen without port", []string{"--metrics-listen", "localhost"}, good, []string{"--metrics-listen", "COUNTERSIGN_METRICS_LISTEN", "host:port"}},
		{"metrics listen is the webhook listener", []string{"--listen", "127.0.0.1:8080", "--metrics-listen", "127.0.0.1:8080"}, good, []string{"--metrics-listen", "COUNTERSIGN_METRICS_LISTEN", "--listen", "separate"}},
		{"metrics listen overlaps the webhook listener", nil, with("COUNTERSIGN_LISTEN", ":9090"), []string{"--metrics-listen", "127.0.0.1:9090", "--listen", `":9090"`}},
		{"metrics listen on every interface and the webhook port", []string{"--metrics-listen", "0.0.0.0:8080"}, good, []string{"--metrics-listen", "--listen"}},
		{"public url relative", nil, with("COUNTERSIGN_PUBLIC_URL", "/countersign"), []string{"--public-url", "COUNTERSIGN_PUBLIC_URL"}},
		{"workers zero", []string{"--workers", "0"}, good, []string{"--workers", "COUNTERSIGN_WORKERS"}},
		{"workers not a number", nil, with("COUNTERSIGN_WORKERS", "many"), []string{"--workers", `"many"`}},
		{"queue size negative", []string{"--queue-size=-1"}, good, []string{"--queue-size", "COUNTERSIGN_QUEUE_SIZE"}},
		{"log level", nil, with("COUNTERSIGN_LOG_LEVEL", "verbose"), []string{"--log-level", "COUNTERSIGN_LOG_LEVEL", "debug, info, warn, error"}},
		{"log format", []string{"--log-format", "xml"}, good, []string{"--log-format", "COUNTERSIGN_LOG_FORMAT", "json or text"}},
		{"drain timeout", nil, with("COUNTERSIGN_DRAIN_TIMEOUT", "soon"), []string{"--drain-timeout", "COUNTERSIGN_DRAIN_TIMEOUT"}},
		{"drain timeout zero", []string{"--drain-timeout", "0s"}, good, []string{"--drain-timeout", "positive"}},
		{"unknown flag", []string{"--app-idd", "1"}, good, []string{"app-idd"}},
		{"stray argument", []string{"extra"}, good, []string{`"extra"`}},
		{"several at once", nil, map[string]string{}, []string{"--app-id", "--private-key-file", "--webhook-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadSettings(tt.args, mapEnv(tt.env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), string(key[40:80])) {
				t.Errorf("error %q leaks a secret", err)
			}
		})
	}
}

func TestLoadSettingsHelp(t *testing.T) {
	if _, err := LoadSettings([]string{"-h"}, mapEnv(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	var b strings.Builder
	SettingsUsage(&b)
	for _, st := range settingsTable {
		if !strings.Contains(b.String(), "--"+st.flag) || !strings.Contains(b.String(), st.env) {
			t.Errorf("usage lacks %s / %s", st.flag, st.env)
		}
	}
}

func TestSettingsLogValueRedacts(t *testing.T) {
	key := testKeyPEM(t)
	s, err := LoadSettings(nil, mapEnv(map[string]string{
		"COUNTERSIGN_APP_ID": "1", "COUNTERSIGN_PRIVATE_KEY": string(key), "COUNTERSIGN_WEBHOOK_SECRET": "topsecret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s.NewLogger(&b).Info("settings", "settings", s)
	if out := b.String(); strings.Contains(out, "topsecret") || strings.Contains(out, "PRIVATE KEY") || !strings.Contains(out, `"app_id":1`) {
		t.Fatalf("logged settings: %s", out)
	}
}
