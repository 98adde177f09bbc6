package githubsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
)

// clock is a settable time source for tests that move time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	sim    *Sim
	base   string
	inst   int64
	app    *github.Client // JWT
	client *github.Client // installation token
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func newClient(t *testing.T, base string, rt http.RoundTripper) *github.Client {
	t.Helper()
	c := github.NewClient(&http.Client{Transport: rt})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL, c.UploadURL = u, u
	return c
}

// setup starts a simulator with acme/widgets installed and clients for the app and the installation.
func setup(t *testing.T, opt Options) *fixture {
	t.Helper()
	s := New(opt)
	t.Cleanup(s.Close)
	base := s.Start()
	s.AddOrg("acme")
	s.AddRepo("acme/widgets", map[string]string{"README.md": "hello\n", "a.txt": "one\ntwo\nthree\n", "c.txt": "gone soon\n"})
	inst := s.Install("acme", "acme/widgets")

	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, s.AppID(), s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(base, "/")
	itr, err := ghinstallation.New(http.DefaultTransport, s.AppID(), inst, s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(base, "/")
	return &fixture{sim: s, base: base, inst: inst, app: newClient(t, base, atr), client: newClient(t, base, itr)}
}

// rawToken exchanges a JWT for an installation token through the REST API.
func (f *fixture) rawToken(t *testing.T, inst int64) string {
	t.Helper()
	tok, _, err := f.app.Apps.CreateInstallationToken(ctx(t), inst, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.GetToken()
}

func get(t *testing.T, u, token string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Response.StatusCode
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return rl.Response.StatusCode
	}
	var ab *github.AbuseRateLimitError
	if errors.As(err, &ab) {
		return ab.Response.StatusCode
	}
	return 0
}

func TestTokenExchangeAndAppEndpoints(t *testing.T) {
	f := setup(t, Options{AppID: 77})
	c := ctx(t)
	app, _, err := f.app.Apps.Get(c, "")
	if err != nil || app.GetID() != 77 || app.GetSlug() != "countersign" {
		t.Fatalf("GET /app = %+v, %v", app, err)
	}
	insts, _, err := f.app.Apps.ListInstallations(c, nil)
	if err != nil || len(insts) != 1 || insts[0].GetID() != f.inst || insts[0].GetAccount().GetLogin() != "acme" {
		t.Fatalf("installations = %v, %v", insts, err)
	}
	in, _, err := f.app.Apps.FindRepositoryInstallation(c, "acme", "widgets")
	if err != nil || in.GetID() != f.inst {
		t.Fatalf("repo installation = %v, %v", in, err)
	}
	tok, resp, err := f.app.Apps.CreateInstallationToken(c, f.inst, nil)
	if err != nil || resp.StatusCode != 201 || !strings.HasPrefix(tok.GetToken(), "ghs_") || tok.GetExpiresAt().Before(time.Now()) {
		t.Fatalf("token = %+v, %v", tok, err)
	}
	repo, _, err := f.client.Repositories.Get(c, "acme", "widgets")
	if err != nil || repo.GetFullName() != "acme/widgets" || repo.GetDefaultBranch() != "main" || !strings.HasSuffix(repo.GetCloneURL(), "/acme/widgets.git") {
		t.Fatalf("repo = %+v, %v", repo, err)
	}
	repos, _, err := f.client.Apps.ListRepos(c, nil)
	if err != nil || repos.GetTotalCount() != 1 {
		t.Fatalf("installation repos = %v, %v", repos, err)
	}
	// The installation token is not a JWT: /app refuses it.
	_, _, err = newClient(t, f.base, tokenRT(tok.GetToken())).Apps.Get(c, "")
	if statusOf(err) != 401 {
		t.Fatalf("GET /app with an installation token: %v", err)
	}
	var routes []string
	for _, call := range f.sim.Calls() {
		routes = append(routes, call.Method+" "+call.Route)
	}
	want := "POST /app/installations/{installation_id}/access_tokens"
	if !strings.Contains(strings.Join(routes, "\n"), want) || !strings.Contains(strings.Join(routes, "\n"), "GET /repos/{owner}/{repo}") {
		t.Fatalf("calls do not carry route templates: %v", routes)
	}
}

type tokenRT string

func (t tokenRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "token "+string(t))
	return http.DefaultTransport.RoundTrip(r)
}

