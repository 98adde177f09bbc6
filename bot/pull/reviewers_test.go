package pull

import (
	"slices"
	"testing"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
)

// TestReviewerStandingIsNotReadForWhoCannotCount: Gather looks up the
// standing of reviewers whose approval can count, and of no one the engine
// holds not independent: the pull request's author, an operator, or the
// author or committer of any commit, human or automation.
func TestReviewerStandingIsNotReadForWhoCannotCount(t *testing.T) {
	const head = "0123456789abcdef0123456789abcdef01234567"
	approval := func(id int64, login string) checks.Review {
		return checks.Review{ID: id, Login: login, UserType: "User", State: checks.ReviewApproved, CommitSHA: head}
	}
	f := &Fake{
		RepoName: "acme/web",
		PRData:   &PR{PullRequest: checks.PullRequest{PullRequest: detect.PullRequest{AuthorLogin: "dave", AuthorType: "User"}, HeadSHA: head}},
		CommitsData: []detect.Commit{
			{SHA: "c1", Message: "Fix the VPC", AuthorLogin: "alice", AuthorEmail: "alice@acme.test", CommitterLogin: "bob", CommitterEmail: "bob@acme.test"},
			{SHA: "c2", Message: "Bump hashicorp/aws", AuthorName: "dependabot[bot]", AuthorLogin: "dependabot[bot]",
				AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com", CommitterLogin: "carol", CommitterEmail: "carol@acme.test"},
			{SHA: "c3", Message: "Tighten it\n\nCo-Authored-By: Claude <noreply@anthropic.com>", AuthorLogin: "olga", AuthorEmail: "olga@acme.test",
				CommitterLogin: "olga", CommitterEmail: "olga@acme.test"},
		},
		FilesData:   []checks.File{{Path: "infra/vpc.tf", Status: checks.StatusModified}},
		ReviewsData: []checks.Review{approval(1, "alice"), approval(2, "bob"), approval(3, "carol"), approval(4, "dave"), approval(5, "olga"), approval(6, "erin")},
		Reviewers:   map[string]checks.Reviewer{},
	}
	g, err := Gather(ctx(t), f, GatherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var looked []string
	for login := range g.Facts.Reviewers {
		looked = append(looked, login)
	}
	slices.Sort(looked)
	if !slices.Equal(looked, []string{"erin"}) {
		t.Errorf("standing looked up for %v; only @erin's approval can count", looked)
	}
}
