package githubsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v62/github"
)

type received struct {
	header http.Header
	body   []byte
}

// hookSink records webhook requests; status decides the response code.
type hookSink struct {
	mu     sync.Mutex
	got    []received
	status int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, received{r.Header.Clone(), b})
	st := h.status
	h.mu.Unlock()
	if st == 0 {
		st = 200
	}
	w.WriteHeader(st)
}

func (h *hookSink) all() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

func withHooks(t *testing.T, f *fixture, secret string) *hookSink {
	sink := &hookSink{}
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	f.sim.SetWebhook(srv.URL, secret)
	return sink
}

func TestWebhooksSignedAndInOrder(t *testing.T) {
	f := setup(t, Options{})
	const secret = "It's a Secret to Everybody"
	sink := withHooks(t, f, secret)
	s := f.sim
	s.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "1\n"}})
	n := s.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
	s.SubmitReview("acme/widgets", n, "bob", "REQUEST_CHANGES", "no")
	s.Comment("acme/widgets", n, "bob", "/countersign explain")
	if err := s.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	got := sink.all()
	var events []string
	for _, r := range got {
		events = append(events, r.header.Get("X-GitHub-Event"))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(r.body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.header.Get("X-Hub-Signature-256") != want {
			t.Fatalf("signature %q, want %q", r.header.Get("X-Hub-Signature-256"), want)
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(r.body)))
		req.Header = r.header
		if _, err := github.ValidatePayload(req, []byte(secret)); err != nil {
			t.Fatalf("go-github rejects the signature: %v", err)
		}
		if !strings.HasPrefix(r.header.Get("User-Agent"), "GitHub-Hookshot/") || r.header.Get("X-GitHub-Delivery") == "" ||
			r.header.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" || r.header.Get("X-Hub-Signature") == "" {
			t.Fatalf("headers: %v", r.header)
		}
	}
	if want := "push check_suite pull_request pull_request_review issue_comment"; strings.Join(events, " ") != want {
		t.Fatalf("events %q, want %q", strings.Join(events, " "), want)
	}
	ev, err := github.ParseWebHook("pull_request_review", got[3].body)
	if err != nil {
		t.Fatal(err)
	}
	rv := ev.(*github.PullRequestReviewEvent)
	if rv.GetReview().GetState() != "changes_requested" || rv.GetInstallation().GetID() != f.inst || rv.GetRepo().GetFullName() != "acme/widgets" || rv.GetSender().GetLogin() != "bob" {
		t.Fatalf("review event: state=%q inst=%d", rv.GetReview().GetState(), rv.GetInstallation().GetID())
	}
	ev, _ = github.ParseWebHook("pull_request", got[2].body)
	if pe := ev.(*github.PullRequestEvent); pe.GetAction() != "opened" || pe.GetPullRequest().GetNumber() != n {
		t.Fatalf("pull_request event: %v", pe)
	}
	ev, _ = github.ParseWebHook("issue_comment", got[4].body)
	if ce := ev.(*github.IssueCommentEvent); ce.GetComment().GetBody() != "/countersign explain" || !ce.GetIssue().IsPullRequest() {
		t.Fatalf("issue_comment event: %v", ce)
	}
	// A push to the PR head synchronizes it.
	s.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"y": "2\n"}})
	if err := s.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	last := sink.all()[len(sink.all())-1]
	var pe github.PullRequestEvent
	if err := json.Unmarshal(last.body, &pe); err != nil || pe.GetAction() != "synchronize" || pe.GetAfter() != s.Head("acme/widgets", "feature") {
		t.Fatalf("synchronize: %v %v", pe.GetAction(), err)
	}
}