func TestJWTValidation(t *testing.T) {
	f := setup(t, Options{})
	other, err := ghinstallation.NewAppsTransport(http.DefaultTransport, 999, f.sim.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	other.BaseURL = strings.TrimSuffix(f.base, "/")
	if _, _, err := newClient(t, f.base, other).Apps.Get(ctx(t), ""); statusOf(err) != 401 {
		t.Fatalf("JWT for another app id: %v", err)
	}
	resp, _ := get(t, f.base+"app", "", map[string]string{"Authorization": "Bearer not.a.jwt"})
	if resp.StatusCode != 401 {
		t.Fatalf("garbage JWT: %d", resp.StatusCode)
	}
}

func TestExpiredTokenAndWrongInstallation(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := setup(t, Options{Now: clk.Now, TokenTTL: time.Hour})
	f.sim.AddUser("bob")
	f.sim.AddRepo("bob/private", nil)
	bobInst := f.sim.Install("bob", "bob/private")

	acme := f.rawToken(t, f.inst)
	bob := f.rawToken(t, bobInst)
	if resp, _ := get(t, f.base+"repos/acme/widgets", acme, nil); resp.StatusCode != 200 {
		t.Fatalf("own repo: %d", resp.StatusCode)
	}
	if resp, body := get(t, f.base+"repos/acme/widgets", bob, nil); resp.StatusCode != 404 || !strings.Contains(string(body), `"Not Found"`) {
		t.Fatalf("repo of another installation: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, f.base+"repos/acme/widgets", "ghs_unknown", nil); resp.StatusCode != 401 {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}
	clk.Add(61 * time.Minute)
	resp, body := get(t, f.base+"repos/acme/widgets", acme, nil)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "Bad credentials") {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-RateLimit-Limit") == "" {
		t.Fatalf("401 without rate-limit headers")
	}
}

func TestUnknownEndpointIsGitHubStyle404(t *testing.T) {
	f := setup(t, Options{})
	tok := f.rawToken(t, f.inst)
	resp, body := get(t, f.base+"repos/acme/widgets/nonsense/here", tok, nil)
	var m map[string]any
	if resp.StatusCode != 404 || json.Unmarshal(body, &m) != nil || m["message"] != "Not Found" || m["documentation_url"] == nil {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, body)
	}
}

func TestPaginationLinkHeaders(t *testing.T) {
	f := setup(t, Options{})
	f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "x", Files: map[string]string{"x": "1\n"}})
	n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
	for i := 0; i < 65; i++ {
		f.sim.Comment("acme/widgets", n, "alice", fmt.Sprintf("comment %d", i))
	}
	// Raw header on a middle page.
	tok := f.rawToken(t, f.inst)
	resp, _ := get(t, f.base+"repos/acme/widgets/issues/1/comments?per_page=20&page=2", tok, nil)
	prefix := strings.TrimSuffix(f.base, "/") + "/repos/acme/widgets/issues/1/comments?"
	want := `<` + prefix + `page=1&per_page=20>; rel="prev", <` + prefix + `page=3&per_page=20>; rel="next", <` + prefix + `page=4&per_page=20>; rel="last", <` + prefix + `page=1&per_page=20>; rel="first"`
	if got := resp.Header.Get("Link"); got != want {
		t.Fatalf("Link:\n got %s\nwant %s", got, want)
	}
	// go-github walks the pages.
	var all []*github.IssueComment
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 30}}
	pages := 0
	for {
		cs, resp, err := f.client.Issues.ListComments(ctx(t), "acme", "widgets", n, opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, cs...)
		if resp.NextPage == 0 {
			if resp.PrevPage != 2 || resp.FirstPage != 1 {
				t.Fatalf("last page links: prev=%d first=%d", resp.PrevPage, resp.FirstPage)
			}
			break
		}
		opt.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 65 || all[64].GetBody() != "comment 64" {
		t.Fatalf("walked %d pages, %d comments", pages, len(all))
	}
	// per_page is capped at 100.
	cs, _, err := f.client.Issues.ListComments(ctx(t), "acme", "widgets", n, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 500}})
	if err != nil || len(cs) != 65 {
		t.Fatalf("per_page=500: %d, %v", len(cs), err)
	}
}

