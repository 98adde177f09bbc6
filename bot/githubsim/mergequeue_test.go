package githubsim

import (
	"testing"

	"github.com/google/go-github/v62/github"
)

// TestQueueMergeGroupRebase: a rebase queue stacks its entries, each on a
// read-only branch named after the commit it was built on; the rebased
// copies keep author and message, get GitHub as committer, and
// commits/{sha}/pulls associates them with no pull request.
func TestQueueMergeGroupRebase(t *testing.T) {
	f := setup(t, Options{})
	base := f.sim.Head("acme/widgets", "main")
	f.sim.Push("acme/widgets", "a", CommitSpec{Author: Identity{Name: "Al", Email: "al@x.test"}, Message: "A one", Files: map[string]string{"a": "1\n"}})
	f.sim.Push("acme/widgets", "a", CommitSpec{Author: Identity{Name: "Al", Email: "al@x.test"}, Message: "A two", Files: map[string]string{"a2": "1\n"}})
	na := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "a", Title: "A"})
	f.sim.Push("acme/widgets", "b", CommitSpec{Author: Identity{Name: "Bo", Email: "bo@x.test"}, Message: "B", Files: map[string]string{"b": "1\n"}})
	nb := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "b", Title: "B"})

	ga := f.sim.QueueMergeGroup("acme/widgets", na, "alice", MergeMethodRebase)
	gb := f.sim.QueueMergeGroup("acme/widgets", nb, "alice", MergeMethodRebase)
	refs, _, err := f.client.Git.ListMatchingRefs(ctx(t), "acme", "widgets", &github.ReferenceListOptions{Ref: "heads/gh-readonly-queue/main/"})
	if err != nil || len(refs) != 2 {
		t.Fatalf("queue branches: %d, %v", len(refs), err)
	}
	want := map[string]string{
		"refs/heads/gh-readonly-queue/main/pr-1-" + base: ga,
		"refs/heads/gh-readonly-queue/main/pr-2-" + ga:   gb,
	}
	for _, r := range refs {
		if want[r.GetRef()] != r.GetObject().GetSHA() {
			t.Errorf("branch %s at %.7s; want %v", r.GetRef(), r.GetObject().GetSHA(), want)
		}
	}
	cmp, _, err := f.client.Repositories.CompareCommits(ctx(t), "acme", "widgets", "main", gb, nil)
	if err != nil || len(cmp.Commits) != 3 {
		t.Fatalf("group commits: %v", err)
	}
	for i, msg := range []string{"A one", "A two", "B"} {
		c := cmp.Commits[i].GetCommit()
		if c.GetMessage() != msg || c.GetCommitter().GetEmail() != "noreply@github.com" {
			t.Errorf("commit %d: %q committed by %s", i, c.GetMessage(), c.GetCommitter().GetEmail())
		}
		prs, _, err := f.client.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", cmp.Commits[i].GetSHA(), nil)
		if err != nil || len(prs) != 0 {
			t.Errorf("commit %d is associated with %d pull requests, %v", i, len(prs), err)
		}
	}
	f.sim.DequeueMergeGroup("acme/widgets", na)
	refs, _, _ = f.client.Git.ListMatchingRefs(ctx(t), "acme", "widgets", &github.ReferenceListOptions{Ref: "heads/gh-readonly-queue/"})
	if len(refs) != 1 || refs[0].GetObject().GetSHA() != gb {
		t.Fatalf("after dequeuing #%d: %d branches", na, len(refs))
	}
}