func TestCheckRunEventsAndRequestedAction(t *testing.T) {
	f := setup(t, Options{})
	sink := withHooks(t, f, "s")
	sha := f.sim.Head("acme/widgets", "main")
	cr, _, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{
		Name: "countersign", HeadSHA: sha, Conclusion: github.String("action_required"), DetailsURL: github.String("https://example.com"),
		Output:  &github.CheckRunOutput{Title: github.String("needs a human"), Summary: github.String("s")},
		Actions: []*github.CheckRunAction{{Label: "Approve", Description: "Countersign it", Identifier: "approve"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.RequestAction("acme/widgets", cr.GetID(), "alice", "approve")
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	var actions []string
	var lastEv github.CheckRunEvent
	for _, r := range sink.all() {
		if r.header.Get("X-GitHub-Event") == "check_run" {
			_ = json.Unmarshal(r.body, &lastEv)
			actions = append(actions, lastEv.GetAction())
		}
	}
	if strings.Join(actions, ",") != "created,completed,requested_action" || lastEv.GetRequestedAction().Identifier != "approve" || lastEv.GetCheckRun().GetID() != cr.GetID() {
		t.Fatalf("check_run events %v", actions)
	}
}

func TestFaults(t *testing.T) {
	f := setup(t, Options{})
	c := ctx(t)
	// Two 502s, then success; go-github does not retry, so count them.
	remove := f.sim.Inject(Fault{Method: "GET", Route: "/repos/{owner}/{repo}/pulls/{pull_number}/files", Status: 502, Times: 2})
	defer remove()
	f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "1\n"}})
	n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
	f.sim.ResetCalls()
	var statuses []int
	for i := 0; i < 3; i++ {
		_, resp, _ := f.client.PullRequests.ListFiles(c, "acme", "widgets", n, nil)
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != 502 || statuses[1] != 502 || statuses[2] != 200 {
		t.Fatalf("statuses %v", statuses)
	}
	fails := 0
	for _, call := range f.sim.Calls() {
		if call.Route == "/repos/{owner}/{repo}/pulls/{pull_number}/files" && call.Status == 502 {
			fails++
		}
	}
	if fails != 2 {
		t.Fatalf("recorded %d 502s", fails)
	}

	// Primary rate limit: go-github reports a RateLimitError with the reset.
	rm := f.sim.Inject(Fault{Route: "/repos/{owner}/{repo}/pulls/{pull_number}", PrimaryRateLimit: true, Times: 1})
	_, _, err := f.client.PullRequests.Get(c, "acme", "widgets", n)
	rm()
	rle, ok := err.(*github.RateLimitError)
	if !ok || rle.Response.StatusCode != 403 || rle.Rate.Remaining != 0 || rle.Rate.Reset.Before(time.Now()) || !strings.Contains(rle.Message, "API rate limit exceeded for installation ID") {
		t.Fatalf("primary: %T %v", err, err)
	}

	// Secondary rate limit as 403: AbuseRateLimitError with Retry-After.
	rm = f.sim.Inject(Fault{Route: "/repos/{owner}/{repo}/issues/{issue_number}/comments", Method: "POST", SecondaryRateLimit: true, RetryAfter: 7 * time.Second, Times: 1})
	fresh := setupClientOnly(t, f)
	_, _, err = fresh.Issues.CreateComment(c, "acme", "widgets", n, &github.IssueComment{Body: github.String("hi")})
	rm()
	abuse, ok := err.(*github.AbuseRateLimitError)
	if !ok || abuse.GetRetryAfter() != 7*time.Second || !strings.Contains(abuse.Message, "secondary rate limit") {
		t.Fatalf("secondary 403: %T %v", err, err)
	}
	// Secondary rate limit as 429.
	rm = f.sim.Inject(Fault{Route: "/repos/{owner}/{repo}", SecondaryRateLimit: true, Status: 429, RetryAfter: 3 * time.Second, Times: 1})
	defer rm()
	tok := f.rawToken(t, f.inst)
	resp, body := get(t, f.base+"repos/acme/widgets", tok, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || !strings.Contains(string(body), "You have exceeded a secondary rate limit") {
		t.Fatalf("secondary 429: %d %v %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := get(t, f.base+"repos/acme/widgets", tok, nil); resp.StatusCode != 200 {
		t.Fatalf("Times=1 fault fired twice: %d", resp.StatusCode)
	}
}

// setupClientOnly returns a fresh installation client (go-github remembers secondary limits per client).
func setupClientOnly(t *testing.T, f *fixture) *github.Client {
	return newClient(t, f.base, tokenRT(f.rawToken(t, f.inst)))
}

func TestFaultProbabilityIsRepeatable(t *testing.T) {
	run := func() []int {
		f := setup(t, Options{Seed: 42})
		f.sim.Inject(Fault{Route: "/repos/{owner}/{repo}", Status: 500, Probability: 0.5})
		tok := f.rawToken(t, f.inst)
		var out []int
		for i := 0; i < 12; i++ {
			resp, _ := get(t, f.base+"repos/acme/widgets", tok, nil)
			out = append(out, resp.StatusCode)
		}
		return out
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatal("length")
	}
	n500 := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults: %v vs %v", a, b)
		}
		if a[i] == 500 {
			n500++
		}
	}
	if n500 == 0 || n500 == len(a) {
		t.Fatalf("probability 0.5 gave %v", a)
	}
}

func TestDroppedDeliveriesAndRedelivery(t *testing.T) {
	f := setup(t, Options{})
	sink := withHooks(t, f, "s")
	f.sim.DropDeliveries(1)
	f.sim.Comment("acme/widgets", mustPR(t, f), "bob", "hello")
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	f.sim.DropDeliveries(0)
	if len(sink.all()) != 0 {
		t.Fatalf("dropped deliveries were sent: %d", len(sink.all()))
	}
	ds, _, err := f.app.Apps.ListHookDeliveries(ctx(t), nil)
	if err != nil || len(ds) == 0 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	newest := ds[0]
	if newest.GetEvent() != "issue_comment" || newest.GetStatusCode() == 200 || newest.GetStatus() == "OK" {
		t.Fatalf("newest delivery = %+v", newest)
	}
	// GitHub answers 202 Accepted, which go-github reports as an AcceptedError.
	var accepted *github.AcceptedError
	if _, _, err := f.app.Apps.RedeliverHookDelivery(ctx(t), newest.GetID()); !errors.As(err, &accepted) {
		t.Fatal(err)
	}
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	got := sink.all()
	if len(got) != 1 || got[0].header.Get("X-GitHub-Delivery") != newest.GetGUID() || got[0].header.Get("X-GitHub-Event") != "issue_comment" {
		t.Fatalf("redelivery: %d", len(got))
	}
	ds, _, _ = f.app.Apps.ListHookDeliveries(ctx(t), nil)
	if !ds[0].GetRedelivery() || ds[0].GetStatusCode() != 200 {
		t.Fatalf("redelivery record %+v", ds[0])
	}
	// Cursor pagination walks every delivery.
	seen := 0
	opt := &github.ListCursorOptions{PerPage: 2}
	for {
		page, resp, err := f.app.Apps.ListHookDeliveries(ctx(t), opt)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page)
		if resp.Cursor == "" {
			break
		}
		opt.Cursor = resp.Cursor
	}
	if seen != len(f.sim.Deliveries()) {
		t.Fatalf("cursor walk saw %d of %d", seen, len(f.sim.Deliveries()))
	}
}