func TestETagNotModified(t *testing.T) {
	f := setup(t, Options{})
	tok := f.rawToken(t, f.inst)
	u := f.base + "repos/acme/widgets"
	r1, b1 := get(t, u, tok, nil)
	etag := r1.Header.Get("ETag")
	if r1.StatusCode != 200 || etag == "" {
		t.Fatalf("first GET: %d etag=%q", r1.StatusCode, etag)
	}
	r2, b2 := get(t, u, tok, map[string]string{"If-None-Match": etag})
	if r2.StatusCode != 304 || len(b2) != 0 {
		t.Fatalf("conditional GET: %d %q", r2.StatusCode, b2)
	}
	if r2.Header.Get("X-RateLimit-Remaining") != r1.Header.Get("X-RateLimit-Remaining") {
		t.Fatalf("304 was charged: %s then %s", r1.Header.Get("X-RateLimit-Remaining"), r2.Header.Get("X-RateLimit-Remaining"))
	}
	r3, _ := get(t, u, tok, nil)
	if r3.Header.Get("X-RateLimit-Used") == r1.Header.Get("X-RateLimit-Used") || r3.Header.Get("X-RateLimit-Resource") != "core" || r3.Header.Get("X-RateLimit-Limit") != "5000" {
		t.Fatalf("rate-limit headers did not move: %v", r3.Header)
	}
	// A change of state changes the ETag.
	mustPR(t, f) // open_issues_count changes
	r4, b4 := get(t, u, tok, map[string]string{"If-None-Match": etag})
	if r4.StatusCode != 200 || string(b4) == string(b1) {
		t.Fatalf("after a push: %d", r4.StatusCode)
	}
}

// GitHub's ETags are specific to the credential that read the response (a
// GitHub support answer, quoted in eclipse-csi/otterdog#201: "It's
// currently expected for ETags to be auth token specific"), so a validator
// kept from one installation token gets no 304 for another token of the
// same installation: the simulator is as strict.
func TestETagIsSpecificToTheToken(t *testing.T) {
	f := setup(t, Options{})
	tokA, tokB := f.rawToken(t, f.inst), f.rawToken(t, f.inst)
	if tokA == tokB {
		t.Fatal("two token requests gave the same token")
	}
	u := f.base + "repos/acme/widgets"
	r1, b1 := get(t, u, tokA, nil)
	etag := r1.Header.Get("ETag")
	r2, b2 := get(t, u, tokB, map[string]string{"If-None-Match": etag})
	if r2.StatusCode != 200 || string(b2) != string(b1) {
		t.Fatalf("another token's ETag: %d, want 200 with the same body", r2.StatusCode)
	}
	if r2.Header.Get("ETag") == etag {
		t.Errorf("both tokens were given the ETag %s", etag)
	}
	if r2.Header.Get("X-RateLimit-Used") == r1.Header.Get("X-RateLimit-Used") {
		t.Errorf("the 200 for another token's ETag was not charged: used %s then %s", r1.Header.Get("X-RateLimit-Used"), r2.Header.Get("X-RateLimit-Used"))
	}
	if r3, _ := get(t, u, tokA, map[string]string{"If-None-Match": etag}); r3.StatusCode != 304 {
		t.Errorf("the token's own ETag: %d, want 304", r3.StatusCode)
	}
	if r4, _ := get(t, u, "", map[string]string{"If-None-Match": etag}); r4.StatusCode == 304 {
		t.Errorf("an unauthenticated GET was given 304 for a token's ETag")
	}
}

