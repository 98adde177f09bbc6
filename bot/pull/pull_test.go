package pull

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// fakeAPI serves a pull request from a table of path -> JSON, counting calls.
type fakeAPI struct {
	mu     sync.Mutex
	routes map[string]string
	calls  map[string]int
	// after, when set, runs (under mu) after each request is answered, with
	// its path: a test moves the pull request between calls with it.
	after func(f *fakeAPI, path string)
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	key := r.URL.Path
	f.calls[key]++
	// "path@ref" routes answer a request for that ref only.
	if ref := r.URL.Query().Get("ref"); ref != "" {
		if _, ok := f.routes[key+"@"+ref]; ok {
			key += "@" + ref
		}
	}
	body, ok := f.routes[key]
	if f.after != nil {
		f.after(f, r.URL.Path)
	}
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

func newFakeAPI(t *testing.T, routes map[string]string) (*fakeAPI, *github.Client) {
	f := &fakeAPI{routes: routes, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := github.NewClient(nil)
	u, _ := url.Parse(srv.URL + "/")
	c.BaseURL = u
	return f, c
}

func prJSON(files, commits int) string {
	return fmt.Sprintf(`{"number":7,"state":"open","changed_files":%d,"commits":%d,"user":{"login":"dave","type":"User"},
		"head":{"sha":"%s","ref":"feature"},"base":{"sha":"%s","ref":"main","repo":{"clone_url":"https://example.test/o/r.git"}}}`,
		files, commits, strings.Repeat("h", 40), strings.Repeat("b", 40))
}

func content(s string) string {
	return fmt.Sprintf(`{"type":"file","encoding":"base64","size":%d,"sha":"blob1","content":%q}`, len(s), base64.StdEncoding.EncodeToString([]byte(s)))
}

func baseRoutes() map[string]string {
	return map[string]string{
		"/repos/o/r/pulls/7":         prJSON(1, 1),
		"/repos/o/r/pulls/7/files":   `[{"filename":"docs/a.md","status":"modified","additions":1}]`,
		"/repos/o/r/pulls/7/commits": `[{"sha":"` + strings.Repeat("h", 40) + `","commit":{"message":"Fix","author":{"name":"Dave","email":"dave@x.test"},"committer":{"name":"Dave","email":"dave@x.test"}},"author":{"login":"dave","type":"User"},"committer":{"login":"dave","type":"User"},"parents":[{}]}]`,
		"/repos/o/r/pulls/7/reviews": `[]`,
		// The base branch's tip, where the policy is read.
		"/repos/o/r/commits/heads/main": `{"sha":"` + tipSHA + `"}`,
	}
}

var tipSHA = strings.Repeat("t", 40)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestBeyondListingLimitsIsIncompleteNotPartial(t *testing.T) {
	for _, tc := range []struct{ files, commits int }{{3001, 3}, {10, 251}} {
		routes := baseRoutes()
		routes["/repos/o/r/pulls/7"] = prJSON(tc.files, tc.commits)
		api, c := newFakeAPI(t, routes)
		g, err := Gather(ctx(t), NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}), GatherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(g.Facts.Incomplete, "more than GitHub's API lists") {
			t.Errorf("%+v: Incomplete = %q", tc, g.Facts.Incomplete)
		}
		if api.calls["/repos/o/r/pulls/7/files"]+api.calls["/repos/o/r/pulls/7/commits"] != 0 {
			t.Errorf("%+v: listed a partial list: %v", tc, api.calls)
		}
		if v := checks.Evaluate(g.Policy, g.Facts); v.Conclusion != checks.Failure {
			t.Errorf("%+v: verdict %s, want failure", tc, v.Conclusion)
		}
	}
}

func TestBeyondListingLimitsUsesGit(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/pulls/7"] = prJSON(5000, 3)
	_, c := newFakeAPI(t, routes)
	var gotURL, gotToken string
	pc := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7,
		Token: func(context.Context) (string, error) { return "ghs_tok", nil },
		FetchGitFacts: func(ctx context.Context, remote, token, base, head string) (*checks.Facts, error) {
			gotURL, gotToken = remote, token
			return &checks.Facts{Files: []checks.File{{Path: "a", Status: "added"}}, Commits: nil}, nil
		}})
	files, err := pc.Files(ctx(t))
	if err != nil || len(files) != 1 || gotURL != "https://example.test/o/r.git" || gotToken != "ghs_tok" {
		t.Fatalf("files %v err %v url %q token %q", files, err, gotURL, gotToken)
	}
}