func mustPR(t *testing.T, f *fixture) int {
	f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "1\n"}})
	return f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
}

func TestGitFetchOverSmartHTTP(t *testing.T) {
	f := setup(t, Options{})
	first := f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "1\n"}})
	head := f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "2\n"}})
	tok := f.rawToken(t, f.inst)
	url := f.base + "acme/widgets.git"

	repo, err := git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: url, Auth: &githttp.BasicAuth{Username: "x-access-token", Password: tok}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Head()
	if err != nil || ref.Hash().String() != f.sim.Head("acme/widgets", "main") {
		t.Fatalf("clone HEAD %v %v", ref, err)
	}
	// Fetch two revisions into an empty repository, as the bot does for huge PRs.
	r2, _ := git.Init(memory.NewStorage(), nil)
	if _, err := r2.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		t.Fatal(err)
	}
	err = r2.Fetch(&git.FetchOptions{RemoteName: "origin", Auth: &githttp.BasicAuth{Username: "x-access-token", Password: tok},
		RefSpecs: []config.RefSpec{"+refs/heads/feature:refs/remotes/origin/feature", "+refs/heads/main:refs/remotes/origin/main"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{first, head} {
		if _, err := r2.CommitObject(plumbing.NewHash(h)); err != nil {
			t.Fatalf("fetched repo lacks %s: %v", h, err)
		}
	}
	// Bad token and no token are refused.
	_, err = git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: url, Auth: &githttp.BasicAuth{Username: "x-access-token", Password: "ghs_nope"}})
	if err == nil {
		t.Fatal("clone with a bad token succeeded")
	}
	_, err = git.Clone(memory.NewStorage(), nil, &git.CloneOptions{URL: url})
	if err == nil {
		t.Fatal("clone without a token succeeded")
	}
}

