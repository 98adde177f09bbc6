package setup_test

import (
	"context"
	"encoding/json"
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

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/setup"
)

var (
	actionRe   = regexp.MustCompile(`<form id="register" action="([^"]+)" method="post">`)
	manifestRe = regexp.MustCompile(`<input type="hidden" name="manifest" value="([^"]+)">`)
)

// form fetches the local page and returns the form's action and the manifest it posts.
func form(t *testing.T, pageURL string) (*url.URL, *appmanifest.Manifest) {
	t.Helper()
	resp, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("page: %d %s", resp.StatusCode, body)
	}
	a, m := actionRe.FindSubmatch(body), manifestRe.FindSubmatch(body)
	if a == nil || m == nil {
		t.Fatalf("no registration form on the page:\n%s", body)
	}
	action, err := url.Parse(html.UnescapeString(string(a[1])))
	if err != nil {
		t.Fatal(err)
	}
	var man appmanifest.Manifest
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &man); err != nil {
		t.Fatalf("the manifest field is not JSON: %v", err)
	}
	return action, &man
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

func TestManifestFlowAgainstTheSimulator(t *testing.T) {
	sim := githubsim.New(githubsim.Options{WebhookSecret: "sim-hook-secret"})
	t.Cleanup(sim.Close)
	base := sim.Start()

	f, err := setup.New(setup.Options{WebhookURL: "https://countersign.example.com/webhook", Org: "acme", GitHubURL: base})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if u, _ := url.Parse(f.URL()); u.Hostname() != "127.0.0.1" {
		t.Fatalf("the page is served on %s, not loopback", f.URL())
	}

	action, man := form(t, f.URL())
	web, _ := setup.WebURL(base)
	if got := action.Scheme + "://" + action.Host + action.Path; got != web+"organizations/acme/settings/apps/new" {
		t.Errorf("form posts to %s, want the organization's new-app page", got)
	}
	state := action.Query().Get("state")
	if len(state) < 32 {
		t.Errorf("state %q is too short to be unguessable", state)
	}
	if man.HookAttributes.URL != "https://countersign.example.com/webhook" || !man.HookAttributes.Active {
		t.Errorf("hook_attributes %+v", man.HookAttributes)
	}
	if man.RedirectURL != f.URL()+"callback" {
		t.Errorf("redirect_url %q, want back to the local page %q", man.RedirectURL, f.URL()+"callback")
	}
	def, _ := appmanifest.Default()
	if man.Name != def.Name || len(man.DefaultEvents) != len(def.DefaultEvents) || man.DefaultPermissions["checks"] != "write" {
		t.Errorf("the posted manifest is not app.yml's: %+v", man)
	}

	// Anyone else coming back (no or wrong state) is refused, and the flow goes on.
	code := sim.NewManifestCode()
	if st, _ := get(t, man.RedirectURL+"?code="+code+"&state=forged"); st != http.StatusBadRequest {
		t.Errorf("a wrong state was answered %d", st)
	}
	if st, _ := get(t, man.RedirectURL+"?code="+code); st != http.StatusBadRequest {
		t.Errorf("a missing state was answered %d", st)
	}

	// GitHub redirects back with the code.
	st, body := get(t, man.RedirectURL+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state))
	if st != 200 || !strings.Contains(body, "/installations/new") {
		t.Fatalf("callback: %d %s", st, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := f.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.AppID != sim.AppID() || c.PrivateKeyPEM != string(sim.PrivateKeyPEM()) || c.WebhookSecret != "sim-hook-secret" {
		t.Errorf("credentials: id %d (want %d), key matches %v, secret matches %v", c.AppID, sim.AppID(),
			c.PrivateKeyPEM == string(sim.PrivateKeyPEM()), c.WebhookSecret == "sim-hook-secret")
	}
	if !strings.HasSuffix(c.InstallURL(), "/apps/countersign/installations/new") {
		t.Errorf("install URL %q", c.InstallURL())
	}
	for _, s := range []string{c.PrivateKeyPEM, c.WebhookSecret, code} {
		if strings.Contains(body, s) {
			t.Error("the done page shows a secret or the code")
		}
	}
	// The code is single-use, and the flow is over.
	if st, _ := get(t, man.RedirectURL+"?code="+code+"&state="+state); st != http.StatusGone {
		t.Errorf("a second callback was answered %d, want 410", st)
	}
}

func TestFailedExchangeEndsTheFlowWithoutTheCode(t *testing.T) {
	sim := githubsim.New(githubsim.Options{})
	t.Cleanup(sim.Close)
	f, err := setup.New(setup.Options{WebhookURL: "https://c.example.com/webhook", GitHubURL: sim.Start()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	action, man := form(t, f.URL())
	if !strings.HasSuffix(action.Path, "/settings/apps/new") || strings.Contains(action.Path, "organizations") {
		t.Errorf("without --org the form posts to %s, want the user's new-app page", action.Path)
	}
	const code = "expired-code-1234"
	if st, _ := get(t, man.RedirectURL+"?code="+code+"&state="+action.Query().Get("state")); st != http.StatusBadGateway {
		t.Errorf("unknown code answered %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = f.Wait(ctx)
	if err == nil || strings.Contains(err.Error(), code) || !strings.Contains(err.Error(), "404") {
		t.Errorf("error %v: want the 404, never the code", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    setup.Options
		want string
	}{
		{"no webhook", setup.Options{}, "--webhook-url is required"},
		{"relative webhook", setup.Options{WebhookURL: "/webhook"}, "--webhook-url"},
		{"public listen", setup.Options{WebhookURL: "https://e.test/w", Listen: "0.0.0.0:0"}, "not a loopback"},
		{"bad org", setup.Options{WebhookURL: "https://e.test/w", Org: "a/b"}, "--org"},
		{"bad github", setup.Options{WebhookURL: "https://e.test/w", GitHubURL: "ftp://x"}, "--github-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := setup.New(tc.o)
			if err == nil {
				f.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/":         "https://github.com/",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/",
		"https://api.acme.ghe.com/":       "https://acme.ghe.com/",
		"http://127.0.0.1:8080/":          "http://127.0.0.1:8080/",
	} {
		if got, err := setup.WebURL(in); err != nil || got != want {
			t.Errorf("WebURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestWriteFileIsOwnerOnlyAndRefusesToOverwrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "countersign.env")
	if err := setup.WriteFile(p, []byte("A=1\n"), false); err != nil {
		t.Fatal(err)
	}
	if err := setup.WriteFile(p, []byte("A=2\n"), false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("overwrote without --force: %v", err)
	}
	os.Chmod(p, 0o644)
	if err := setup.WriteFile(p, []byte("A=3\n"), true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after a forced write, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(p); string(b) != "A=3\n" {
		t.Errorf("content %q", b)
	}
}
