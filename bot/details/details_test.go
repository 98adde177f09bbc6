package details

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

const (
	webhookSecret = "whsec-0123456789abcdef-do-not-show"
	head          = "5d6e7f8a9b0c1d2e3f405162738495a6b7c8d9e0"
	otherHead     = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
	policySHA     = "abcdef0123456789abcdef0123456789abcdef01"
	policyYAML    = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/sre]
`
)

// verdict evaluates a Claude Code PR (opened by claude[bot], operator dave)
// changing Terraform, approved by bob (write, not in acme/sre), carol (read),
// dave (the operator) and alice (acme/sre).
func verdict(t *testing.T) *checks.Verdict {
	t.Helper()
	p, err := config.Parse(".github/countersign.yml", []byte(policyYAML))
	if err != nil {
		t.Fatal(err)
	}
	p.Source = config.Source{Repo: "acme/platform", Path: ".github/countersign.yml", Ref: "main", SHA: policySHA}
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rv := func(id int64, login string) checks.Review {
		return checks.Review{ID: id, Login: login, UserType: "User", State: checks.ReviewApproved, CommitSHA: head,
			SubmittedAt: at.Add(time.Duration(id) * time.Minute), Source: checks.SourceReview}
	}
	f := &checks.Facts{
		Repo: "acme/platform",
		PR: checks.PullRequest{
			PullRequest: detect.PullRequest{Number: 7, AuthorLogin: "claude[bot]", AuthorType: "Bot", AuthorID: 209825114,
				HeadRef: "claude/resize-nodes", Title: "Resize the node pool",
				Body: "Resize.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"},
			HeadSHA: head, BaseRef: "main", BaseSHA: otherHead,
		},
		Commits: []detect.Commit{{
			SHA: head, AuthorName: "Dave", AuthorEmail: "dave@acme.test", AuthorLogin: "dave",
			CommitterName: "Dave", CommitterEmail: "dave@acme.test", CommitterLogin: "dave",
			Message: "Resize the node pool\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
			Parents: 1,
		}},
		Files:   []checks.File{{Path: "infra/gke.tf", Status: checks.StatusModified, Additions: 2, Deletions: 2}},
		Reviews: []checks.Review{rv(1, "bob"), rv(2, "carol"), rv(3, "dave"), rv(4, "alice")},
		Reviewers: map[string]checks.Reviewer{
			"alice": {Login: "alice", Permission: "write", Teams: []string{"acme/sre"}, Type: "User"},
			"bob":   {Login: "bob", Permission: "write", Type: "User"},
			"carol": {Login: "carol", Permission: "read", Type: "User"},
			"dave":  {Login: "dave", Permission: "write", Type: "User"},
		},
	}
	v := checks.Evaluate(p, f)
	v.Repo, v.Number, v.HeadSHA = "acme/platform", 7, head
	return v
}

type fixture struct {
	signer *Signer
	store  *Store
	srv    *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{signer: NewSigner([]byte(webhookSecret)), store: NewStore(10)}
	mux := http.NewServeMux()
	mux.Handle(Pattern, Handler(Options{Signer: fx.signer, Store: fx.store, PRURL: PRURLUnder("https://github.example/")}))
	fx.srv = httptest.NewServer(mux)
	t.Cleanup(fx.srv.Close)
	return fx
}

func (fx *fixture) get(t *testing.T, path, token string) (int, string, http.Header) {
	t.Helper()
	u := fx.srv.URL + path
	if token != "" {
		u += "?token=" + url.QueryEscape(token)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestTokenIsBoundToRepoNumberAndHead(t *testing.T) {
	fx := newFixture(t)
	fx.store.Put("acme", "platform", 7, head, verdict(t))
	fx.store.Put("acme", "platform", 8, head, verdict(t))
	fx.store.Put("acme", "platform", 7, otherHead, verdict(t))
	good := fx.signer.Token("acme", "platform", 7, head)
	path := "/details/acme/platform/7/" + head
	_, notFoundBody, _ := fx.get(t, "/details/nothing/here", "")

	if code, body, _ := fx.get(t, path, good); code != http.StatusOK || !strings.Contains(body, "action_required") {
		t.Fatalf("valid token: %d\n%s", code, body)
	}
	// The owner and repository are case-insensitive on GitHub.
	if code, _, _ := fx.get(t, "/details/ACME/Platform/7/"+head, good); code != http.StatusOK {
		t.Errorf("valid token, other case: %d", code)
	}
	tampered := []byte(good)
	tampered[5] ^= 1
	cases := []struct{ name, path, token string }{
		{"missing token", path, ""},
		{"wrong PR number", "/details/acme/platform/8/" + head, good},
		{"wrong head SHA", "/details/acme/platform/7/" + otherHead, good},
		{"wrong repository", "/details/acme/other/7/" + head, good},
		{"tampered token", path, string(tampered)},
		{"truncated token", path, good[:len(good)-2]},
		{"token of another PR", path, fx.signer.Token("acme", "platform", 8, head)},
		{"token from another secret", path, NewSigner([]byte("other-secret")).Token("acme", "platform", 7, head)},
		{"the webhook secret itself", path, webhookSecret},
		{"malformed number", "/details/acme/platform/07/" + head, fx.signer.Token("acme", "platform", 7, head)},
		{"short SHA", "/details/acme/platform/7/" + head[:7], fx.signer.Token("acme", "platform", 7, head[:7])},
	}
	for _, c := range cases {
		code, body, _ := fx.get(t, c.path, c.token)
		if code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", c.name, code)
		}
		if body != notFoundBody {
			t.Errorf("%s: the 404 differs from an unknown path's, so it reveals something:\n%q\n%q", c.name, body, notFoundBody)
		}
	}
}

func TestPageShowsTheVerdict(t *testing.T) {
	fx := newFixture(t)
	v := verdict(t)
	fx.store.Put("acme", "platform", 7, head, v)
	code, body, hdr := fx.get(t, "/details/acme/platform/7/"+head, fx.signer.Token("acme", "platform", 7, head))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if v.Conclusion != checks.Success {
		t.Fatalf("fixture: alice's approval should satisfy both requirements: %s %q", v.Conclusion, v.Title)
	}
	want := []struct{ what, text string }{
		{"the conclusion", `id="conclusion">✓ success`},
		{"the PR link", `href="https://github.example/acme/platform/pull/7"`},
		{"the head", "5d6e7f8"},
		{"the agent requirement", "agent-review"},
		{"the terraform requirement", "path:terraform"},
		{"the terraform approver", `<dd class="satisfied">@alice</dd>`},
		{"the agent-review approvers", `<dd class="satisfied">@alice, @bob</dd>`},
		{"the agent-review count", "<dd>2 given, 1 needed</dd>"},
		{"who can approve", "@acme/sre with write permission"},
		{"the protected file by rule", "<strong>terraform</strong> (1)</p><ul><li><code>infra/gke.tf</code>"},
		{"the operator", `<span class="operator">@dave</span>`},
		{"the agent", "agent claude-code"},
		{"the signal", "trailer: Co-Authored-By: Claude &lt;noreply@anthropic.com&gt; (strong)"},
		{"carol excluded", "<td data-label=\"Who\">@carol</td>"},
		{"carol's permission", "repository permission below the minimum"},
		{"the operator's approval", "ran the agent that wrote it"},
		{"the policy file", "acme/platform:.github/countersign.yml at main, commit <code>" + policySHA + "</code>"},
	}
	for _, w := range want {
		if !strings.Contains(body, w.text) {
			t.Errorf("the page does not show %s (%q)", w.what, w.text)
		}
	}
	if strings.Contains(body, webhookSecret) || strings.Contains(body, string(NewSigner([]byte(webhookSecret)).key)) {
		t.Error("the page shows the webhook secret or the derived key")
	}
	if strings.Contains(body, "<script") {
		t.Error("the page has a script")
	}
	for k, v := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if hdr.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, hdr.Get(k), v)
		}
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", hdr.Get("Content-Security-Policy"))
	}
}

func TestPageEscapesWhatUsersWrote(t *testing.T) {
	fx := newFixture(t)
	v := verdict(t)
	v.Commits[0].Subject = `<img src=x onerror=alert(1)>`
	v.Title = `"><script>alert(1)</script>`
	fx.store.Put("acme", "platform", 7, head, v)
	_, body, _ := fx.get(t, "/details/acme/platform/7/"+head, fx.signer.Token("acme", "platform", 7, head))
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Errorf("user text is not escaped:\n%s", body)
	}
}

