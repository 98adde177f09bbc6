package evaluator

import (
	"slices"
	"testing"

	"github.com/google/go-github/v62/github"
)

func commit(msg, committerEmail string) *github.RepositoryCommit {
	return &github.RepositoryCommit{Commit: &github.Commit{Message: github.String(msg),
		Committer: &github.CommitAuthor{Email: github.String(committerEmail)}}}
}

func TestMergeGroupPRs(t *testing.T) {
	const gh = "noreply@github.com"
	tests := []struct {
		name    string
		ref     string
		commits []*github.RepositoryCommit
		head    string
		want    []int
	}{
		{"head ref only", "refs/heads/gh-readonly-queue/main/pr-12-0123456789abcdef0123456789abcdef01234567", nil, "", []int{12}},
		{"ref without refs/heads", "gh-readonly-queue/release/v2/pr-7-abcdef0", nil, "", []int{7}},
		{"merge commits of a group of three", "refs/heads/gh-readonly-queue/main/pr-9-abcdef0", []*github.RepositoryCommit{
			commit("Merge pull request #4 from acme/a\n\nA", gh),
			commit("Fix typo (#2)", "dev@acme.test"), // a PR's own commit, not GitHub's: no PR
			commit("Merge pull request #5 from acme/b\n\nB", gh),
			commit("Merge pull request #9 from acme/c\n\nC", gh),
		}, "Merge pull request #9 from acme/c\n\nC", []int{4, 5, 9}},
		{"squashed group", "refs/heads/gh-readonly-queue/main/pr-21-abcdef0", []*github.RepositoryCommit{
			commit("Add the thing (#20)\n\nbody", gh),
			commit("Other thing (#21)", gh),
		}, "Other thing (#21)", []int{20, 21}},
		{"mention in a body is not a PR", "", []*github.RepositoryCommit{
			commit("Subject\n\nMerge pull request #3", gh),
		}, "", nil},
		{"not a queue ref", "refs/heads/feature/pr-3-abcdef0", nil, "", nil},
		{"simulator's head message", "", nil, "Merge pull request #1\n\nChange one", []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MergeGroupPRs(tc.ref, tc.commits, tc.head); !slices.Equal(got, tc.want) {
				t.Fatalf("MergeGroupPRs = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzMergeGroupPRs(f *testing.F) {
	f.Add("refs/heads/gh-readonly-queue/main/pr-12-abcdef0", "Merge pull request #4 from a/b\n\nx", "Title (#9)")
	f.Add("gh-readonly-queue//pr--", "Merge pull request #", "(#)")
	f.Add("", "Merge pull request #99999999999999999999999", "T (#0)")
	f.Fuzz(func(t *testing.T, ref, msg, head string) {
		got := MergeGroupPRs(ref, []*github.RepositoryCommit{commit(msg, "noreply@github.com")}, head)
		if !slices.IsSorted(got) {
			t.Fatalf("not sorted: %v", got)
		}
		for i, n := range got {
			if n <= 0 || (i > 0 && got[i-1] == n) {
				t.Fatalf("bad numbers %v", got)
			}
		}
	})
}
