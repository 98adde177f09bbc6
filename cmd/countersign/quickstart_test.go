package main

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeQuickstartAgainstTheSandbox does what README.md's "Try it
// offline" says: start the sandbox, take its settings, run doctor against
// its simulated GitHub API (which passes, branch protection included), and
// register an app through setup's manifest flow against the same API.
func TestReadmeQuickstartAgainstTheSandbox(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bin/countersign doctor --github-url http://127.0.0.1:8080/api/v3/ --repo acme/platform",
		"bin/countersign setup --github-url http://127.0.0.1:8080/api/v3/",
		"http://127.0.0.1:8080/sandbox/countersign.env",
	} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}

	var logs syncWriter
	base, _, stop := startServe(t, []string{"--sandbox", "--listen", "127.0.0.1:0"}, nil, &logs)
	defer stop()
	code, envText := get(t, base+"/sandbox/countersign.env")
	if code != http.StatusOK {
		t.Fatalf("GET /sandbox/countersign.env: %d", code)
	}
	env := readEnvFile(t, []byte(envText))
	if env["COUNTERSIGN_GITHUB_URL"] != base+"/api/v3/" {
		t.Errorf("the settings name %q as GitHub, want the sandbox's %s/api/v3/", env["COUNTERSIGN_GITHUB_URL"], base)
	}
	var out syncWriter
	code = doctorCmd(t.Context(), []string{"--github-url", base + "/api/v3/", "--repo", "acme/platform"},
		func(k string) string { return env[k] }, streams{out: &out, err: &out})
	if code != exitOK || strings.Contains(out.String(), "✗") {
		t.Errorf("doctor against the sandbox: exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"✓ credentials", "✓ branch protection", "✓ policy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor does not say %q:\n%s", want, out.String())
		}
	}

	// setup: its page posts the manifest to the sandbox's new-app page, whose
	// "Create" link returns to setup with a code setup exchanges through the API.
	var sout, serr syncWriter
	page := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- setupCmd(t.Context(), []string{"--github-url", base + "/api/v3/", "--webhook-url", base + "/webhook", "--org", "acme", "--print"},
			func(string) string { return "" }, streams{out: &sout, err: &serr}, func(u string) { page <- u })
	}()
	var u string
	select {
	case u = <-page:
	case code := <-done:
		t.Fatalf("setup exited %d: %s", code, serr.String())
	}
	_, body := get(t, u)
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(body)
	manifest := regexp.MustCompile(`name="manifest" value="([^"]*)"`).FindStringSubmatch(body)
	if action == nil || manifest == nil {
		t.Fatalf("setup's page has no manifest form:\n%s", body)
	}
	to := html.UnescapeString(action[1])
	if !strings.HasPrefix(to, base+"/organizations/acme/settings/apps/new?state=") {
		t.Fatalf("setup posts to %s, not the sandbox's new-app page", to)
	}
	resp, err := http.PostForm(to, url.Values{"manifest": {html.UnescapeString(manifest[1])}})
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = readBody(b, resp)
	create := regexp.MustCompile(`id="create" href="([^"]+)"`).FindStringSubmatch(b.String())
	if resp.StatusCode != http.StatusOK || create == nil {
		t.Fatalf("the sandbox's new-app page: %d\n%s", resp.StatusCode, b.String())
	}
	if code, body := get(t, html.UnescapeString(create[1])); code != http.StatusOK {
		t.Fatalf("returning to setup: %d\n%s", code, body)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("setup: exit %d\n%s", code, serr.String())
	}
	if got := readEnvFile(t, []byte(sout.String())); got["COUNTERSIGN_APP_ID"] != env["COUNTERSIGN_APP_ID"] || got["COUNTERSIGN_GITHUB_URL"] != base+"/api/v3/" {
		t.Errorf("setup printed %v", got)
	}
}

func readBody(b *strings.Builder, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
}
