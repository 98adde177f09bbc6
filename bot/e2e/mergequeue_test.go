package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestRebaseMergeGroupAttributesByQueue: a merge queue building its groups
// by rebase (new SHAs, GitHub as committer) holds PR #1, approved, behind
// PR #2, which lost its approval after it was queued. #2's only commit
// forges the subject "(#1)". The group of #1's entry holds #2's commits too;
// it fails naming #2: commits are attributed through GitHub's read-only
// queue branches, never through their subject lines.
func TestRebaseMergeGroupAttributesByQueue(t *testing.T) {
	e := newEnv(t, envOptions{})
	n1, sha1 := e.agentPR("one", map[string]string{"infra/one.tf": "resource \"null_resource\" \"one\" {}\n"})
	e.check(sha1, "action_required")
	sha2 := e.sim.Push(repo, "two", githubsim.CommitSpec{Author: alice,
		Message: fmt.Sprintf("Tweak the network (#%d)%s", n1, agentTrailer),
		Files:   map[string]string{"infra/two.tf": "resource \"null_resource\" \"two\" {}\n"}})
	n2 := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "two", Base: "main", Title: "Change two"})
	e.check(sha2, "action_required")
	if n1 != 1 || n2 != 2 {
		t.Fatalf("pull requests #%d and #%d, want #1 and #2", n1, n2)
	}
	e.sim.SubmitReview(repo, n1, "bob", "APPROVE", "")
	e.check(sha1, "success")
	r2 := e.sim.SubmitReview(repo, n2, "bob", "APPROVE", "")
	e.check(sha2, "success")

	g2 := e.sim.QueueMergeGroup(repo, n2, "dave", githubsim.MergeMethodRebase)
	e.check(g2, "success")
	e.sim.DismissReview(repo, n2, r2, "carol")
	e.check(sha2, "action_required")

	g1 := e.sim.QueueMergeGroup(repo, n1, "dave", githubsim.MergeMethodRebase)
	cr := e.check(g1, "failure")
	title, summary := cr.GetOutput().GetTitle(), cr.GetOutput().GetSummary()
	if !strings.Contains(title, "#2") {
		t.Fatalf("merge group title %q does not name #2", title)
	}
	if !strings.Contains(summary, "❌ #2") || !strings.Contains(summary, "✅ #1") {
		t.Fatalf("summary does not judge #1 and #2 each:\n%s", summary)
	}
}

// TestRebaseMergeGroupPasses: the same queue with both pull requests
// approved passes, each commit attributed to the entry whose group added it;
// a squash group behind them too.
func TestRebaseMergeGroupPasses(t *testing.T) {
	e := newEnv(t, envOptions{})
	n1, sha1 := e.agentPR("one", map[string]string{"infra/one.tf": "resource \"null_resource\" \"one\" {}\n"})
	e.sim.Push(repo, "one", githubsim.CommitSpec{Author: alice, Message: "Second commit" + agentTrailer, Files: map[string]string{"infra/one2.tf": "x\n"}})
	n2, sha2 := e.agentPR("two", map[string]string{"infra/two.tf": "resource \"null_resource\" \"two\" {}\n"})
	n3, sha3 := e.agentPR("three", map[string]string{"infra/three.tf": "resource \"null_resource\" \"three\" {}\n"})
	_ = sha1
	for _, n := range []int{n1, n2, n3} {
		e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	}
	e.check(e.sim.PR(repo, n1).GetHead().GetSHA(), "success")
	e.check(sha2, "success")
	e.check(sha3, "success")
	e.sim.QueueMergeGroup(repo, n2, "dave", githubsim.MergeMethodRebase)
	e.sim.QueueMergeGroup(repo, n1, "dave", githubsim.MergeMethodRebase)
	g := e.sim.QueueMergeGroup(repo, n3, "dave", githubsim.MergeMethodSquash)
	cr := e.check(g, "success")
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, fmt.Sprintf("#%d, #%d, #%d", n1, n2, n3)) {
		t.Fatalf("merge group title %q does not name the three pull requests", title)
	}
}
