package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// runCases evaluates engine cases: conclusion, title and exclusions.
func runCases(t *testing.T, cases []engineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.policy, &tc.facts)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%s), want %s", v.Conclusion, v.Title, tc.want)
			}
			if tc.title != "" && v.Title != tc.title {
				t.Errorf("title = %q, want %q", v.Title, tc.title)
			}
			if tc.titleHas != "" && !strings.Contains(v.Title, tc.titleHas) {
				t.Errorf("title = %q, want it to contain %q", v.Title, tc.titleHas)
			}
			if tc.excluded != nil && !slices.Equal(excl(v), tc.excluded) {
				t.Errorf("excluded = %v, want %v", excl(v), tc.excluded)
			}
			if tc.check != nil {
				tc.check(t, v)
			}
		})
	}
}

// TestOverrideNeedsVisibleReasonAndStanding: an override's reason must have
// visible letters or digits (zero-width and other format characters are
// not a reason), and a person in overrides.users needs write permission,
// like an approver.
func TestOverrideNeedsVisibleReasonAndStanding(t *testing.T) {
	overridable := policy()
	overridable.Overrides = config.Overrides{Users: []string{"lead", "reader"}}
	with := func(rv Reviewer, reason string) Facts {
		return Facts{Repo: "acme/web", PR: copilotPR(), Commits: []detect.Commit{claudeCommit("c1")}, Files: files("web/a.go"),
			Reviewers: reviewers(rv), Overrides: []Override{{ID: 5, Login: rv.Login, UserType: "User", Reason: reason, CommitSHA: head}}}
	}
	runCases(t, []engineCase{
		{name: "a visible reason counts", policy: overridable, facts: with(writer("lead"), "prod is down"), want: Success},
		{name: "a reason of digits counts", policy: overridable, facts: with(writer("lead"), "#4711"), want: Success},
		{name: "zero-width spaces are no reason", policy: overridable, facts: with(writer("lead"), "\u200b\u200b"),
			want: ActionRequired, excluded: []string{"lead:override_without_reason"}},
		{name: "word joiners and BOM are no reason", policy: overridable, facts: with(writer("lead"), "\u2060 \ufeff \u200d"),
			want: ActionRequired, excluded: []string{"lead:override_without_reason"}},
		{name: "punctuation alone is no reason", policy: overridable, facts: with(writer("lead"), "... !!!"),
			want: ActionRequired, excluded: []string{"lead:override_without_reason"}},
		{name: "an overrider with read permission is refused", policy: overridable,
			facts: with(Reviewer{Login: "reader", Permission: config.PermissionRead, Type: "User"}, "hotfix"),
			want:  ActionRequired, excluded: []string{"reader:insufficient_permission"}},
		{name: "an overrider whose permission is unknown is refused", policy: overridable,
			facts: func() Facts { f := with(writer("lead"), "hotfix"); f.Reviewers = nil; return f }(),
			want:  ActionRequired, excluded: []string{"lead:unknown_reviewer"}},
	})
}
