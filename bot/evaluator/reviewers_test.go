package evaluator

import (
	"slices"
	"testing"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// TestRequestReviewNeverAsksWhoCannotCount: "Request review" (and
// `/countersign request-review @x`) never asks the pull request's author, an
// operator, or the author or committer of any commit, human or automation:
// the engine would not count their approval. It asks the engine who is not
// independent rather than keeping a shorter list of its own.
func TestRequestReviewNeverAsksWhoCannotCount(t *testing.T) {
	const head = "0123456789abcdef0123456789abcdef01234567"
	policy := &config.Policy{
		ProtectedPaths: config.ProtectedPaths{Presets: []string{}, Rules: []config.PathRule{{
			Name: "infra", Paths: []string{"infra/"},
			Approvers: config.Approvers{Users: []string{"alice", "bob", "carol", "dave", "olga", "erin"}},
		}}},
	}
	facts := &checks.Facts{
		Repo: "acme/web",
		PR:   checks.PullRequest{PullRequest: detect.PullRequest{AuthorLogin: "dave", AuthorType: "User", HeadRef: "fix"}, HeadSHA: head},
		Commits: []detect.Commit{
			// Alice wrote it, Bob amended it: both wrote the change.
			{SHA: "c1", Message: "Fix the VPC", AuthorName: "Alice", AuthorLogin: "alice", AuthorEmail: "alice@acme.test",
				CommitterName: "Bob", CommitterLogin: "bob", CommitterEmail: "bob@acme.test"},
			// Dependabot's commit, rebased and pushed by Carol.
			{SHA: "c2", Message: "Bump hashicorp/aws from 5.1 to 5.2", AuthorName: "dependabot[bot]", AuthorLogin: "dependabot[bot]",
				AuthorEmail:   "49699333+dependabot[bot]@users.noreply.github.com",
				CommitterName: "Carol", CommitterLogin: "carol", CommitterEmail: "carol@acme.test"},
			// Claude Code's commit, run by Olga.
			{SHA: "c3", Message: "Tighten the security group\n\nCo-Authored-By: Claude <noreply@anthropic.com>", AuthorName: "Olga",
				AuthorLogin: "olga", AuthorEmail: "olga@acme.test", CommitterName: "Olga", CommitterLogin: "olga", CommitterEmail: "olga@acme.test"},
		},
		Files: []checks.File{{Path: "infra/vpc.tf", Status: checks.StatusModified}},
	}
	compiled, err := checks.Compile(policy)
	if err != nil {
		t.Fatal(err)
	}
	v := compiled.Evaluate(facts)
	if v.Conclusion != checks.ActionRequired {
		t.Fatalf("fixture: verdict %s %q, want approvals missing", v.Conclusion, v.Title)
	}
	pr := &pull.PR{PullRequest: facts.PR, Owner: "acme", Repo: "web"}
	j := &judged{pr: pr, g: &pull.Gathered{PR: pr, Policy: policy, Compiled: compiled, Facts: facts}, v: v}

	rr, skipped := reviewers("acme", j, nil)
	if !slices.Equal(rr.users, []string{"erin"}) {
		t.Errorf("Request review asks %v (skipped %v); only @erin wrote no part of the change", rr.users, skipped)
	}
	for _, named := range []string{"@alice", "@bob", "@carol", "@dave", "@olga"} {
		rr, skipped := reviewers("acme", j, []string{named})
		if len(rr.users) != 0 || !slices.Contains(skipped, named) {
			t.Errorf("/countersign request-review %s asks %v (skipped %v); %s cannot count", named, rr.users, skipped, named)
		}
	}
}
