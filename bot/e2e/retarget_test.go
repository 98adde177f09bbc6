package e2e_test

import (
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestRetargetVoidsApproval: changing a pull request's base changes its
// diff at the same head, so an approval given before the change does not
// count. alice's agent changes infra/main.tf on stack-base; an agent docs
// fix on top is proposed against stack-base (docs only) and bob approves it,
// by review or by comment; the base is then changed to main, which brings
// the Terraform change into the diff bob never saw. The approval is stale
// with the reason said; one given after the change counts again.
func TestRetargetVoidsApproval(t *testing.T) {
	for _, by := range []string{"review", "comment"} {
		t.Run(by, func(t *testing.T) {
			e := newEnv(t, envOptions{policy: policy + "commands:\n  approve: true\n"})
			m := e.sim.Push(repo, "stack-top", githubsim.CommitSpec{Author: alice, Message: "Open the firewall" + agentTrailer,
				Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"open\" {}\n"}})
			e.sim.CreateBranch(repo, "stack-base", m)
			head := e.sim.Push(repo, "stack-top", githubsim.CommitSpec{Author: dave, Message: "Fix a typo in the guide" + agentTrailer,
				Files: map[string]string{"docs/guide.md": "Guide, fixed\n"}})
			n := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "stack-top", Base: "stack-base", Title: "Fix a typo"})
			cr := e.check(head, "action_required")
			e.idle()
			approve := func() {
				if by == "review" {
					e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
					return
				}
				e.afterStart(cr)
				e.sim.Comment(repo, n, "bob", "/countersign approve")
			}
			approve()
			e.check(head, "success")

			// A second later than the approval, so that a clock of whole
			// seconds cannot place the change and the approval together.
			e.eventually("a second after the approval", func() bool {
				return time.Now().UTC().Truncate(time.Second).After(cr.GetStartedAt().Time.Add(time.Second))
			})
			e.sim.SetPRBase(repo, n, "main", "dave")
			changed := time.Now()
			cr = e.settled(head)
			if cr.GetConclusion() == "success" {
				t.Fatalf("after the base changed to main: check %s %q; bob approved a diff without infra/main.tf", cr.GetConclusion(), cr.GetOutput().GetTitle())
			}
			if !contains(cr.GetOutput().GetText()+cr.GetOutput().GetSummary(), "approved before the base changed to main") {
				t.Errorf("the check does not say why bob's approval no longer counts:\n%s\n%s", cr.GetOutput().GetSummary(), cr.GetOutput().GetText())
			}

			// bob approves again, having seen the new diff: it counts.
			e.eventually("a second after the base changed", func() bool {
				return time.Now().UTC().Truncate(time.Second).After(changed)
			})
			approve()
			e.check(head, "success")
		})
	}
}

// TestRetargetUnseenVoidsApproval: when the retarget's delivery never
// arrives, the next evaluation finds the pull request at a base its record
// does not name, cannot place the change from its own records, and reads
// GitHub's issue events for it: bob's approval of the docs-only diff is
// stale all the same.
func TestRetargetUnseenVoidsApproval(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := e.sim.Push(repo, "stack-top", githubsim.CommitSpec{Author: alice, Message: "Open the firewall" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"open\" {}\n"}})
	e.sim.CreateBranch(repo, "stack-base", m)
	head := e.sim.Push(repo, "stack-top", githubsim.CommitSpec{Author: dave, Message: "Fix a typo in the guide" + agentTrailer,
		Files: map[string]string{"docs/guide.md": "Guide, fixed\n"}})
	n := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "stack-top", Base: "stack-base", Title: "Fix a typo"})
	e.check(head, "action_required")
	e.idle()
	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	cr := e.check(head, "success")
	e.idle()

	e.eventually("a second after the approval", func() bool {
		return time.Now().UTC().Truncate(time.Second).After(cr.GetCompletedAt().Time)
	})
	e.sim.DropNextDeliveries(1)
	e.sim.SetPRBase(repo, n, "main", "dave")
	e.idle()
	e.sim.RerequestCheckRun(repo, cr.GetID(), "dave")
	cr = e.settled(head)
	if cr.GetConclusion() == "success" {
		t.Fatalf("after an unseen retarget to main: check %s %q; bob approved a diff without infra/main.tf", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
	if !contains(cr.GetOutput().GetText()+cr.GetOutput().GetSummary(), "approved before the base changed to main") {
		t.Errorf("the check does not say why bob's approval no longer counts:\n%s\n%s", cr.GetOutput().GetSummary(), cr.GetOutput().GetText())
	}
}
