package e2e_test

import (
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestSharedHeadOnDefaultBranch: when the shared head is already on the
// default branch, GitHub's commits/{sha}/pulls lists only the merged pull
// requests that introduced it, not the open ones at it. A pull request into
// a branch with a permissive policy must still not make the head pass while
// another one at that head, into a strict branch, needs an approval.
func TestSharedHeadOnDefaultBranch(t *testing.T) {
	e := newEnv(t, envOptions{})
	sha := e.sim.Push(repo, "feature", githubsim.CommitSpec{Author: alice, Message: "Change feature" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"d\" {}\n"}})
	// Two bases from main before the change: one keeps the default (strict)
	// policy, one relaxes it. Then main fast-forwards to the change.
	e.sim.Push(repo, "release", githubsim.CommitSpec{Author: dave, Message: "Start the release", Files: map[string]string{"RELEASE.md": "next\n"}})
	e.sim.Push(repo, "lax", githubsim.CommitSpec{Author: dave, Message: "Relax the policy", Files: map[string]string{".github/countersign.yml": laxPolicy}})
	e.sim.ForcePush(repo, "main", sha, "dave")
	e.idle()

	body := "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
	n1 := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "release", Title: "Change for the release", Body: body})
	e.check(sha, "action_required")
	n2 := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "lax", Title: "Same change", Body: body})
	e.idle()

	shared := false
	for _, w := range e.writes(sha) {
		if w.Conclusion == "success" {
			t.Fatalf("the shared head showed success (%q) while #%d needs an approval", w.Title, n1)
		}
		shared = shared || contains(w.Title, "PR #1:", "head shared with #2")
	}
	if !shared {
		t.Fatalf("no write on %.7s names the blocking pull request #%d (shared with #%d)", sha, n1, n2)
	}
	if cr := e.settled(sha); cr.GetConclusion() != "action_required" {
		t.Fatalf("check %s %q, want action_required", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}

	// Once #1 is approved, both pass and so does the head.
	e.sim.SubmitReview(repo, n1, "bob", "APPROVE", "")
	e.check(sha, "success")
}

// TestSharedHeadOnDefaultBranchListingFails: when the open pull requests
// cannot be listed, the head fails ("Could not evaluate") instead of passing.
func TestSharedHeadOnDefaultBranchListingFails(t *testing.T) {
	e := newEnv(t, envOptions{policy: laxPolicy})
	sha := e.sim.Push(repo, "feature", githubsim.CommitSpec{Author: alice, Message: "Change feature" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"d\" {}\n"}})
	e.sim.Push(repo, "release", githubsim.CommitSpec{Author: dave, Message: "Start the release", Files: map[string]string{"RELEASE.md": "next\n"}})
	e.sim.ForcePush(repo, "main", sha, "dave")
	e.idle()
	remove := e.sim.Inject(githubsim.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/pulls", Status: 502})
	e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "release", Title: "Change for the release",
		Body: "🤖 Generated with [Claude Code](https://claude.com/claude-code)"})
	cr := e.check(sha, "failure")
	if !contains(cr.GetOutput().GetTitle(), "Could not evaluate") {
		t.Fatalf("check title %q, want Could not evaluate", cr.GetOutput().GetTitle())
	}
	for _, w := range e.writes(sha) {
		if w.Conclusion == "success" {
			t.Fatalf("the head passed (%q) while the open pull requests could not be listed", w.Title)
		}
	}
	remove()
}
