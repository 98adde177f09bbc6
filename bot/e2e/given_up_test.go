package e2e_test

import (
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestWorkGivenUpIsReplayedByTheSweep: bob leaves the organization while
// GitHub answers every call with 502, so the re-evaluation his removal asks
// for is retried and given up. A change of standing does not move the pull
// request's updated_at, so the sweep's usual test (check older than the last
// change) cannot see it: the work given up must be replayed by the next
// sweep, and bob's approval stop counting, once GitHub answers again.
func TestWorkGivenUpIsReplayedByTheSweep(t *testing.T) {
	e := newEnv(t, envOptions{attempts: 2})
	e.sim.AddUser("acme-owner")
	n, head := e.agentPR("claude/change", map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"})
	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.check(head, "success")
	e.idle()
	// Past the second of the verdict, so the sweep's own updated_at
	// comparison has nothing to find.
	last := time.Now()
	e.eventually("the clock is past the verdict's second", func() bool {
		return time.Now().Truncate(time.Second).After(last)
	})
	sweepNow(t, e.srv)
	e.idle()

	down := e.sim.Inject(githubsim.Fault{Status: 502})
	e.sim.RemoveOrgMember("acme", "bob", "acme-owner")
	e.idle() // every attempt failed; the work was given up
	down()
	if cr := e.settled(head); cr.GetConclusion() != "success" {
		t.Fatalf("the outage already changed the check: %s", cr.GetConclusion())
	}

	sweepNow(t, e.srv)
	e.idle()
	if cr := e.sim.LatestCheckRun(repo, head, "countersign"); cr.GetConclusion() != "action_required" {
		t.Fatalf("after the outage and a sweep the check is %s %s: the approval of someone who left the organization still counts", cr.GetStatus(), cr.GetConclusion())
	}
}
