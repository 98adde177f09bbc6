package main

import (
	"bufio"
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// readEnvFile reads KEY="value" lines as POSIX shells and systemd's
// EnvironmentFile do: inside double quotes \" \\ \$ \` are escapes and any
// other backslash is kept.
func readEnvFile(t *testing.T, b []byte) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("not KEY=value: %q", line)
		}
		if strings.HasPrefix(v, `"`) {
			if !strings.HasSuffix(v, `"`) || len(v) < 2 {
				t.Fatalf("%s: unterminated quote", k)
			}
			var out strings.Builder
			in := v[1 : len(v)-1]
			for i := 0; i < len(in); i++ {
				if in[i] == '\\' && i+1 < len(in) && strings.IndexByte("\"\\$`", in[i+1]) >= 0 {
					i++
				} else if in[i] == '"' {
					t.Fatalf("%s: unescaped quote", k)
				}
				out.WriteByte(in[i])
			}
			v = out.String()
		}
		env[k] = v
	}
	return env
}

// driveSetup runs 'countersign setup' in-process against the simulator and
// plays the browser and GitHub: fetch the page, come back with a code.
func driveSetup(t *testing.T, sim *githubsim.Sim, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	page := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- setupCmd(ctx, args, func(string) string { return "" }, streams{out: &out, err: &errb}, func(u string) { page <- u })
	}()
	var u string
	select {
	case u = <-page:
	case code := <-done:
		return code, out.String(), errb.String()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action := regexp.MustCompile(`action="([^"]+)"`).FindSubmatch(body)
	if action == nil {
		t.Fatalf("no form:\n%s", body)
	}
	au, _ := url.Parse(html.UnescapeString(string(action[1])))
	cb := u + "callback?code=" + sim.NewManifestCode() + "&state=" + url.QueryEscape(au.Query().Get("state"))
	if resp, err := http.Get(cb); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	return <-done, out.String(), errb.String()
}

func TestSetupWritesServeSettingsOwnerOnly(t *testing.T) {
	sim := githubsim.New(githubsim.Options{WebhookSecret: "setup-secret"})
	t.Cleanup(sim.Close)
	base := sim.Start()
	file := filepath.Join(t.TempDir(), "countersign.env")

	code, stdout, stderr := driveSetup(t, sim, "--webhook-url", "https://c.example.com/webhook", "--github-url", base, "--out", file)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(file)
	env := readEnvFile(t, b)
	// The file is what serve reads.
	set, err := server.LoadSettings(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("serve does not accept the written settings: %v\n", err)
	}
	if set.AppID != sim.AppID() || string(set.WebhookSecret) != "setup-secret" || !set.PrivateKey.Equal(sim.PrivateKey()) || set.GitHubURL != base {
		t.Errorf("settings: app %d, github %s, secret ok %v, key ok %v", set.AppID, set.GitHubURL,
			string(set.WebhookSecret) == "setup-secret", set.PrivateKey.Equal(sim.PrivateKey()))
	}
	if !strings.Contains(stderr, "/installations/new") {
		t.Errorf("no installation link:\n%s", stderr)
	}
	for _, secret := range []string{"setup-secret", "PRIVATE KEY"} {
		if strings.Contains(stderr+stdout, secret) {
			t.Errorf("the output shows %q", secret)
		}
	}

	// A second run refuses to overwrite, before anything is registered.
	code, _, stderr = driveSetup(t, sim, "--webhook-url", "https://c.example.com/webhook", "--github-url", base, "--out", file)
	if code != exitError || !strings.Contains(stderr, "--force") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, b) {
		t.Error("the file changed")
	}
}

func TestSetupPrint(t *testing.T) {
	sim := githubsim.New(githubsim.Options{WebhookSecret: "print-secret"})
	t.Cleanup(sim.Close)
	base := sim.Start()
	dir := t.TempDir()
	t.Chdir(dir) // where the default --out would be written
	code, stdout, stderr := driveSetup(t, sim, "--webhook-url", "https://c.example.com/webhook", "--github-url", base, "--print")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	env := readEnvFile(t, []byte(stdout))
	if env["COUNTERSIGN_WEBHOOK_SECRET"] != "print-secret" || !strings.Contains(env["COUNTERSIGN_PRIVATE_KEY"], `-----BEGIN`) {
		t.Errorf("printed settings:\n%s", stdout)
	}
	if strings.Contains(stderr, "print-secret") {
		t.Error("a secret reached standard error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--print wrote files: %v", entries)
	}
}

func TestSetupNeedsWebhookURL(t *testing.T) {
	var out, errb bytes.Buffer
	code := setupCmd(context.Background(), []string{"--print"}, func(string) string { return "" }, streams{out: &out, err: &errb}, nil)
	if code != exitError || !strings.Contains(errb.String(), "--webhook-url is required") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}