func TestPullRequestFilesCommitsAndReviews(t *testing.T) {
	f := setup(t, Options{})
	s := f.sim
	alice := Identity{Name: "Alice", Email: "alice@example.com", Login: "alice"}
	s.Push("acme/widgets", "feature", CommitSpec{Author: alice, Message: "rename a", Rename: map[string]string{"a.txt": "b.txt"}})
	s.Push("acme/widgets", "feature", CommitSpec{Author: alice, Message: "drop c", Delete: []string{"c.txt"}})
	head := s.Push("acme/widgets", "feature", CommitSpec{Author: alice, Message: "edit", Files: map[string]string{"README.md": "hello\nworld\n", "new/d.go": "package d\n"}})
	// main moves on after the branch point; the PR diff is from the merge base.
	s.Push("acme/widgets", "main", CommitSpec{Author: alice, Message: "main work", Files: map[string]string{"main-only.txt": "m\n"}})
	n := s.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Base: "main", Title: "Feature"})

	c := ctx(t)
	pr, _, err := f.client.PullRequests.Get(c, "acme", "widgets", n)
	if err != nil || pr.GetHead().GetSHA() != head || pr.GetCommits() != 3 || pr.GetChangedFiles() != 4 || pr.GetUser().GetLogin() != "alice" {
		t.Fatalf("PR = %+v, %v", pr, err)
	}
	files, _, err := f.client.PullRequests.ListFiles(c, "acme", "widgets", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fl := range files {
		got[fl.GetFilename()] = fmt.Sprintf("%s prev=%s +%d -%d", fl.GetStatus(), fl.GetPreviousFilename(), fl.GetAdditions(), fl.GetDeletions())
	}
	want := map[string]string{
		"b.txt":     "renamed prev=a.txt +0 -0",
		"c.txt":     "removed prev= +0 -1",
		"README.md": "modified prev= +1 -0",
		"new/d.go":  "added prev= +1 -0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files:\n got %v\nwant %v", got, want)
	}
	commits, _, err := f.client.PullRequests.ListCommits(c, "acme", "widgets", n, nil)
	if err != nil || len(commits) != 3 {
		t.Fatalf("commits: %d, %v", len(commits), err)
	}
	if commits[0].GetCommit().GetMessage() != "rename a" || commits[2].GetSHA() != head || commits[0].GetAuthor().GetLogin() != "alice" {
		t.Fatalf("commit order/author: %q %q %q", commits[0].GetCommit().GetMessage(), commits[2].GetSHA(), commits[0].GetAuthor().GetLogin())
	}
	cm, _, err := f.client.Repositories.GetCommit(c, "acme", "widgets", head, nil)
	if err != nil || cm.GetStats().GetAdditions() != 2 || len(cm.Files) != 2 {
		t.Fatalf("commit = %+v, %v", cm.GetStats(), err)
	}
	cmp, _, err := f.client.Repositories.CompareCommits(c, "acme", "widgets", "main", "feature", nil)
	if err != nil || cmp.GetStatus() != "diverged" || cmp.GetAheadBy() != 3 || cmp.GetBehindBy() != 1 {
		t.Fatalf("compare = %s +%d -%d, %v", cmp.GetStatus(), cmp.GetAheadBy(), cmp.GetBehindBy(), err)
	}

	s.AddUser("bob")
	s.SetPermission("acme/widgets", "bob", "write")
	s.SubmitReview("acme/widgets", n, "bob", "REQUEST_CHANGES", "fix it")
	id := s.SubmitReview("acme/widgets", n, "bob", "APPROVE", "")
	s.SubmitReview("acme/widgets", n, "carol", "COMMENT", "hm")
	s.DismissReview("acme/widgets", n, id, "acme-admin")
	reviews, _, err := f.client.PullRequests.ListReviews(c, "acme", "widgets", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range reviews {
		states = append(states, r.GetState()+":"+r.GetUser().GetLogin()+":"+r.GetCommitID()[:7])
	}
	if want := []string{"CHANGES_REQUESTED:bob:" + head[:7], "DISMISSED:bob:" + head[:7], "COMMENTED:carol:" + head[:7]}; fmt.Sprint(states) != fmt.Sprint(want) {
		t.Fatalf("review states %v, want %v", states, want)
	}
	perm, _, err := f.client.Repositories.GetPermissionLevel(c, "acme", "widgets", "bob")
	if err != nil || perm.GetPermission() != "write" {
		t.Fatalf("permission = %v, %v", perm, err)
	}
	perm, _, err = f.client.Repositories.GetPermissionLevel(c, "acme", "widgets", "carol")
	if err != nil || perm.GetPermission() != "none" {
		t.Fatalf("permission of a non-collaborator = %v, %v", perm, err)
	}
	// Contents at the PR head.
	fc, _, _, err := f.client.Repositories.GetContents(c, "acme", "widgets", "new/d.go", &github.RepositoryContentGetOptions{Ref: head})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := fc.GetContent(); body != "package d\n" {
		t.Fatalf("contents = %q", body)
	}
	if _, _, _, err := f.client.Repositories.GetContents(c, "acme", "widgets", "c.txt", &github.RepositoryContentGetOptions{Ref: head}); statusOf(err) != 404 {
		t.Fatalf("deleted file: %v", err)
	}
}