func TestGitFailureNeverLeaksTheToken(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/pulls/7"] = prJSON(5000, 3)
	_, c := newFakeAPI(t, routes)
	pc := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7,
		Token: func(context.Context) (string, error) { return "ghs_secret123", nil },
		FetchGitFacts: func(ctx context.Context, remote, token, base, head string) (*checks.Facts, error) {
			return nil, fmt.Errorf("fetch https://x-access-token:%s@example.test/o/r.git: boom", token)
		}})
	g, err := Gather(ctx(t), pc, GatherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Facts.Incomplete == "" || strings.Contains(g.Facts.Incomplete, "secret123") || !g.Retry {
		t.Errorf("Incomplete = %q, Retry = %v", g.Facts.Incomplete, g.Retry)
	}
}

func TestNoCallIsRepeatedWithinAnEvaluation(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/contents/.github/countersign.yml"] = content("review:\n  human:\n    approvals: 1\n    approvers:\n      teams: [o/devs]\n")
	routes["/repos/o/r/pulls/7/reviews"] = `[{"id":1,"state":"APPROVED","commit_id":"` + strings.Repeat("h", 40) + `","user":{"login":"erin","type":"User"}},
		{"id":2,"state":"APPROVED","commit_id":"` + strings.Repeat("h", 40) + `","user":{"login":"frank","type":"User"}}]`
	routes["/repos/o/r/collaborators/erin/permission"] = `{"permission":"write","role_name":"write","user":{"login":"erin","type":"User"}}`
	routes["/repos/o/r/collaborators/frank/permission"] = `{"permission":"write","role_name":"maintain","user":{"login":"frank","type":"User"}}`
	routes["/orgs/o/teams/devs/members"] = `[{"login":"Erin"}]`
	api, c := newFakeAPI(t, routes)
	pc := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7, Cache: NewCache(0)})
	g, err := Gather(ctx(t), pc, GatherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Asking again within the evaluation is answered from memory.
	pc.Policy(ctx(t))
	pc.Reviewer(ctx(t), "ERIN")
	for path, n := range api.calls {
		want := 1
		if path == "/repos/o/r/pulls/7" {
			// Compare is refused here (no route), so files and commits are
			// listed; each listing re-reads the pull request after its pages
			// (conditional: a 304 on GitHub) to catch a head that moved.
			want = 3
		}
		if n != want {
			t.Errorf("%s called %d times, want %d", path, n, want)
		}
	}
	if rv := g.Facts.Reviewers["erin"]; rv.Permission != "write" || len(rv.Teams) != 1 || rv.Teams[0] != "o/devs" {
		t.Errorf("erin = %+v", rv)
	}
	if rv := g.Facts.Reviewers["frank"]; rv.Permission != "maintain" || len(rv.Teams) != 0 {
		t.Errorf("frank = %+v", rv)
	}
	if v := checks.Evaluate(g.Policy, g.Facts); v.Conclusion != checks.Success {
		t.Errorf("verdict %s: %s", v.Conclusion, v.Title)
	}
}

func TestPolicyFallsBackToTheOrgRepositoryThenTheDefault(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/.github/contents/.github/countersign.yml"] = content("review:\n  human:\n    approvals: 2\n")
	_, c := newFakeAPI(t, routes)
	p, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if err != nil || p.Review.HumanApprovals() != 2 || p.Source.Repo != "o/.github" {
		t.Fatalf("org policy: %+v %v", p, err)
	}
	_, c = newFakeAPI(t, baseRoutes())
	p, err = NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if err != nil || !p.Source.Builtin {
		t.Fatalf("default policy: %+v %v", p, err)
	}
}

func TestInvalidPolicyNamesFileAndLine(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/contents/.github/countersign.yml"] = content("review:\n  agent:\n    approvals: two\n")
	_, c := newFakeAPI(t, routes)
	g, err := Gather(ctx(t), NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}), GatherOptions{})
	pe, ok := err.(*PolicyError)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	v := checks.Invalid(pe.Err, pe.Source, g.Facts)
	if v.Conclusion != checks.Failure || !strings.Contains(v.Title, ".github/countersign.yml:3") {
		t.Errorf("verdict %s %q", v.Conclusion, v.Title)
	}
}

func TestHeadMovedWhileReadingIsAnError(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/pulls/7"] = prJSON(2, 1) // says two files, lists one
	_, c := newFakeAPI(t, routes)
	_, err := Gather(ctx(t), NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}), GatherOptions{})
	if err == nil || !strings.Contains(err.Error(), ErrChanged.Error()) {
		t.Fatalf("err = %v", err)
	}
}

