package e2e_test

import (
	"testing"
)

// TestPassIsWithdrawnByNewRun: GitHub does not let a completed check run
// change its conclusion (the simulator refuses it, as GitHub does). A pass
// whose approval is dismissed is withdrawn by a new countersign run on the
// head, and the approval given again passes it with another; the latest run
// of that name is what GitHub's required check reads. Every run keeps the
// time Countersign first saw the head, which commands are bound to.
func TestPassIsWithdrawnByNewRun(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"w\" {}\n"})
	first := e.check(head, "action_required")

	review := e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.check(head, "success")
	e.idle()

	e.sim.DismissReview(repo, n, review, "alice")
	e.check(head, "action_required")
	e.idle()

	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.check(head, "success")
	e.idle()

	runs := 0
	for _, cr := range e.sim.CheckRuns(repo, head) {
		if cr.GetName() != "countersign" {
			continue
		}
		runs++
		if !cr.GetStartedAt().Time.Equal(first.GetStartedAt().Time) {
			t.Errorf("run %d started at %v; the head was first seen at %v", cr.GetID(), cr.GetStartedAt().Time, first.GetStartedAt().Time)
		}
	}
	if runs < 3 {
		t.Errorf("%d countersign runs on the head; each change of conclusion needs a new one", runs)
	}
	e.runsJustified(head)
}

// runsJustified fails the test when a countersign run on the head was
// created without need: each run after the first follows a completed one
// and either withdraws a pass or shows a different conclusion.
func (e *env) runsJustified(head string) {
	e.t.Helper()
	var prevStatus, prevConclusion string
	first := true
	for _, cr := range e.sim.CheckRuns(repo, head) {
		if cr.GetName() != "countersign" {
			continue
		}
		if !first {
			switch {
			case prevStatus != "completed":
				e.t.Errorf("run %d created while the previous one was %s", cr.GetID(), prevStatus)
			case prevConclusion != "success" && cr.GetConclusion() == prevConclusion:
				e.t.Errorf("run %d repeats the previous run's conclusion %s", cr.GetID(), prevConclusion)
			}
		}
		first = false
		prevStatus, prevConclusion = cr.GetStatus(), cr.GetConclusion()
	}
}
