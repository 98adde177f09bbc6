package appmanifest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/doctor"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
	"github.com/google/go-github/v62/github"
)

// eventPermission is the permission GitHub requires before it delivers an
// event to an app (one of them suffices); "" means every app receives it.
// An event the server starts handling must be added here from GitHub's
// "Webhook events and payloads" page, and the permission to app.yml.
var eventPermission = map[string][]string{
	"check_run":           {"checks"},
	"check_suite":         {"checks"},
	"pull_request":        {"pull_requests"},
	"pull_request_review": {"pull_requests"},
	"push":                {"contents"},
	"issue_comment":       {"issues"},
	"merge_group":         {"merge_queues"},
	// GitHub's "Creating custom deployment protection rules" has the app
	// take Deployments (read and write) and subscribe to this event.
	"deployment_protection_rule": {"deployments"},
	"installation":               {""},
	"installation_repositories":  {""},
	// "Webhook events and payloads": member, membership, organization and
	// team need the Members organization permission (read).
	"member":       {"members"},
	"membership":   {"members"},
	"organization": {"members"},
	"team":         {"members"},
}

// routePermission is the permission each REST route the bot calls needs,
// from GitHub's "Permissions required for GitHub Apps" and each endpoint's
// "Fine-grained access tokens" section. Alternatives are listed when any one
// of them suffices; "" means no permission (app JWT or public data). A route
// the bot starts calling must be added here, and its permission to app.yml.
var routePermission = map[string][]string{
	// The app itself, authenticated with its JWT: no installation permission.
	"GET /app":               {""},
	"GET /app/installations": {""},
	"GET /app/installations/{installation_id}":                           {""},
	"POST /app/installations/{installation_id}/access_tokens":            {""},
	"GET /repos/{owner}/{repo}/installation":                             {""},
	"GET /app/hook/deliveries":                                           {""},
	"GET /app/hook/deliveries/{delivery_id}":                             {""},
	"POST /app/hook/deliveries/{delivery_id}/attempts":                   {""},
	"POST /app-manifests/{code}/conversions":                             {""},
	"GET /rate_limit":                                                    {""},
	"GET /users/{username}":                                              {""},
	"GET /installation/repositories":                                     {"metadata:read"},
	"GET /repos/{owner}/{repo}":                                          {"metadata:read"},
	"GET /repos/{owner}/{repo}/collaborators/{username}/permission":      {"metadata:read"},
	"GET /repos/{owner}/{repo}/rules/branches/{branch}":                  {"metadata:read"},
	"GET /repos/{owner}/{repo}/rulesets/{ruleset_id}":                    {"metadata:read"},
	"GET /orgs/{org}/installation":                                       {""},
	"GET /repos/{owner}/{repo}/branches/{branch}/protection":             {"administration:read"},
	"GET /orgs/{org}/teams/{team_slug}/members":                          {"members:read"},
	"GET /orgs/{org}/teams/{team_slug}/memberships/{username}":           {"members:read"},
	"GET /repos/{owner}/{repo}/pulls":                                    {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}":                      {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/files":                {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/commits":              {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":              {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}":  {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":  {"pull_requests:read"},
	"POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers": {"pull_requests:write"},
	"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":           {"issues:read", "pull_requests:read"},
	"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":          {"issues:write", "pull_requests:write"},
	"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":             {"issues:read", "pull_requests:read"},
	"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":           {"issues:write", "pull_requests:write"},
	"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions":  {"issues:write", "pull_requests:write"},
	"GET /repos/{owner}/{repo}/contents/{path}":                          {"contents:read"},
	"GET /repos/{owner}/{repo}/commits":                                  {"contents:read"},
	"GET /repos/{owner}/{repo}/commits/{ref}":                            {"contents:read"},
	"GET /repos/{owner}/{repo}/compare/{basehead}":                       {"contents:read"},
	"GET /repos/{owner}/{repo}/git/matching-refs/{ref}":                  {"contents:read"},
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":                 {"checks:read"},
	// GraphQL: the bot only asks for commits' authors (Repository.object, Commit.authors).
	"POST /graphql": {"contents:read"},
	// "List pull requests associated with a commit": GitHub documents the
	// Pull requests permission (read) for it; the shared-head check and
	// merge groups call it.
	"GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls":  {"pull_requests:read"},
	"GET /repos/{owner}/{repo}/check-runs/{check_run_id}":   {"checks:read"},
	"POST /repos/{owner}/{repo}/check-runs":                 {"checks:write"},
	"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": {"checks:write"},
	// The landing record's bypass alarm and the deploy gate.
	"GET /repos/{owner}/{repo}/issues":                                            {"issues:read"},
	"POST /repos/{owner}/{repo}/issues":                                           {"issues:write"},
	"POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule": {"deployments:write"},
	// countersign doctor: is the app a protection rule on the policy's environments.
	"GET /repos/{owner}/{repo}/environments":                                                {"actions:read"},
	"GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules": {"actions:read"},
}

// reservedPermission lists permission levels app.yml asks for that no
// route of the scenario needs yet, each with the feature that needs it.
var reservedPermission = map[string]string{
	"pull_requests:write": "requesting reviews and answering /countersign comment commands (reactions, replies), whose endpoints take pull_requests or issues write",
}

func mustDefault(t *testing.T) *appmanifest.Manifest {
	t.Helper()
	m, err := appmanifest.Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManifestSubscribesToExactlyTheHandledEvents holds app.yml's
// default_events to server.HandledEvents: a handled event that is not
// subscribed never arrives, and a subscribed one that is not handled costs
// deliveries (and often a permission) for nothing.
func TestManifestSubscribesToExactlyTheHandledEvents(t *testing.T) {
	m := mustDefault(t)
	handled := server.HandledEvents()
	for ev := range handled {
		if slices.Contains(appmanifest.AlwaysDelivered, ev) {
			if slices.Contains(m.DefaultEvents, ev) {
				t.Errorf("app.yml lists %q, which GitHub delivers to every app; remove it", ev)
			}
			continue
		}
		if !slices.Contains(m.DefaultEvents, ev) {
			t.Errorf("the server handles %q but app.yml does not subscribe to it: add it to default_events", ev)
		}
	}
	for _, ev := range m.DefaultEvents {
		if _, ok := handled[ev]; !ok {
			t.Errorf("app.yml subscribes to %q but server.HandledEvents() does not handle it: remove it", ev)
		}
	}
}

// TestManifestGrantsWhatEachEventNeeds checks that GitHub will deliver every
// subscribed event: each needs a permission of its own.
func TestManifestGrantsWhatEachEventNeeds(t *testing.T) {
	m := mustDefault(t)
	for ev := range server.HandledEvents() {
		need, ok := eventPermission[ev]
		if !ok {
			t.Errorf("event %q: add the permission GitHub requires to deliver it to eventPermission", ev)
			continue
		}
		if !slices.ContainsFunc(need, func(p string) bool {
			return p == "" || appmanifest.Covers(m.DefaultPermissions, p, "read")
		}) {
			t.Errorf("event %q needs one of %v; app.yml grants none", ev, need)
		}
	}
}

// TestManifestPermissionsCoverEveryRouteTheBotCalls runs the bot against the
// simulator through a scenario that reaches its features (installation,
// agent and human pull requests, approvals by a team member, re-run
// requests, a comment command, a merge queue, policy pushes, repositories
// added, and countersign doctor), then holds every REST route called (the
// simulator records the OpenAPI template) to a listed permission.
func TestManifestPermissionsCoverEveryRouteTheBotCalls(t *testing.T) {
	m := mustDefault(t)
	calls := runScenario(t)
	if len(calls) == 0 {
		t.Fatal("the scenario made no REST calls")
	}
	seen := map[string]int{}
	for _, c := range calls {
		if c.Route == "" {
			t.Errorf("%s %s matched no simulator route (status %d)", c.Method, c.Path, c.Status)
			continue
		}
		seen[c.Method+" "+c.Route]++
	}
	var routes []string
	for r := range seen {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		need, ok := routePermission[r]
		if !ok {
			t.Errorf("the bot calls %s: add the permission GitHub documents for it to routePermission (and to app.yml)", r)
			continue
		}
		if !slices.ContainsFunc(need, func(p string) bool {
			if p == "" {
				return true
			}
			name, level, _ := strings.Cut(p, ":")
			return appmanifest.Covers(m.DefaultPermissions, name, level)
		}) {
			t.Errorf("the bot calls %s, which needs one of %v; app.yml grants %v", r, need, m.DefaultPermissions)
		}
	}
	// Least privilege: every permission level asked for is needed by a
	// route called, an event handled, or a feature named in reservedPermission.
	for perm, level := range m.DefaultPermissions {
		key := perm + ":" + level
		used := false
		for _, r := range routes {
			for _, alt := range routePermission[r] {
				used = used || alt == key
			}
		}
		for ev := range server.HandledEvents() {
			used = used || (level == "read" && slices.Contains(eventPermission[ev], perm))
		}
		if perm == "metadata" {
			used = true // GitHub grants it to every app
		}
		if !used {
			if why, ok := reservedPermission[key]; ok {
				t.Logf("%s: not reached by the scenario; kept for %s", key, why)
				continue
			}
			t.Errorf("app.yml asks for %s, which no route the bot calls and no handled event needs: remove it, or name the feature in reservedPermission", key)
		}
	}
	t.Logf("routes called: %d distinct, %d calls\n%s", len(routes), len(calls), strings.Join(routes, "\n"))
	// The scenario must reach what makes the check: if it stops writing
	// check runs, it no longer tests the permissions that matter.
	for _, must := range []string{"POST /repos/{owner}/{repo}/check-runs", "GET /repos/{owner}/{repo}/pulls/{pull_number}",
		"GET /repos/{owner}/{repo}/contents/{path}", "GET /repos/{owner}/{repo}/branches/{branch}/protection"} {
		if seen[must] == 0 {
			t.Errorf("the scenario never called %s; it no longer exercises the bot", must)
		}
	}
}

const (
	secret = "manifest-test-secret"
	repo   = "acme/infra"
	policy = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/infra]
`
	agentTrailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
)

// runScenario drives the whole product over HTTP and returns the REST calls
// the bot made.
func runScenario(t *testing.T) []githubsim.Call {
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret})
	t.Cleanup(sim.Close)
	base := sim.Start()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(app.Options{
		Settings: server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
		Logger:   log,
		GitHub:   ghapp.Options{MaxAttempts: 2, RetryBaseDelay: time.Millisecond},
		Server:   server.Options{Retry: server.RetryPolicy{Attempts: 3, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := a.Server
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	srv.SetReady(true)
	sim.SetWebhook(hs.URL+"/webhook", secret)

	sim.AddOrg("acme")
	for _, u := range []string{"alice", "bob", "dave"} {
		sim.AddUser(u)
	}
	sim.AddTeam("acme", "infra", "bob")
	sim.AddRepo(repo, map[string]string{"README.md": "# infra\n", "infra/main.tf": "# a\n", ".github/countersign.yml": policy + "deployments:\n  environments: [production]\n"})
	sim.AddRepo("acme/app", map[string]string{"README.md": "# app\n"})
	for _, u := range []string{"alice", "bob", "dave"} {
		sim.SetPermission(repo, u, "write")
	}
	inst := sim.Install("acme", repo)
	idle(t, sim, srv)

	alice := githubsim.Identity{Name: "Alice", Email: "alice@acme.test", Login: "alice"}
	dave := githubsim.Identity{Name: "Dave", Email: "dave@acme.test", Login: "dave"}
	// An agent's Terraform change, approved by the owning team.
	head := sim.Push(repo, "claude/resize", githubsim.CommitSpec{Author: alice, Message: "Resize" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "# b\n"}})
	n := sim.OpenPR(repo, githubsim.PRSpec{Author: "alice", Head: "claude/resize", Base: "main", Title: "Resize"})
	idle(t, sim, srv)
	sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")
	sim.EditPR(repo, n, "Resize the cluster", "Written with Claude Code")
	sim.Comment(repo, n, "bob", "/countersign explain")
	idle(t, sim, srv)
	// The approved pull request enters a merge queue.
	sim.EnqueueMergeGroup(repo, n, "bob")
	idle(t, sim, srv)
	// A human's documentation change.
	sim.Push(repo, "docs", githubsim.CommitSpec{Author: dave, Message: "Typo", Files: map[string]string{"README.md": "# Infra\n"}})
	sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "docs", Base: "main", Title: "Typo"})
	idle(t, sim, srv)
	// Somebody asks for a re-run.
	if cr := sim.LatestCheckRun(repo, head, "countersign"); cr != nil {
		sim.RerequestCheckRun(repo, cr.GetID(), "bob")
	} else {
		t.Error("no countersign check run on the agent's head")
	}
	// The policy changes on the default branch; a repository is added.
	sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Policy", Files: map[string]string{".github/countersign.yml": policy + "deployments:\n  environments: [production]\n\n"}})
	sim.AddInstallationRepos(inst, "acme/app")
	idle(t, sim, srv)
	// The approved pull request merges; an agent's commit is pushed straight
	// to main (the bypass alarm); both are deployed (the deploy gate).
	merged := sim.MergePR(repo, n, "bob", githubsim.MergeMethodMerge)
	bypass := sim.Push(repo, "main", githubsim.CommitSpec{Author: alice, Message: "Hotfix" + agentTrailer, Files: map[string]string{"infra/main.tf": "# c\n"}})
	idle(t, sim, srv)
	sim.RequestDeployment(repo, "production", merged, "bob")
	sim.RequestDeployment(repo, "production", bypass, "bob")
	idle(t, sim, srv)
	alarmed := 0
	for _, is := range sim.Issues(repo) {
		if strings.HasSuffix(is.GetTitle(), bypass[:7]) {
			alarmed++
		}
	}
	if len(sim.DeploymentReviews(repo)) != 2 || alarmed != 1 {
		t.Errorf("the scenario's deployments got %d answers and its bypass %d issues; want 2 and 1", len(sim.DeploymentReviews(repo)), alarmed)
	}
	// countersign doctor runs with the same app: its calls count too.
	sim.AddEnvironment(repo, "production", true)
	sim.SetBranchProtection(repo, "main", &github.Protection{RequiredStatusChecks: &github.RequiredStatusChecks{
		Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: github.Int64(sim.AppID())}}}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	doctor.Run(ctx, doctor.Options{App: a.GitHub, Repo: repo})
	return sim.Calls()
}

// idle waits until the app has settled (app.Settle).
func idle(t *testing.T, sim *githubsim.Sim, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := app.Settle(ctx, sim, srv.Idle); err != nil {
		t.Fatalf("the server never became idle: %v", err)
	}
}