// TestListingUnderAMovingHeadIsNotCached: the listing endpoints read the
// pull request's live head. A push between reading the pull request and the
// listing must not put the new head's files or commits into this evaluation,
// nor into the cache under the evaluated base/head pair.
func TestListingUnderAMovingHeadIsNotCached(t *testing.T) {
	moved := strings.Replace(prJSON(1, 1), strings.Repeat("h", 40), strings.Repeat("n", 40), 1)
	for _, kind := range []string{"files", "commits"} {
		t.Run(kind, func(t *testing.T) {
			// No compare route: compare is refused, the listings are used.
			api, c := newFakeAPI(t, baseRoutes())
			api.after = func(f *fakeAPI, path string) {
				if path == "/repos/o/r/pulls/7/"+kind {
					f.routes["/repos/o/r/pulls/7"] = moved // pushed while listing
				}
			}
			cache := NewCache(0)
			g := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7, Cache: cache})
			var err error
			if kind == "files" {
				_, err = g.Files(ctx(t))
			} else {
				_, err = g.Commits(ctx(t))
			}
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("listing %s while the head moved: err = %v, want ErrChanged", kind, err)
			}
			if n := cache.Len(); n != 0 {
				t.Errorf("%d cache entries after a listing under a moving head", n)
			}

			// Unmoved: the listing is returned and cached, the pull request
			// re-read once after it.
			api, c = newFakeAPI(t, baseRoutes())
			g = NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7, Cache: cache})
			if kind == "files" {
				var files []checks.File
				files, err = g.Files(ctx(t))
				if err == nil && (len(files) != 1 || files[0].Path != "docs/a.md") {
					t.Errorf("files = %+v", files)
				}
			} else {
				_, err = g.Commits(ctx(t))
			}
			if err != nil {
				t.Fatalf("listing %s: %v", kind, err)
			}
			if n := cache.Len(); n != 1 {
				t.Errorf("%d cache entries after a consistent listing, want 1", n)
			}
			if n := api.calls["/repos/o/r/pulls/7"]; n != 2 {
				t.Errorf("pull request read %d times, want 2 (before and after the listing)", n)
			}
		})
	}
}

func TestCommentCommandsApplyOnlyAfterTheHeadWasSeen(t *testing.T) {
	seen := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	approve := true
	f := &Fake{
		RepoName: "o/r",
		PRData:   &PR{PullRequest: checks.PullRequest{HeadSHA: "h2"}},
		PolicyData: &config.Policy{Commands: config.Commands{Approve: &approve},
			Overrides: config.Overrides{Users: []string{"lead"}}},
		CommentsData: []Comment{
			{ID: 1, Login: "erin", Body: "/countersign approve", CreatedAt: seen.Add(-time.Minute)},
			{ID: 2, Login: "frank", Body: "looks good\n/countersign approve", CreatedAt: seen.Add(time.Minute)},
			{ID: 3, Login: "lead", Body: "/countersign override hotfix", CreatedAt: seen.Add(2 * time.Minute)},
		},
	}
	g, err := Gather(ctx(t), f, GatherOptions{HeadSeenAt: seen})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Facts.Reviews) != 2 || g.Facts.Reviews[0].CommitSHA != "" || g.Facts.Reviews[1].CommitSHA != "h2" {
		t.Errorf("reviews = %+v", g.Facts.Reviews)
	}
	if len(g.Facts.Overrides) != 1 || g.Facts.Overrides[0].Reason != "hotfix" || g.Facts.Overrides[0].CommitSHA != "h2" {
		t.Errorf("overrides = %+v", g.Facts.Overrides)
	}
	for _, m := range []string{"PR", "Policy", "Files", "Commits", "Reviews", "Comments"} {
		if n := f.Calls(m); n != 1 {
			t.Errorf("%s called %d times", m, n)
		}
	}
}

