package githubsim

import "testing"

// TestCommitPullsOnDefaultBranch: commits/{sha}/pulls lists the open pull
// requests at a commit only while the commit is not on the default branch,
// as GitHub documents; the open-pulls listing still has them.
func TestCommitPullsOnDefaultBranch(t *testing.T) {
	f := setup(t, Options{})
	sha := f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "x", Files: map[string]string{"x": "1\n"}})
	f.sim.Push("acme/widgets", "release", CommitSpec{Author: Identity{Login: "alice"}, Message: "r", Files: map[string]string{"r": "1\n"}})
	n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Base: "release", Title: "t"})

	prs, _, err := f.client.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", sha, nil)
	if err != nil || len(prs) != 1 || prs[0].GetNumber() != n {
		t.Fatalf("off the default branch: %d pull requests, %v; want #%d", len(prs), err, n)
	}
	f.sim.ForcePush("acme/widgets", "main", sha, "alice")
	prs, _, err = f.client.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", sha, nil)
	if err != nil || len(prs) != 0 {
		t.Fatalf("on the default branch: %d pull requests, %v; want none (the open one is not listed)", len(prs), err)
	}
	open, _, err := f.client.PullRequests.List(ctx(t), "acme", "widgets", nil)
	if err != nil || len(open) != 1 || open[0].GetHead().GetSHA() != sha {
		t.Fatalf("open pull requests: %d, %v; want #%d at %.7s", len(open), err, n, sha)
	}
}
