package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign/config"
)

// TestBaseChangeStalesApprovals: an approval (review or comment) or an
// override made at or before the pull request's last base change judged
// the diff against another base and does not count, with the new base named;
// one made after it counts; a pull request whose base never changed (zero
// BaseChangedAt) is judged as before; with dismiss_stale off, approvals of
// another diff count, as approvals of another head do.
func TestBaseChangeStalesApprovals(t *testing.T) {
	// review(id, ...) is submitted at 00:id:00; the base changed at 00:05:00.
	changed := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	retargeted := func(at time.Time, reviews []Review, rv map[string]Reviewer) Facts {
		pr := copilotPR()
		pr.BaseChangedAt = at
		return Facts{Repo: "acme/web", PR: pr, Files: files("web/login.go"), Reviews: reviews, Reviewers: rv}
	}
	commentsOn := policy()
	commentsOn.Commands.Approve = ptr(true)
	dismissOff := policy()
	dismissOff.Review.DismissStale = ptr(false)
	overridable := policy()
	overridable.Overrides = config.Overrides{Users: []string{"lead"}}
	override := func(id int64, at time.Time) Override {
		return Override{ID: id, Login: "lead", UserType: "User", Reason: "hotfix", CommitSHA: head, At: at}
	}

	cases := []struct {
		name      string
		policy    *config.Policy
		facts     Facts
		overrides []Override
		want      Conclusion
		excluded  []string
		detail    string // the first exclusion's detail, when set
	}{
		{
			name: "a review before the base change is stale", policy: policy(),
			facts: retargeted(changed, []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:stale"}, detail: "approved before the base changed to main",
		},
		{
			name: "a review in the second of the base change is stale", policy: policy(),
			facts: retargeted(changed, []Review{review(5, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:stale"},
		},
		{
			name: "a review after the base change counts", policy: policy(),
			facts: retargeted(changed, []Review{review(6, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  Success,
		},
		{
			name: "a review with no time cannot be placed and is stale", policy: policy(),
			facts: retargeted(changed, []Review{{ID: 1, Login: "alice", UserType: "User", State: ReviewApproved, CommitSHA: head, Source: SourceReview}},
				reviewers(writer("alice"))),
			want: ActionRequired, excluded: []string{"alice:stale"},
		},
		{
			name: "a base that never changed leaves every approval of the head counting", policy: policy(),
			facts: retargeted(time.Time{}, []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  Success,
		},
		{
			name: "a comment approval before the base change is stale", policy: commentsOn,
			facts: retargeted(changed, []Review{commentApproval(2, "alice", head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:stale"}, detail: "approved before the base changed to main",
		},
		{
			name: "a comment approval after the base change counts", policy: commentsOn,
			facts: retargeted(changed, []Review{commentApproval(7, "alice", head)}, reviewers(writer("alice"))),
			want:  Success,
		},
		{
			name: "an approval of another head says the head moved first", policy: policy(),
			facts: retargeted(changed, []Review{review(1, "alice", ReviewApproved, oldHead)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:stale"}, detail: "approved 1a2b3c4, head is 5d6e7f8",
		},
		{
			name: "with dismiss_stale off an approval before the base change counts", policy: dismissOff,
			facts: retargeted(changed, []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  Success,
		},
		{
			name: "an override before the base change is stale", policy: overridable,
			facts: retargeted(changed, nil, reviewers(writer("lead"))), overrides: []Override{override(1, changed.Add(-time.Minute))},
			want: ActionRequired, excluded: []string{"lead:stale"}, detail: "override made before the base changed to main",
		},
		{
			name: "an override after the base change is in force", policy: overridable,
			facts: retargeted(changed, nil, reviewers(writer("lead"))), overrides: []Override{override(1, changed.Add(time.Second))},
			want: Success,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			f.Overrides = tc.overrides
			v := Evaluate(tc.policy, &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s, want %s (title %q, excluded %v)", v.Conclusion, tc.want, v.Title, excl(v))
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); !slices.Equal(got, want) {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			if tc.detail != "" && len(v.Excluded) > 0 && v.Excluded[0].Detail != tc.detail {
				t.Errorf("detail = %q, want %q", v.Excluded[0].Detail, tc.detail)
			}
		})
	}
}
