package e2e_test

import (
	"fmt"
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestBeyondListingLimitsReadsWithGit: a pull request with more commits than
// GitHub lists (250) is judged on all of them, read with git, so an agent's
// commit 261 commits back is still seen.
func TestBeyondListingLimitsReadsWithGit(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.Push(repo, "claude/long", githubsim.CommitSpec{Author: alice, Message: "Start" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"long\" {}\n"}})
	var head string
	for i := range 260 {
		head = e.sim.Push(repo, "claude/long", githubsim.CommitSpec{Author: dave, Message: fmt.Sprintf("Step %d", i),
			Files: map[string]string{"docs/steps.md": fmt.Sprintf("step %d\n", i)}})
	}
	e.idle()
	e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "claude/long", Base: "main", Title: "Long"})
	cr := e.settled(head)
	if cr.GetConclusion() != "action_required" {
		t.Fatalf("check %s %q, want action_required for the agent's Terraform change", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
	// Only the oldest commit is the agent's: it is seen only if all 261 were read.
	if !contains(cr.GetOutput().GetSummary(), "agent-review", "Claude Code") {
		t.Errorf("the agent's commit beyond the listing limit was not seen:\n%s", cr.GetOutput().GetSummary())
	}
	for _, c := range e.sim.Calls() {
		if c.Route == "/repos/{owner}/{repo}/pulls/{pull_number}/commits" {
			t.Errorf("listed the commits of a PR beyond the listing limit: %s", c.Path)
		}
	}
}