func TestPRListingLimits(t *testing.T) {
	f := setup(t, Options{})
	files := map[string]string{}
	for i := 0; i < maxPRFiles+5; i++ {
		files[fmt.Sprintf("gen/f%04d.txt", i)] = "x\n"
	}
	f.sim.Push("acme/widgets", "big", CommitSpec{Author: Identity{Login: "alice"}, Files: files})
	n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "big", Title: "big"})
	total := 0
	opt := &github.ListOptions{PerPage: 100}
	for {
		fs, resp, err := f.client.PullRequests.ListFiles(ctx(t), "acme", "widgets", n, opt)
		if err != nil {
			t.Fatal(err)
		}
		total += len(fs)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	pr, _, err := f.client.PullRequests.Get(ctx(t), "acme", "widgets", n)
	if err != nil || total != maxPRFiles || pr.GetChangedFiles() != maxPRFiles+5 {
		t.Fatalf("listed %d files of %d (%v)", total, pr.GetChangedFiles(), err)
	}
}

func TestCheckRunValidation(t *testing.T) {
	f := setup(t, Options{})
	sha := f.sim.Head("acme/widgets", "main")
	long := strings.Repeat("x", 65536)
	s := github.String
	cases := []struct {
		name string
		opt  github.CreateCheckRunOptions
		want int
	}{
		{"ok", github.CreateCheckRunOptions{Name: "countersign", HeadSHA: sha, Status: s("in_progress")}, 201},
		{"no name", github.CreateCheckRunOptions{HeadSHA: sha}, 422},
		{"bad status", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Status: s("done")}, 422},
		{"bad conclusion", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Conclusion: s("passed")}, 422},
		{"completed without conclusion", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Status: s("completed")}, 422},
		{"unknown sha", github.CreateCheckRunOptions{Name: "c", HeadSHA: strings.Repeat("a", 40)}, 422},
		{"summary too long", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Output: &github.CheckRunOutput{Title: s("t"), Summary: s(long)}}, 422},
		{"summary at limit", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Output: &github.CheckRunOutput{Title: s("t"), Summary: s(long[1:])}}, 201},
		{"four actions", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Actions: []*github.CheckRunAction{
			{Label: "a", Description: "d", Identifier: "i"}, {Label: "b", Description: "d", Identifier: "j"},
			{Label: "c", Description: "d", Identifier: "k"}, {Label: "d", Description: "d", Identifier: "l"}}}, 422},
		{"label 21", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Actions: []*github.CheckRunAction{{Label: strings.Repeat("l", 21), Description: "d", Identifier: "i"}}}, 422},
		{"description 41", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Actions: []*github.CheckRunAction{{Label: "l", Description: strings.Repeat("d", 41), Identifier: "i"}}}, 422},
		{"identifier 21", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Actions: []*github.CheckRunAction{{Label: "l", Description: "d", Identifier: strings.Repeat("i", 21)}}}, 422},
		{"actions at limits", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, Actions: []*github.CheckRunAction{{Label: strings.Repeat("l", 20), Description: strings.Repeat("d", 40), Identifier: strings.Repeat("i", 20)}}}, 201},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", tc.opt)
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("status %v, want %d (%v)", resp, tc.want, err)
			}
			var er *github.ErrorResponse
			if tc.want == 422 && (!errors.As(err, &er) || er.Message == "") {
				t.Fatalf("422 without a GitHub error body: %v", err)
			}
		})
	}
	// Updates: conclusion completes the run; every successful write is recorded.
	cr, _, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "policy", HeadSHA: sha})
	if err != nil || cr.GetStatus() != "queued" {
		t.Fatalf("create: %v %v", cr.GetStatus(), err)
	}
	up, _, err := f.client.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "policy", Conclusion: s("failure"), Output: &github.CheckRunOutput{Title: s("1 problem"), Summary: s("details")}})
	if err != nil || up.GetStatus() != "completed" || up.GetCompletedAt().IsZero() {
		t.Fatalf("update: %+v %v", up, err)
	}
	writes := f.sim.CheckRunWrites()
	last := writes[len(writes)-1]
	if last.Method != "PATCH" || last.Conclusion != "failure" || last.Title != "1 problem" || last.ID != cr.GetID() {
		t.Fatalf("last write = %+v", last)
	}
	for _, w := range writes {
		if w.Name == "no name" {
			t.Fatalf("a rejected write was recorded")
		}
	}
	res, _, err := f.client.Checks.ListCheckRunsForRef(ctx(t), "acme", "widgets", sha, &github.ListCheckRunsOptions{CheckName: s("policy")})
	if err != nil || res.GetTotal() != 1 || res.CheckRuns[0].GetConclusion() != "failure" {
		t.Fatalf("list for ref: %+v %v", res, err)
	}
	if got := f.sim.LatestCheckRun("acme/widgets", sha, "policy"); got.GetConclusion() != "failure" {
		t.Fatalf("LatestCheckRun = %v", got)
	}
}

