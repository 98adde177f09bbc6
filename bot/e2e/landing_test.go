package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

// landingPolicy is the e2e policy with an override team and the deploy gate
// judging production.
const landingPolicy = policy + `overrides:
  teams: [acme/leads]
deployments:
  environments: [production]
`

func newLandingEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, envOptions{policy: landingPolicy, landing: true})
	e.sim.AddTeam("acme", "leads", "erin")
	e.sim.SetPermission(repo, "root", "admin")
	return e
}

// landingRun waits until the pushed head has a completed countersign/landing
// check run and returns the newest.
func (e *env) landingRun(sha string) *github.CheckRun {
	e.t.Helper()
	var cr *github.CheckRun
	e.eventually(fmt.Sprintf("the landing record on %.7s", sha), func() bool {
		cr = e.sim.LatestCheckRun(repo, sha, "countersign/landing")
		return cr != nil && cr.GetStatus() == "completed"
	})
	e.idle()
	return e.sim.LatestCheckRun(repo, sha, "countersign/landing")
}

// bypassIssues returns the issues labelled countersign:bypass.
func (e *env) bypassIssues() []*github.Issue {
	var out []*github.Issue
	for _, is := range e.sim.Issues(repo) {
		for _, l := range is.Labels {
			if l.GetName() == "countersign:bypass" {
				out = append(out, is)
			}
		}
	}
	return out
}

func (e *env) bypassTotal() float64 {
	mfs, err := e.srv.Registry().Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "countersign_bypass_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// countersignedPR opens an agent PR touching Terraform and has bob (of
// acme/infra) approve it, so its countersign check passes.
func (e *env) countersignedPR(branch string) (int, string) {
	e.t.Helper()
	n, head := e.agentPR(branch, map[string]string{"infra/" + branch + ".tf": "resource \"null_resource\" \"b\" {}\n"})
	e.check(head, "action_required")
	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.check(head, "success")
	e.idle()
	return n, head
}

// TestLandingCountersignedMerges: a countersigned agent PR merged by squash,
// merge or rebase gets a passing landing record naming the agent, the
// operator and the approver, and no alarm.
func TestLandingCountersignedMerges(t *testing.T) {
	for _, method := range []string{githubsim.MergeMethodSquash, githubsim.MergeMethodMerge, githubsim.MergeMethodRebase} {
		t.Run(method, func(t *testing.T) {
			e := newLandingEnv(t)
			n, _ := e.countersignedPR("claude/" + method)
			head := e.sim.MergePR(repo, n, "alice", method)
			cr := e.landingRun(head)
			want := fmt.Sprintf("#%d by Claude Code for @alice, countersigned by @bob", n)
			if cr.GetConclusion() != "success" || !strings.Contains(cr.GetOutput().GetTitle(), want) {
				t.Fatalf("landing record %s %q; want success naming %q\n%s", cr.GetConclusion(), cr.GetOutput().GetTitle(), want, cr.GetOutput().GetSummary())
			}
			if got := e.bypassIssues(); len(got) != 0 {
				t.Fatalf("%d bypass issues for a countersigned merge", len(got))
			}
		})
	}
}

// TestLandingDirectAgentPush: an agent commit pushed straight to main fails
// the record, naming the pusher, and opens exactly one bypass issue even
// when the push is delivered again (a redelivery, and the same push under
// another delivery id, as a second replica or a restarted server sees it).
func TestLandingDirectAgentPush(t *testing.T) {
	e := newLandingEnv(t)
	head := e.sim.PushBy(repo, "main", "root", githubsim.CommitSpec{Author: alice, Message: "Hotfix the bucket" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"hot\" {}\n"}})
	cr := e.landingRun(head)
	sum := cr.GetOutput().GetSummary()
	if cr.GetConclusion() != "failure" || !strings.HasPrefix(cr.GetOutput().GetTitle(), "Landed without countersignature") ||
		!contains(sum, head[:7], "Claude Code", "infra/main.tf", "pushed by root", "alice") {
		t.Fatalf("landing record %s %q\n%s", cr.GetConclusion(), cr.GetOutput().GetTitle(), sum)
	}
	issues := e.bypassIssues()
	if len(issues) != 1 {
		t.Fatalf("%d bypass issues, want 1", len(issues))
	}
	is := issues[0]
	if is.GetTitle() != "Landed without countersignature on main at "+head[:7] || !contains(is.GetBody(), "@root", "@acme/leads", cr.GetHTMLURL()) {
		t.Fatalf("issue %q:\n%s", is.GetTitle(), is.GetBody())
	}

	// The same push again: redelivered, and under a new delivery id.
	var push githubsim.Delivery
	for _, d := range e.sim.Deliveries() {
		if d.Event == "push" && strings.Contains(string(d.Body), head) {
			push = d
		}
	}
	e.sim.Redeliver(push.ID)
	e.idle()
	if code := e.post("push", "another-guid-for-the-same-push", push.Body, sign(secret, push.Body)); code >= 300 {
		t.Fatalf("posting the push again: %d", code)
	}
	e.idle()
	if got := e.bypassIssues(); len(got) != 1 {
		t.Fatalf("%d bypass issues after the push was delivered again, want 1", len(got))
	}
	if got := e.bypassTotal(); got != 1 {
		t.Fatalf("countersign_bypass_total = %v, want 1", got)
	}
}

