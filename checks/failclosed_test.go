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

// TestPolicyFileAlwaysProtected: whatever protected_paths.presets says (the
// documented `presets: []` recipe included), a change to the policy file
// needs an approval, and so does a change to CODEOWNERS when the policy lets
// code owners approve; the effective policy shows the rule.
func TestPolicyFileAlwaysProtected(t *testing.T) {
	parse := func(src string) *config.Policy {
		t.Helper()
		p, err := config.Parse(config.FileName, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	none := parse("protected_paths:\n  presets: []\nreview:\n  human:\n    approvals: 0\n")
	terraformOnly := parse("protected_paths:\n  presets: [terraform]\n")
	owners := parse("protected_paths:\n  presets: []\n  rules:\n    - name: infra\n      paths: [infra/]\n      approvers:\n        codeowners: true\n")
	human := func(paths ...string) Facts {
		return Facts{Repo: "acme/web", PR: humanPR("dave"), Commits: []detect.Commit{humanCommit("c1", "dave")}, Files: files(paths...)}
	}
	runCases(t, []engineCase{
		{name: "presets: [] still protects the policy file", policy: none, facts: human(".github/countersign.yml"),
			want: ActionRequired, titleHas: ".github/countersign.yml"},
		{name: "presets: [] still protects a .yaml policy file", policy: none, facts: human(".github/countersign.yaml"), want: ActionRequired},
		{name: "a preset list without countersign still protects it", policy: terraformOnly, facts: human(".github/countersign.yml"), want: ActionRequired},
		{name: "other files stay unprotected", policy: none, facts: human("docs/a.md"), want: Success},
		{name: "CODEOWNERS is protected when code owners approve", policy: owners, facts: human(".github/CODEOWNERS"), want: ActionRequired},
		{name: "CODEOWNERS is not protected when nobody uses it", policy: none, facts: human(".github/CODEOWNERS"), want: Success},
	})
	for _, tc := range []struct {
		p    *config.Policy
		want []string
	}{{none, []string{"countersign"}}, {terraformOnly, []string{"terraform", "countersign"}}, {owners, []string{"codeowners", "countersign"}}} {
		if got := tc.p.Effective().ProtectedPaths.Presets; !slices.Equal(got, tc.want) {
			t.Errorf("effective presets = %v, want %v", got, tc.want)
		}
	}
}

// TestPolicyFileRuleOfTheUsersOwn: a rule that already covers the policy
// file for every change is the one that applies; an agent-only rule is not
// enough, so the policy file's own rule is added.
func TestPolicyFileRuleOfTheUsersOwn(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{"protected_paths:\n  presets: []\n  rules:\n    - name: sec\n      presets: [countersign]\n      approvers: {teams: [acme/sec]}\n", []string{"sec"}},
		{"protected_paths:\n  presets: []\n  rules:\n    - name: sec\n      presets: [all]\n      applies_to: agent\n", []string{"sec", "countersign"}},
	} {
		p, err := config.Parse(config.FileName, []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range c.Rules() {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: rules %v, want %v", tc.src, got, tc.want)
		}
	}
}