// TestPolicyIsReadAtTheBaseBranchTip: base.sha is stale once the base branch
// moves; the policy and its recorded source follow the branch's tip, even
// for an opened/synchronize snapshot (its delivery may have been delayed).
func TestPolicyIsReadAtTheBaseBranchTip(t *testing.T) {
	base := strings.Repeat("b", 40)
	routes := baseRoutes()
	routes["/repos/o/r/contents/.github/countersign.yml@"+base] = content("review:\n  agent:\n    approvals: 1\n")
	routes["/repos/o/r/contents/.github/countersign.yml@"+tipSHA] = content("review:\n  agent:\n    approvals: 3\n")
	api, c := newFakeAPI(t, routes)
	p, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if err != nil || p.Review.AgentApprovals() != 3 || p.Source.SHA != tipSHA || p.Source.Ref != "main" {
		t.Fatalf("policy at the tip: %+v %v", p, err)
	}
	if api.calls["/repos/o/r/commits/heads/main"] != 1 {
		t.Errorf("the tip was resolved %d times", api.calls["/repos/o/r/commits/heads/main"])
	}

	var snap github.PullRequest
	if err := json.Unmarshal([]byte(prJSON(1, 1)), &snap); err != nil {
		t.Fatal(err)
	}
	// A delivery's snapshot (even of pull_request.opened or synchronize)
	// names base.sha as of when GitHub sent it; a delayed delivery arriving
	// after a policy-tightening push to the base branch must read the tip.
	api, c = newFakeAPI(t, routes)
	p, err = NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7, Snapshot: &snap}).Policy(ctx(t))
	if err != nil || p.Review.AgentApprovals() != 3 || p.Source.SHA != tipSHA {
		t.Fatalf("policy of a snapshot with a stale base.sha: %+v %v", p, err)
	}
	if n := api.calls["/repos/o/r/commits/heads/main"]; n != 1 {
		t.Errorf("a snapshot resolved the tip %d times, want 1", n)
	}
	if n := api.calls["/repos/o/r/pulls/7"]; n != 0 {
		t.Errorf("a snapshot re-read the pull request %d times", n)
	}

	// A base branch that cannot be resolved fails; it never falls back.
	delete(routes, "/repos/o/r/commits/heads/main")
	_, c = newFakeAPI(t, routes)
	if p, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t)); err == nil {
		t.Fatalf("unresolvable base branch gave policy %+v", p)
	}
}

func TestYAMLExtensionIsAnErrorNotIgnored(t *testing.T) {
	routes := baseRoutes()
	routes["/repos/o/r/contents/.github/countersign.yaml"] = content("review:\n  agent:\n    approvals: 2\n")
	_, c := newFakeAPI(t, routes)
	_, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	pe, ok := err.(*PolicyError)
	if !ok || pe.Source.Path != policyfile.AltFileName || !strings.Contains(err.Error(), "rename it to .github/countersign.yml") {
		t.Fatalf("err = %v", err)
	}

	// The organization's .github repository: the same.
	routes = baseRoutes()
	routes["/repos/o/.github"] = `{"name":".github","default_branch":"main","pushed_at":"2026-01-01T00:00:00Z"}`
	routes["/repos/o/.github/contents/.github/countersign.yaml"] = content("review: {}\n")
	_, c = newFakeAPI(t, routes)
	_, err = NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if pe, ok := err.(*PolicyError); !ok || pe.Source.Repo != "o/.github" || !strings.Contains(err.Error(), "rename it") {
		t.Fatalf("org err = %v", err)
	}
}

func TestOrgRepositoryNotVisibleIsSaid(t *testing.T) {
	// 404 on the org's .github repository: the default applies, and says why.
	_, c := newFakeAPI(t, baseRoutes())
	p, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if err != nil || !p.Source.Builtin || p.Source.Note != policyfile.OrgRepoNotVisible {
		t.Fatalf("policy = %+v %v", p, err)
	}
	v := checks.Evaluate(p, &checks.Facts{Repo: "o/r", PR: checks.PullRequest{HeadSHA: "h"}})
	if md := v.Markdown(); !strings.Contains(md, "not visible to the app") {
		t.Errorf("the verdict does not say the org repository is invisible:\n%s", md)
	}

	// Visible, without a policy file: the plain default, one read of the repository.
	routes := baseRoutes()
	routes["/repos/o/.github"] = `{"name":".github","default_branch":"main","pushed_at":"2026-01-01T00:00:00Z"}`
	api, c := newFakeAPI(t, routes)
	p, err = NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t))
	if err != nil || !p.Source.Builtin || p.Source.Note != "" {
		t.Fatalf("policy = %+v %v", p, err)
	}
	if api.calls["/repos/o/.github"] != 1 {
		t.Errorf("repository read %d times", api.calls["/repos/o/.github"])
	}

	// The org file found: the repository is not read.
	routes["/repos/o/.github/contents/.github/countersign.yml"] = content("review: {}\n")
	api, c = newFakeAPI(t, routes)
	if _, err := NewGitHub(GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7}).Policy(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := api.calls["/repos/o/.github"]; n != 0 {
		t.Errorf("repository read %d times though the org file exists", n)
	}
}
