package e2e_test

import (
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// ownersPolicy has code owners approve Terraform files.
const ownersPolicy = `protected_paths:
  presets: []
  rules:
    - name: owned-infrastructure
      presets: [terraform]
      approvers:
        codeowners: true
`

// lostBaseChange opens three agent pull requests changing a Terraform file,
// each approved by approver unless it is "", waits until they pass, then makes change on main
// with every delivery lost (GitHub does not resend a delivery that never
// arrived), runs one sweep and returns the heads.
func lostBaseChange(t *testing.T, e *env, approver string, change func()) []string {
	t.Helper()
	var heads []string
	for _, b := range []string{"claude/a", "claude/b", "claude/c"} {
		n, head := e.agentPR(b, map[string]string{"infra/main.tf": "resource \"null_resource\" \"lost-" + b[len(b)-1:] + "\" {}\n"})
		if approver != "" {
			e.sim.SubmitReview(repo, n, approver, "APPROVE", "")
		}
		heads = append(heads, head)
	}
	for _, h := range heads {
		e.check(h, "success")
	}
	e.idle()
	// Past the second of every verdict, so the sweep's own updated_at
	// comparison has nothing to find.
	last := time.Now()
	e.eventually("the clock is past the verdicts' second", func() bool {
		return time.Now().Truncate(time.Second).After(last)
	})
	sweepNow(t, e.srv)
	e.idle()

	e.sim.DropDeliveries(1)
	change()
	e.idle()
	e.sim.DropDeliveries(0)
	for _, h := range heads {
		if cr := e.sim.LatestCheckRun(repo, h, "countersign"); cr.GetConclusion() != "success" {
			t.Fatalf("the change reached the server although its delivery was dropped: %s on %.7s", cr.GetConclusion(), h)
		}
	}
	sweepNow(t, e.srv)
	e.idle()
	return heads
}

// TestSweepAppliesALostPolicyChange: a policy-tightening push whose webhook
// never arrived (lost, or acknowledged by a process that died before acting
// on it) is applied by one sweep to every open pull request: the sweep
// compares the policy each check run was judged under (its marker) with the
// base branch's, without Redis.
func TestSweepAppliesALostPolicyChange(t *testing.T) {
	e := newEnv(t, envOptions{policy: loosePolicy})
	heads := lostBaseChange(t, e, "", func() {
		e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Protect Terraform",
			Files: map[string]string{".github/countersign.yml": policy}})
	})
	for _, h := range heads {
		e.check(h, "action_required")
	}
}

// TestSweepAppliesALostCodeOwnersChange: the same for CODEOWNERS when the
// policy has code owners approve: bob's approval stops counting once the
// files are dave's, after one sweep.
func TestSweepAppliesALostCodeOwnersChange(t *testing.T) {
	e := newEnv(t, envOptions{policy: ownersPolicy, files: map[string]string{".github/CODEOWNERS": "infra/ @bob\n"}})
	heads := lostBaseChange(t, e, "bob", func() {
		e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "infra is dave's",
			Files: map[string]string{".github/CODEOWNERS": "infra/ @dave\n"}})
	})
	for _, h := range heads {
		e.check(h, "action_required")
	}
}