func TestTeamsUsersProtectionManifest(t *testing.T) {
	f := setup(t, Options{})
	c := ctx(t)
	f.sim.AddTeam("acme", "security", "alice", "bob")
	f.sim.AddBot("Copilot", 198982749)
	members, _, err := f.client.Teams.ListTeamMembersBySlug(c, "acme", "security", nil)
	if err != nil || len(members) != 2 {
		t.Fatalf("members %v %v", members, err)
	}
	m, _, err := f.client.Teams.GetTeamMembershipBySlug(c, "acme", "security", "bob")
	if err != nil || m.GetState() != "active" {
		t.Fatalf("membership %v %v", m, err)
	}
	if _, _, err := f.client.Teams.GetTeamMembershipBySlug(c, "acme", "security", "mallory"); statusOf(err) != 404 {
		t.Fatalf("non-member: %v", err)
	}
	u, _, err := f.client.Users.Get(c, "Copilot")
	if err != nil || u.GetType() != "Bot" || u.GetID() != 198982749 {
		t.Fatalf("user %v %v", u, err)
	}
	if _, _, err := f.client.Repositories.GetBranchProtection(c, "acme", "widgets", "main"); !errors.Is(err, github.ErrBranchNotProtected) {
		t.Fatalf("unprotected branch: %v", err)
	}
	f.sim.SetBranchProtection("acme/widgets", "main", &github.Protection{RequiredStatusChecks: &github.RequiredStatusChecks{Strict: true, Contexts: &[]string{"countersign"}}})
	p, _, err := f.client.Repositories.GetBranchProtection(c, "acme", "widgets", "main")
	if err != nil || !p.GetRequiredStatusChecks().Strict {
		t.Fatalf("protection %v %v", p, err)
	}
	rules, _, err := f.client.Repositories.GetRulesForBranch(c, "acme", "widgets", "main")
	if err != nil || len(rules) != 0 {
		t.Fatalf("rules %v %v", rules, err)
	}
	code := f.sim.NewManifestCode()
	anon := github.NewClient(nil)
	anon.BaseURL = f.client.BaseURL
	cfg, _, err := anon.Apps.CompleteAppManifest(c, code)
	if err != nil || cfg.GetID() != f.sim.AppID() || !strings.Contains(cfg.GetPEM(), "RSA PRIVATE KEY") {
		t.Fatalf("manifest %v %v", cfg, err)
	}
	if _, _, err := anon.Apps.CompleteAppManifest(c, code); statusOf(err) != 404 {
		t.Fatalf("manifest code reused: %v", err)
	}
}

