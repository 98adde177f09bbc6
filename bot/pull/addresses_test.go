package pull

import (
	"errors"
	"slices"
	"testing"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
)

// TestGatherAsksGitHubOnlyAboutUnmatchedCoAuthors: GitHub is asked (once,
// about the commits naming them) only for addresses no fact ties to an
// account; its answer becomes Facts.Addresses; a failure leaves them
// unmatched without failing the evaluation (the engine then asks for more
// approvals, never fewer).
func TestGatherAsksGitHubOnlyAboutUnmatchedCoAuthors(t *testing.T) {
	devin := func(sha, msg string) detect.Commit {
		return detect.Commit{SHA: sha, AuthorName: "Devin AI", AuthorEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
			AuthorLogin: "devin-ai-integration[bot]", CommitterName: "Devin AI", CommitterEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
			CommitterLogin: "devin-ai-integration[bot]", Message: msg, Parents: 1}
	}
	pr := &PR{PullRequest: checks.PullRequest{PullRequest: detect.PullRequest{Number: 3, AuthorLogin: "devin-ai-integration[bot]", AuthorType: "Bot",
		HeadRef: "devin/1-x", Body: "Requested by: Alice Example (alice@acme.example)"}, HeadSHA: "h"}}
	human := detect.Commit{SHA: "c9", AuthorName: "Dave", AuthorEmail: "dave@corp.example", CommitterName: "Dave", CommitterEmail: "dave@corp.example",
		Message: "Tidy", Parents: 1}
	cases := []struct {
		name    string
		commits []detect.Commit
		err     error
		asked   []string
		want    map[string]string
	}{
		{"an operator named in a trailer: the commit naming her is asked about",
			[]detect.Commit{devin("c1", "Add retries\n\nCo-Authored-By: Alice <Alice@acme.example>"), devin("c2", "Fix typo")}, nil,
			[]string{"c1"}, map[string]string{"alice@acme.example": "alice"}},
		{"only in the PR body and an unlinked author: no commit names them, nothing asked",
			[]detect.Commit{devin("c2", "Fix typo"), human}, nil, nil, nil},
		{"everyone matched by login: nothing asked",
			[]detect.Commit{devin("c1", "Add retries\n\nCo-Authored-By: Alice <alice@acme.example>"),
				{SHA: "c3", AuthorName: "Alice", AuthorEmail: "alice@acme.example", AuthorLogin: "alice", CommitterEmail: "alice@acme.example", CommitterLogin: "alice", Message: "x", Parents: 1}},
			nil, nil, nil},
		{"GitHub failing leaves the addresses unmatched",
			[]detect.Commit{devin("c1", "Add retries\n\nCo-Authored-By: Alice <alice@acme.example>")}, errors.New("502"),
			[]string{"c1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fake{RepoName: "o/r", PRData: pr, CommitsData: tc.commits, FilesData: []checks.File{{Path: "a.go", Status: "modified"}},
				AddressesData: map[string]string{"alice@acme.example": "alice"}}
			if tc.err != nil {
				f.Errors = map[string]error{"Addresses": tc.err}
			}
			g, err := Gather(ctx(t), f, GatherOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Facts.Incomplete != "" {
				t.Errorf("facts incomplete: %s", g.Facts.Incomplete)
			}
			if calls := f.Calls("Addresses"); (tc.asked != nil) != (calls == 1) || calls > 1 {
				t.Errorf("Addresses called %d times, want %d", calls, len(tc.asked))
			}
			if !slices.Equal(f.AskedCommits, tc.asked) {
				t.Errorf("asked about %v, want %v", f.AskedCommits, tc.asked)
			}
			if len(g.Facts.Addresses) != len(tc.want) || g.Facts.Addresses["alice@acme.example"] != tc.want["alice@acme.example"] {
				t.Errorf("Facts.Addresses = %v, want %v", g.Facts.Addresses, tc.want)
			}
		})
	}
}