// TestCompletedCheckRunIsImmutable: as on GitHub (taking the strict reading),
// a completed check run's status and conclusion cannot change; its output
// still can. Integrators create a new run instead.
func TestCompletedCheckRunIsImmutable(t *testing.T) {
	f := setup(t, Options{})
	sha := f.sim.Head("acme/widgets", "main")
	s := github.String
	out := func(title string) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: s(title), Summary: s("summary")}
	}
	cr, _, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "countersign", HeadSHA: sha, Status: s("completed"), Conclusion: s("success"), Output: out("passed")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  github.UpdateCheckRunOptions
		want int
	}{
		{"back to in_progress", github.UpdateCheckRunOptions{Name: "countersign", Status: s("in_progress"), Output: out("again")}, 422},
		{"back to queued", github.UpdateCheckRunOptions{Name: "countersign", Status: s("queued")}, 422},
		{"another conclusion", github.UpdateCheckRunOptions{Name: "countersign", Conclusion: s("action_required"), DetailsURL: s("https://example.com/x")}, 422},
		{"another conclusion, completed", github.UpdateCheckRunOptions{Name: "countersign", Status: s("completed"), Conclusion: s("failure")}, 422},
		{"same conclusion, new output", github.UpdateCheckRunOptions{Name: "countersign", Status: s("completed"), Conclusion: s("success"), Output: out("still passed")}, 200},
		{"output only", github.UpdateCheckRunOptions{Name: "countersign", Output: out("passed, reworded")}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := f.client.Checks.UpdateCheckRun(ctx(t), "acme", "widgets", cr.GetID(), tc.opt)
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("status %v, want %d (%v)", resp, tc.want, err)
			}
			got := f.sim.LatestCheckRun("acme/widgets", sha, "countersign")
			if got.GetStatus() != "completed" || got.GetConclusion() != "success" {
				t.Fatalf("the run is now %s/%s, want completed/success", got.GetStatus(), got.GetConclusion())
			}
		})
	}
	if got := f.sim.LatestCheckRun("acme/widgets", sha, "countersign"); got.GetOutput().GetTitle() != "passed, reworded" {
		t.Errorf("output not updated: %q", got.GetOutput().GetTitle())
	}
	// A new run of the same name is what changes the verdict GitHub shows.
	if _, _, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "countersign", HeadSHA: sha, Conclusion: s("action_required"), DetailsURL: s("https://example.com/x"), Output: out("withdrawn")}); err != nil {
		t.Fatal(err)
	}
	if got := f.sim.LatestCheckRun("acme/widgets", sha, "countersign"); got.GetConclusion() != "action_required" {
		t.Errorf("latest run is %s, want action_required", got.GetConclusion())
	}
}
