package checks

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMergeGroup(t *testing.T) {
	const ref = "refs/heads/gh-readonly-queue/main/pr-9-abcdef0"
	ok := func(n int) GroupMember {
		return GroupMember{Number: n, State: "open", Verdict: &Verdict{Conclusion: Success, Title: "Approved"}}
	}
	needs := func(n int) GroupMember {
		return GroupMember{Number: n, State: "open", Verdict: &Verdict{Conclusion: ActionRequired, Title: "Needs a second approval"}}
	}
	tests := []struct {
		name      string
		g         GroupFacts
		want      Conclusion
		title     string
		inSummary []string
	}{
		{"every pull request approved", GroupFacts{Ref: ref, Members: []GroupMember{ok(9), ok(4)}}, Success,
			"Every pull request in the merge group is approved: #4, #9",
			[]string{"### Merge group `gh-readonly-queue/main/pr-9-abcdef0`", "- ✅ #4 — success: Approved\n- ✅ #9 — success: Approved\n"}},
		{"one not approved fails the group", GroupFacts{Ref: ref, Members: []GroupMember{ok(4), needs(9), needs(5)}}, Failure,
			"Not approved: #5, #9 (#5 action_required: Needs a second approval)",
			[]string{"- ❌ #5 — action_required: Needs a second approval", "- ✅ #4"}},
		{"a closed pull request fails the group", GroupFacts{Ref: ref, Members: []GroupMember{ok(4), {Number: 9, State: "closed", Verdict: &Verdict{Conclusion: Success}}}}, Failure,
			"Not approved: #9 (#9 the pull request is closed)", []string{"- ❌ #9 — the pull request is closed"}},
		{"a pull request that could not be evaluated fails the group", GroupFacts{Ref: ref, Members: []GroupMember{{Number: 9, Error: "rate limited"}, ok(4)}}, Failure,
			"Not approved: #9 (#9 could not evaluate: rate limited)", []string{"- ❌ #9 — could not evaluate: rate limited"}},
		{"a member without a verdict fails closed", GroupFacts{Ref: ref, Members: []GroupMember{{Number: 9, State: "open"}}}, Failure,
			"Not approved: #9 (#9 could not evaluate: no verdict)", nil},
		{"unaccounted commits fail even when all are approved", GroupFacts{Ref: ref, Members: []GroupMember{ok(9)}, Unaccounted: []string{"abc1234", "def5678"}}, Failure,
			"2 commits of the merge group belong to no evaluated pull request: abc1234, def5678",
			[]string{"- ✅ #9", "- ❌ commits of no evaluated pull request: abc1234, def5678"}},
		{"no pull request found", GroupFacts{Ref: ref}, Failure, "No pull request found in the merge group", nil},
		{"commits could not be listed", GroupFacts{Ref: ref, ListError: "the merge group has 300 commits; 250 were listed"}, Failure,
			"Could not list the merge group's pull requests: the merge group has 300 commits; 250 were listed", nil},
		{"list error wins over approved members", GroupFacts{Ref: ref, ListError: "boom", Members: []GroupMember{ok(9)}}, Failure,
			"Could not list the merge group's pull requests: boom", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := MergeGroup(tt.g)
			if d.Conclusion != tt.want || d.Title != tt.title {
				t.Errorf("MergeGroup = %s %q, want %s %q", d.Conclusion, d.Title, tt.want, tt.title)
			}
			if !strings.HasPrefix(d.Summary, "### Merge group `gh-readonly-queue/main/pr-9-abcdef0`\n\nEach pull request of the group was evaluated again") {
				t.Errorf("summary does not name the group: %q", d.Summary)
			}
			for _, s := range tt.inSummary {
				if !strings.Contains(d.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, d.Summary)
				}
			}
		})
	}
}

func TestMergeGroupClips(t *testing.T) {
	var un []string
	for i := 0; i < 20000; i++ {
		un = append(un, "abcdef0")
	}
	d := MergeGroup(GroupFacts{Ref: "gh-readonly-queue/main/pr-1-abcdef0", Members: []GroupMember{{Number: 1, Error: "x"}}, Unaccounted: un})
	if n := utf8.RuneCountInString(d.Title); n != MaxTitleRunes || !strings.HasSuffix(d.Title, "…") {
		t.Errorf("title of %d runes, want %d ending in …", n, MaxTitleRunes)
	}
	if len(d.Summary) > MaxSummary || !utf8.ValidString(d.Summary) {
		t.Errorf("summary of %d bytes (valid UTF-8 %v), want at most %d", len(d.Summary), utf8.ValidString(d.Summary), MaxSummary)
	}
}
