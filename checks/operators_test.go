package checks

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
)

// devinPR is a pull request Devin opened; body is its description.
func devinPR(body string) PullRequest {
	return PullRequest{
		PullRequest: detect.PullRequest{Number: 21, AuthorLogin: "devin-ai-integration[bot]", AuthorType: "Bot", AuthorID: 158243242,
			HeadRef: "devin/1733130000-retry", Title: "Add retries", Body: body},
		HeadSHA: head, BaseRef: "main", BaseSHA: oldHead,
	}
}

// devinCommit is Devin's commit naming the human who asked for it in a trailer.
func devinCommit(sha, trailer string) detect.Commit {
	msg := "Add retries\n\nRetry on 502."
	if trailer != "" {
		msg += "\n\n" + trailer
	}
	return detect.Commit{SHA: sha, AuthorName: "Devin AI", AuthorEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
		AuthorLogin: "devin-ai-integration[bot]", CommitterName: "Devin AI", CommitterEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
		CommitterLogin: "devin-ai-integration[bot]", Message: msg, Parents: 1}
}

// TestOperatorKnownOnlyByEmail: an operator the agent names only by address
// must not be able to approve her own agent's change. Where the address
// resolves to a login she is excluded by login; where it does not, the
// check names her and asks one more independent approval per such operator.
func TestOperatorKnownOnlyByEmail(t *testing.T) {
	const unresolved = "operator alice@acme.example could not be matched to a GitHub account"
	coAuthor := "Co-Authored-By: Alice <alice@acme.example>"
	requested := "Adds retries.\n\nLink to Devin run: https://app.devin.ai/sessions/0123456789abcdef0123\nRequested by: Alice Example (alice@acme.example)"
	trailerOnly := func(rs ...Review) Facts {
		return Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", coAuthor)}, Files: files("a.go"),
			Reviews: rs, Reviewers: reviewers(writer("alice"), writer("bob"), writer("carol"))}
	}
	requestedBy := func(rs ...Review) Facts {
		return Facts{PR: devinPR(requested), Commits: []detect.Commit{devinCommit("c1", "")}, Files: files("a.go"),
			Reviews: rs, Reviewers: reviewers(writer("alice"), writer("bob"), writer("carol"))}
	}
	// alice's own commit in the PR tells which account the address is.
	aliceCommit := func() detect.Commit {
		c := humanCommit("c2", "alice")
		c.AuthorEmail, c.CommitterEmail = "Alice@acme.example", "alice@acme.example"
		return c
	}
	cases := []struct {
		name       string
		policy     func() Facts
		want       Conclusion
		needed     int
		excluded   []string
		unresolved bool
	}{
		{"co-author by address: her approval alone does not pass",
			func() Facts { return trailerOnly(review(1, "alice", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"requested by address: her approval alone does not pass",
			func() Facts { return requestedBy(review(1, "alice", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"one independent approval is not enough while the operator is unknown",
			func() Facts { return trailerOnly(review(1, "bob", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"a second independent approval passes",
			func() Facts {
				return trailerOnly(review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head))
			}, Success, 2, nil, true},
		{"requested by: a second independent approval passes",
			func() Facts {
				return requestedBy(review(1, "bob", ReviewApproved, head), review(2, "carol", ReviewApproved, head))
			}, Success, 2, nil, true},
		{"an address a commit of the PR ties to a login resolves to it",
			func() Facts {
				f := trailerOnly(review(1, "alice", ReviewApproved, head))
				f.Commits = append(f.Commits, aliceCommit())
				return f
			}, ActionRequired, 1, []string{"alice:operator"}, false},
		{"resolved by a commit: one independent approval passes",
			func() Facts {
				f := requestedBy(review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head))
				f.Commits = append(f.Commits, aliceCommit())
				return f
			}, Success, 1, []string{"alice:operator"}, false},
		{"a noreply address resolves to its login",
			func() Facts {
				f := trailerOnly(review(1, "Alice", ReviewApproved, head))
				f.Commits[0] = devinCommit("c1", "Co-Authored-By: Alice <9+alice@users.noreply.github.com>")
				return f
			}, ActionRequired, 1, []string{"Alice:operator"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.policy()
			f.Repo = "acme/web"
			v := Evaluate(policy(), &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%q), want %s", v.Conclusion, v.Title, tc.want)
			}
			r := reqByName(v, ReqAgentReview)
			if r == nil {
				t.Fatalf("no agent-review requirement: %+v", v.Requirements)
			}
			if r.Needed != tc.needed {
				t.Errorf("agent review needs %d approvals, want %d", r.Needed, tc.needed)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for _, out := range []string{v.Markdown(), v.Text()} {
				if got := strings.Contains(out, unresolved); got != tc.unresolved {
					t.Errorf("check text names the unresolved operator = %v, want %v:\n%s", got, tc.unresolved, out)
				}
			}
		})
	}
}