func TestCommentsReactionsAndReviewers(t *testing.T) {
	f := setup(t, Options{})
	c := ctx(t)
	n := mustPR(t, f)
	f.sim.AddTeam("acme", "security", "bob")
	f.sim.SetPermission("acme/widgets", "carol", "write")
	cm, _, err := f.client.Issues.CreateComment(c, "acme", "widgets", n, &github.IssueComment{Body: github.String("verdict")})
	if err != nil || cm.GetUser().GetLogin() != "countersign[bot]" || cm.GetUser().GetType() != "Bot" {
		t.Fatalf("comment %v %v", cm, err)
	}
	if _, _, err := f.client.Issues.EditComment(c, "acme", "widgets", cm.GetID(), &github.IssueComment{Body: github.String("verdict v2")}); err != nil {
		t.Fatal(err)
	}
	if got := f.sim.Comments("acme/widgets", n); len(got) != 1 || got[0].GetBody() != "verdict v2" {
		t.Fatalf("comments %v", got)
	}
	userComment := f.sim.Comment("acme/widgets", n, "alice", "/countersign approve")
	if _, _, err := f.client.Reactions.CreateIssueCommentReaction(c, "acme", "widgets", userComment, "eyes"); err != nil {
		t.Fatal(err)
	}
	if _, resp, _ := f.client.Reactions.CreateIssueCommentReaction(c, "acme", "widgets", userComment, "thumbsup"); resp.StatusCode != 422 {
		t.Fatalf("bad reaction: %d", resp.StatusCode)
	}
	if rs := f.sim.Reactions("acme/widgets", userComment); len(rs) != 1 || rs[0].GetContent() != "eyes" {
		t.Fatalf("reactions %v", rs)
	}
	if _, _, err := f.client.PullRequests.RequestReviewers(c, "acme", "widgets", n, github.ReviewersRequest{Reviewers: []string{"carol"}, TeamReviewers: []string{"security"}}); err != nil {
		t.Fatal(err)
	}
	users, teams := f.sim.RequestedReviewers("acme/widgets", n)
	if strings.Join(users, ",") != "carol" || strings.Join(teams, ",") != "security" {
		t.Fatalf("requested %v %v", users, teams)
	}
	rv, _, err := f.client.PullRequests.ListReviewers(c, "acme", "widgets", n, nil)
	if err != nil || len(rv.Users) != 1 || len(rv.Teams) != 1 {
		t.Fatalf("list reviewers %v %v", rv, err)
	}
	if _, resp, _ := f.client.PullRequests.RequestReviewers(c, "acme", "widgets", n, github.ReviewersRequest{Reviewers: []string{"stranger"}}); resp.StatusCode != 422 {
		t.Fatalf("non-collaborator reviewer: %d", resp.StatusCode)
	}
	prs, _, err := f.client.PullRequests.List(c, "acme", "widgets", &github.PullRequestListOptions{State: "all"})
	if err != nil || len(prs) != 1 {
		t.Fatalf("list %v %v", prs, err)
	}
	f.sim.ClosePR("acme/widgets", n)
	prs, _, _ = f.client.PullRequests.List(c, "acme", "widgets", nil)
	if len(prs) != 0 {
		t.Fatalf("closed PR listed as open")
	}
}

func TestMergeGroup(t *testing.T) {
	f := setup(t, Options{})
	sink := withHooks(t, f, "s")
	n := mustPR(t, f)
	sha := f.sim.EnqueueMergeGroup("acme/widgets", n, "alice")
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	all := sink.all()
	last := all[len(all)-1]
	ev, err := github.ParseWebHook(last.header.Get("X-GitHub-Event"), last.body)
	if err != nil {
		t.Fatal(err)
	}
	mg, ok := ev.(*github.MergeGroupEvent)
	if !ok || mg.GetAction() != "checks_requested" || mg.GetMergeGroup().GetHeadSHA() != sha || mg.GetMergeGroup().GetBaseRef() != "refs/heads/main" {
		t.Fatalf("merge_group event %T %+v", ev, mg)
	}
	// The bot can check the merge group commit.
	if _, _, err := f.client.Checks.CreateCheckRun(ctx(t), "acme", "widgets", github.CreateCheckRunOptions{Name: "countersign", HeadSHA: sha}); err != nil {
		t.Fatal(err)
	}
}

// DropNextDeliveries drops exactly the next n deliveries, whatever the
// probability, and records them as failed; the one after is sent.
func TestDropNextDeliveries(t *testing.T) {
	f := setup(t, Options{})
	sink := withHooks(t, f, "s")
	f.sim.DropNextDeliveries(1)
	pr := mustPR(t, f)
	f.sim.Comment("acme/widgets", pr, "bob", "first")
	f.sim.Comment("acme/widgets", pr, "bob", "second")
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	ds, _, err := f.app.Apps.ListHookDeliveries(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, d := range ds {
		if d.GetStatusCode() != 200 {
			failed++
		}
	}
	if failed != 1 || len(sink.all()) != len(ds)-1 {
		t.Fatalf("%d deliveries, %d failed, %d sent; want exactly one dropped", len(ds), failed, len(sink.all()))
	}
}