// TestLandingAdminMergeOfActionRequired: an admin merging a PR whose check
// said action_required lands it without countersignature.
func TestLandingAdminMergeOfActionRequired(t *testing.T) {
	e := newLandingEnv(t)
	n, prHead := e.agentPR("claude/admin", map[string]string{"infra/admin.tf": "x = 1\n"})
	e.check(prHead, "action_required")
	e.idle()
	head := e.sim.MergePR(repo, n, "root", githubsim.MergeMethodSquash)
	cr := e.landingRun(head)
	if cr.GetConclusion() != "failure" || !contains(cr.GetOutput().GetSummary(), fmt.Sprintf("#%d was merged while its countersign check was action required", n), "root") {
		t.Fatalf("landing record %s %q\n%s", cr.GetConclusion(), cr.GetOutput().GetTitle(), cr.GetOutput().GetSummary())
	}
	if len(e.bypassIssues()) != 1 {
		t.Fatalf("%d bypass issues, want 1", len(e.bypassIssues()))
	}
}

// TestLandingHumanDocsPush: a human's docs change pushed directly needed
// nothing, and says so.
func TestLandingHumanDocsPush(t *testing.T) {
	e := newLandingEnv(t)
	head := e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Fix a typo", Files: map[string]string{"docs/guide.md": "Guide.\n"}})
	cr := e.landingRun(head)
	if cr.GetConclusion() != "success" || !strings.Contains(cr.GetOutput().GetTitle(), "by @dave, no approval needed") {
		t.Fatalf("landing record %s %q", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
	if len(e.bypassIssues()) != 0 {
		t.Fatal("a bypass issue for a change that needed nothing")
	}
	// A push to an unprotected branch gets no record.
	feature := e.sim.Push(repo, "feature", githubsim.CommitSpec{Author: dave, Message: "wip", Files: map[string]string{"docs/wip.md": "x\n"}})
	e.idle()
	if cr := e.sim.LatestCheckRun(repo, feature, "countersign/landing"); cr != nil {
		t.Fatalf("a landing record on an unprotected branch: %q", cr.GetOutput().GetTitle())
	}
}

// TestLandingMissingFactsFailThenRetry: when the pull-request look-up fails
// the record says failure and why, never success, and the retry accounts
// for the push once GitHub answers again.
func TestLandingMissingFactsFailThenRetry(t *testing.T) {
	e := newLandingEnv(t)
	remove := e.sim.Inject(githubsim.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", Status: 502})
	head := e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Docs", Files: map[string]string{"docs/guide.md": "More.\n"}})
	e.eventually("a failing record", func() bool {
		cr := e.sim.LatestCheckRun(repo, head, "countersign/landing")
		return cr != nil && cr.GetConclusion() == "failure"
	})
	cr := e.sim.LatestCheckRun(repo, head, "countersign/landing")
	if !strings.HasPrefix(cr.GetOutput().GetTitle(), "Could not account for this push: listing the pull requests of "+head[:7]) {
		t.Fatalf("failing record %q", cr.GetOutput().GetTitle())
	}
	remove()
	e.eventually("the retried record passes", func() bool {
		cr := e.sim.LatestCheckRun(repo, head, "countersign/landing")
		return cr != nil && cr.GetConclusion() == "success"
	})
	e.idle()
	for _, w := range e.sim.CheckRunWrites() {
		if w.Name == "countersign/landing" && w.Conclusion == "success" && w.Title == "" {
			t.Errorf("a passing write without a title")
		}
	}
	if len(e.bypassIssues()) != 0 {
		t.Fatal("missing facts raised the bypass alarm")
	}
}

// TestDeployGate: a countersigned commit deploys, the bypassing one is
// rejected with the reason, an environment the policy does not name is
// approved with a comment saying so, and missing facts give no answer at
// all until they can be read.
func TestDeployGate(t *testing.T) {
	e := newLandingEnv(t)
	n, _ := e.countersignedPR("claude/deploy")
	good := e.sim.MergePR(repo, n, "alice", githubsim.MergeMethodSquash)
	e.landingRun(good)
	bad := e.sim.PushBy(repo, "main", "root", githubsim.CommitSpec{Author: alice, Message: "Sneak" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "sneaky = true\n"}})
	e.landingRun(bad)

	review := func(run int64) githubsim.DeploymentReview {
		e.t.Helper()
		var got githubsim.DeploymentReview
		e.eventually(fmt.Sprintf("run %d answered", run), func() bool {
			for _, r := range e.sim.DeploymentReviews(repo) {
				if r.RunID == run {
					got = r
					return true
				}
			}
			return false
		})
		return got
	}
	if r := review(e.sim.RequestDeployment(repo, "production", good, "alice")); r.State != "approved" || !strings.Contains(r.Comment, "landed countersigned") {
		t.Fatalf("countersigned commit: %+v", r)
	}
	if r := review(e.sim.RequestDeployment(repo, "production", bad, "root")); r.State != "rejected" || !contains(r.Comment, bad[:7], "lacking a countersignature", "pushed directly") {
		t.Fatalf("bypassing commit: %+v", r)
	}
	if r := review(e.sim.RequestDeployment(repo, "staging", bad, "root")); r.State != "approved" || !strings.Contains(r.Comment, `does not judge "staging"`) {
		t.Fatalf("unjudged environment: %+v", r)
	}

	// Missing facts: no answer while the records cannot be read.
	remove := e.sim.Inject(githubsim.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/commits/{ref}/check-runs", Status: 502})
	run := e.sim.RequestDeployment(repo, "production", good, "alice")
	if err := e.sim.WaitDeliveries(e.ctx()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // several retries
	for _, r := range e.sim.DeploymentReviews(repo) {
		if r.RunID == run {
			t.Fatalf("answered %s with the records unreadable", r.State)
		}
	}
	remove()
	if r := review(run); r.State != "approved" {
		t.Fatalf("after the fault: %+v", r)
	}
	e.idle()
}

// TestLandingRecordIsMachineReadable: the record's text carries the JSON
// `countersign report` reads.
func TestLandingRecordIsMachineReadable(t *testing.T) {
	e := newLandingEnv(t)
	head := e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Docs", Files: map[string]string{"docs/guide.md": "x\n"}})
	cr := e.landingRun(head)
	_, js, ok := strings.Cut(cr.GetOutput().GetText(), "```json\n")
	if !ok {
		t.Fatalf("no JSON in the record's text: %q", cr.GetOutput().GetText())
	}
	var rec struct {
		Conclusion string `json:"conclusion"`
		After      string `json:"after"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimSpace(js), "```")), &rec); err != nil || rec.After != head || rec.Conclusion != "success" {
		t.Fatalf("record %+v, %v", rec, err)
	}
}

// budgetLanding is how many charged REST calls accounting for a push that
// merges one pull request may cost, beyond writing the record: the policy
// at the pushed commit, commits/{sha}/pulls for the merged commit, and the
// pull request's countersign check run.
const budgetLanding = 3

// TestLandingAPIBudget measures the REST calls of one push that squash-merges
// a countersigned pull request.
func TestLandingAPIBudget(t *testing.T) {
	for _, method := range []string{githubsim.MergeMethodSquash, githubsim.MergeMethodMerge, githubsim.MergeMethodRebase} {
		t.Run(method, func(t *testing.T) {
			e := newLandingEnv(t)
			n, _ := e.countersignedPR("claude/budget")
			e.sim.ResetCalls()
			head := e.sim.MergePR(repo, n, "alice", method)
			if cr := e.landingRun(head); cr.GetConclusion() != "success" {
				t.Fatalf("landing record %s %q", cr.GetConclusion(), cr.GetOutput().GetTitle())
			}
			var beyond []githubsim.Call
			for _, c := range e.sim.Calls() {
				if c.Method == "POST" && c.Route == "/repos/{owner}/{repo}/check-runs" && strings.Contains(string(c.RequestBody), `"countersign/landing"`) {
					continue // writing the record
				}
				if c.Status != 304 {
					beyond = append(beyond, c)
				}
			}
			var lines []string
			for _, c := range beyond {
				lines = append(lines, fmt.Sprintf("  %d %s %s", c.Status, c.Method, c.Route))
			}
			t.Logf("%s merge of #%d: %d charged calls beyond writing the record\n%s", method, n, len(beyond), strings.Join(lines, "\n"))
			if method == githubsim.MergeMethodSquash && len(beyond) > budgetLanding {
				t.Errorf("a push squash-merging one pull request made %d charged calls beyond writing the record, budget %d", len(beyond), budgetLanding)
			}
		})
	}
}