func TestUnknownVerdictLinksThePR(t *testing.T) {
	fx := newFixture(t)
	code, body, _ := fx.get(t, "/details/acme/platform/7/"+head, fx.signer.Token("acme", "platform", 7, head))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, s := range []string{"not available here", `href="https://github.example/acme/platform/pull/7"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the page does not say %q:\n%s", s, body)
		}
	}
	if strings.Contains(body, "Requirements") {
		t.Error("the page shows a verdict it does not have")
	}
}

func TestStoreKeepsTheLatestAndIsBounded(t *testing.T) {
	s := NewStore(2)
	v := verdict(t)
	s.Put("acme", "platform", 1, head, v)
	v2 := verdict(t)
	v2.Title = "second"
	s.Put("acme", "platform", 1, head, v2)
	if e, ok := s.Get("ACME", "platform", 1, head); !ok || e.Verdict.Title != "second" {
		t.Fatalf("latest not kept: %v %+v", ok, e)
	}
	v2.Title = "changed after publishing"
	if e, _ := s.Get("acme", "platform", 1, head); e.Verdict.Title != "second" {
		t.Error("the store shares the caller's verdict")
	}
	s.Put("acme", "platform", 2, head, v)
	s.Put("acme", "platform", 3, head, v)
	if s.Len() != 2 {
		t.Errorf("%d entries, want 2", s.Len())
	}
	if _, ok := s.Get("acme", "platform", 1, head); ok {
		t.Error("the oldest entry was not evicted")
	}
	if _, ok := s.Get("acme", "platform", 3, head); !ok {
		t.Error("the newest entry is missing")
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/":         "https://github.com/",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/",
		"http://127.0.0.1:4000/":          "http://127.0.0.1:4000/",
	} {
		if got := WebURL(in); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPageSaysHowManyOwnersAFileWaitsFor: a file waiting for code owners is
// listed as having none; while an operator is unresolved a file needs two
// different owners, so it may wait with one already, and the page says so.
func TestPageSaysHowManyOwnersAFileWaitsFor(t *testing.T) {
	fx := newFixture(t)
	v := verdict(t)
	v.Requirements[len(v.Requirements)-1].Uncovered = []string{"infra/gke.tf"}
	fx.store.Put("acme", "platform", 7, head, v)
	tok := fx.signer.Token("acme", "platform", 7, head)
	_, body, _ := fx.get(t, "/details/acme/platform/7/"+head, tok)
	if want := "<dt>No code owner yet</dt><dd><code>infra/gke.tf</code></dd>"; !strings.Contains(body, want) {
		t.Errorf("the page does not show %q", want)
	}
	v.UnresolvedOperators = []detect.Identity{{Name: "Alice", Email: "alice@acme.example"}}
	fx.store.Put("acme", "platform", 7, head, v)
	_, body, _ = fx.get(t, "/details/acme/platform/7/"+head, tok)
	if want := "<dt>Fewer than 2 code owners yet</dt><dd><code>infra/gke.tf</code></dd>"; !strings.Contains(body, want) {
		t.Errorf("the page does not show %q", want)
	}
}
