package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// Budgets of GitHub calls per event for a typical pull request, reads and
// writes together, in steady state (installation token already issued).
// "Charged" leaves out 304 Not Modified answers to conditional requests,
// which GitHub does not count against the rate limit. pull_request.opened:
// create the check run (no lookup: the head is new), the base branch's tip
// (where the policy is read; a 304 once known. It is resolved even though
// the payload names base.sha: a delayed or redelivered opened/synchronize
// delivery's base.sha can be stale, older than a policy-tightening push to
// the base branch, and reading the policy there could pass what the current
// policy fails), policy, one compare (commits and
// files), reviews, the policy's team, complete; the PR itself comes from the
// delivery. A review: reviews, the base branch's tip, the reviewers'
// permissions and the team revalidated (304s), complete. A review that
// makes the check pass costs budgetPass more: the open pull requests at the
// head (commits/{sha}/pulls), since the check run is the commit's and a pass
// is published only when every pull request at that head passes (charged the
// first time for a head, a 304 after).
const (
	budgetOpened        = 7
	budgetReview        = 6
	budgetReviewCharged = 3
	budgetPass          = 1
)

// TestAPIBudget measures the REST calls one evaluation makes for a typical
// pull request: 80 files in 10 commits, agent-authored and touching
// Terraform, the policy file present, then three reviews.
func TestAPIBudget(t *testing.T) {
	e := newEnv(t, envOptions{})
	started := time.Now()
	var head string
	for c := range 10 {
		files := map[string]string{}
		for f := range 8 {
			ext := ".go"
			if f == 0 {
				ext = ".tf"
			}
			files[fmt.Sprintf("svc%d/file%d%s", c, f, ext)] = fmt.Sprintf("commit %d file %d\n", c, f)
		}
		head = e.sim.Push(repo, "claude/big", githubsim.CommitSpec{Author: alice, Message: fmt.Sprintf("Step %d%s", c, agentTrailer), Files: files})
	}
	e.idle()

	// A delivery's snapshot is trusted only when GitHub stamped it after the
	// server started (its updated_at has whole seconds): open the PR in a
	// later second than the server's start, as any PR opened while it runs.
	e.eventually("the clock is past the server's first second", func() bool {
		return time.Now().Truncate(time.Second).After(started)
	})
	e.sim.ResetCalls()
	n := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "claude/big", Base: "main", Title: "Big change"})
	e.check(head, "action_required")
	e.idle()
	opened := e.callsOf(t, "pull_request.opened")
	if len(opened) > budgetOpened {
		t.Errorf("pull_request.opened made %d calls, budget %d", len(opened), budgetOpened)
	}
	for _, c := range opened {
		if c.Route == "/graphql" {
			t.Errorf("pull_request.opened asked GraphQL although every operator is known by login")
		}
		switch c.Route {
		case "/repos/{owner}/{repo}/pulls/{pull_number}", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", "/repos/{owner}/{repo}/pulls/{pull_number}/files":
			t.Errorf("pull_request.opened read %s: the delivery's snapshot and one compare should do", c.Route)
		}
	}

	for i, r := range []struct{ who, want string }{{"alice", "action_required"}, {"carol", "action_required"}, {"bob", "success"}} {
		e.sim.ResetCalls()
		e.sim.SubmitReview(repo, n, r.who, "APPROVE", "")
		e.check(head, r.want)
		e.idle()
		calls := e.callsOf(t, fmt.Sprintf("pull_request_review.submitted #%d (%s)", i+1, r.who))
		budget, budgetCharged := budgetReview, budgetReviewCharged
		if r.want == "success" {
			budget, budgetCharged = budget+budgetPass, budgetCharged+budgetPass
		}
		if len(calls) > budget {
			t.Errorf("review %d made %d calls, budget %d", i+1, len(calls), budget)
		}
		if c := charged(calls); c > budgetCharged {
			t.Errorf("review %d made %d charged calls, budget %d", i+1, c, budgetCharged)
		}
	}
}

// callsOf returns the calls since the last reset, logs them, and fails the
// test when one is repeated: no call is ever repeated within one evaluation.
func (e *env) callsOf(t *testing.T, what string) []githubsim.Call {
	t.Helper()
	calls := e.sim.Calls()
	seen := map[string]int{}
	var lines []string
	charged := 0
	for _, c := range calls {
		k := c.Method + " " + c.Path
		seen[k]++
		if seen[k] == 2 {
			t.Errorf("%s: %s repeated within one evaluation", what, k)
		}
		if c.Status != 304 {
			charged++
		}
		lines = append(lines, fmt.Sprintf("  %d %s %s", c.Status, c.Method, c.Route))
	}
	t.Logf("%s: %d calls (%d charged against the rate limit)\n%s", what, len(calls), charged, strings.Join(lines, "\n"))
	return calls
}

func charged(calls []githubsim.Call) int {
	n := 0
	for _, c := range calls {
		if c.Status != 304 {
			n++
		}
	}
	return n
}

// budgetUnresolved is what an evaluation may cost beyond the common path
// when an operator is named only by an address the REST facts do not tie to
// an account: one GraphQL query (Commit.authors of the commits naming it).
const budgetUnresolved = 1

// TestAPIBudgetUnresolvedOperator measures a Devin pull request whose
// operator is named only by address (a Co-Authored-By trailer and the
// description): each evaluation asks GitHub's GraphQL API once, and costs
// no more than the common path's budget plus budgetUnresolved.
func TestAPIBudgetUnresolvedOperator(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.AddVerifiedEmail("alice", "alice@acme.example")
	started := time.Now()
	e.eventually("the clock is past the server's first second", func() bool {
		return time.Now().Truncate(time.Second).After(started)
	})
	e.sim.ResetCalls()
	n, head := e.devinPR("devin/1733130002-retry", "alice@acme.example")
	e.check(head, "action_required")
	e.idle()
	opened := e.callsOf(t, "pull_request.opened (operator by address)")
	if got := graphQL(opened); got != budgetUnresolved {
		t.Errorf("pull_request.opened made %d GraphQL calls, want %d", got, budgetUnresolved)
	}
	if len(opened) > budgetOpened+budgetUnresolved {
		t.Errorf("pull_request.opened made %d calls, budget %d", len(opened), budgetOpened+budgetUnresolved)
	}
	for i, r := range []struct{ who, want string }{{"alice", "action_required"}, {"bob", "success"}} {
		e.sim.ResetCalls()
		e.sim.SubmitReview(repo, n, r.who, "APPROVE", "")
		e.check(head, r.want)
		e.idle()
		calls := e.callsOf(t, fmt.Sprintf("pull_request_review.submitted #%d (%s, operator by address)", i+1, r.who))
		budget, budgetCharged := budgetReview+budgetUnresolved, budgetReviewCharged+budgetUnresolved
		if r.want == "success" {
			budget, budgetCharged = budget+budgetPass, budgetCharged+budgetPass
		}
		if got := graphQL(calls); got != budgetUnresolved {
			t.Errorf("review %d made %d GraphQL calls, want %d", i+1, got, budgetUnresolved)
		}
		if len(calls) > budget {
			t.Errorf("review %d made %d calls, budget %d", i+1, len(calls), budget)
		}
		if c := charged(calls); c > budgetCharged {
			t.Errorf("review %d made %d charged calls, budget %d", i+1, c, budgetCharged)
		}
	}
}

func graphQL(calls []githubsim.Call) int {
	n := 0
	for _, c := range calls {
		if c.Route == "/graphql" {
			n++
		}
	}
	return n
}
