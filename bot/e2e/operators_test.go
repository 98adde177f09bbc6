package e2e_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

// devinPR pushes a commit Devin wrote for the human at operator (named
// only by address, in a Co-Authored-By trailer and the description's
// "Requested by" line) and opens its pull request as Devin's bot.
func (e *env) devinPR(branch, operator string) (int, string) {
	e.sim.AddBot("devin-ai-integration[bot]", 158243242)
	devin := githubsim.Identity{Name: "Devin AI", Email: "158243242+devin-ai-integration[bot]@users.noreply.github.com"}
	sha := e.sim.Push(repo, branch, githubsim.CommitSpec{Author: devin,
		Message: "Add retries\n\nRetry on 502.\n\nCo-Authored-By: Alice <" + operator + ">\n", Files: map[string]string{"docs/guide.md": "Guide, with retries\n"}})
	n := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "devin-ai-integration[bot]", Head: branch, Base: "main", Title: "Add retries",
		Body: "Adds retries.\n\nLink to Devin run: https://app.devin.ai/sessions/0123456789abcdef0123\nRequested by: Alice Example (" + operator + ")"})
	return n, sha
}

// graphQLCalls counts the POST /graphql calls since the last reset.
func (e *env) graphQLCalls() int {
	n := 0
	for _, c := range e.sim.Calls() {
		if c.Method == "POST" && c.Route == "/graphql" {
			n++
		}
	}
	return n
}

// TestDevinOperatorResolvedByVerifiedEmail: Devin names its operator only
// by address; GitHub (GraphQL Commit.authors) ties alice@acme.example to
// @alice, who verified it. Her approval does not count and the check says
// she is the operator; @bob's does, and the check passes with one.
func TestDevinOperatorResolvedByVerifiedEmail(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.AddVerifiedEmail("alice", "alice@acme.example")
	e.sim.ResetCalls()
	n, head := e.devinPR("devin/1733130000-retry", "alice@acme.example")
	e.check(head, "action_required")
	e.idle()
	if got := e.graphQLCalls(); got != 1 {
		t.Errorf("opened: %d GraphQL calls, want 1", got)
	}

	e.sim.SubmitReview(repo, n, "alice", "APPROVE", "")
	e.idle()
	cr := e.settled(head)
	sum := cr.GetOutput().GetSummary()
	if cr.GetConclusion() != "action_required" {
		t.Fatalf("the operator's own approval passed: %s %q", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
	if !strings.Contains(sum, "| @alice | review") || !strings.Contains(sum, "`operator`") {
		t.Errorf("the check does not say @alice is the operator:\n%s", sum)
	}
	if strings.Contains(sum, "could not be matched") {
		t.Errorf("the check calls a resolved operator unresolved:\n%s", sum)
	}

	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.check(head, "success")
}

// TestDevinOperatorNobodysAddress: an operator address no account has
// verified stays unresolved: the check names it and the agent review needs
// one more independent approval (alice's, whoever she is, cannot make up
// the configured one).
func TestDevinOperatorNobodysAddress(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, head := e.devinPR("devin/1733130001-retry", "nobody@acme.example")
	cr := e.check(head, "action_required")
	e.idle()
	if sum := cr.GetOutput().GetSummary(); !strings.Contains(sum, "operator nobody@acme.example could not be matched to a GitHub account") {
		t.Errorf("the check does not name the unresolved operator:\n%s", sum)
	}

	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.idle()
	cr = e.settled(head)
	if cr.GetConclusion() != "action_required" {
		t.Fatalf("one approval passed while the operator is unresolved: %s %q", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, "1 more") {
		t.Errorf("title %q does not ask for one more approval", title)
	}
	e.sim.SubmitReview(repo, n, "dave", "APPROVE", "")
	e.check(head, "success")
}
