package checks

import "testing"

// TestSharedHead: a check run on a head shared by several open pull
// requests shows the worst of their verdicts, saying whose it is.
func TestSharedHead(t *testing.T) {
	ok := &Verdict{Conclusion: Success, Title: "Approved by @bob"}
	needs := &Verdict{Conclusion: ActionRequired, Title: "Needs 1 independent approval: agent-authored by Claude Code"}
	bad := &Verdict{Conclusion: Failure, Title: "Invalid policy: .github/countersign.yml:3: unknown key"}
	tests := []struct {
		name   string
		own    *Verdict
		others []SharedPR
		conc   Conclusion
		title  string
	}{
		{"alone", ok, nil, Success, "Approved by @bob"},
		{"others pass too", ok, []SharedPR{{8, ok}, {9, ok}}, Success, "Approved by @bob"},
		{"another needs approval", ok, []SharedPR{{8, needs}}, ActionRequired, "PR #8: Needs 1 independent approval: agent-authored by Claude Code (head shared with #7)"},
		{"the worst wins", ok, []SharedPR{{8, needs}, {9, bad}}, Failure, "PR #9: Invalid policy: .github/countersign.yml:3: unknown key (head shared with #7)"},
		{"the first of equals", ok, []SharedPR{{8, needs}, {9, needs}}, ActionRequired, "PR #8: Needs 1 independent approval: agent-authored by Claude Code (head shared with #7)"},
		{"own is as bad", needs, []SharedPR{{8, needs}}, ActionRequired, needs.Title},
		{"itself is skipped", ok, []SharedPR{{7, bad}}, Success, "Approved by @bob"},
		{"a missing verdict fails", ok, []SharedPR{{8, nil}}, Failure, "Could not evaluate: no verdict for #8, which shares this head"},
	}
	for _, tt := range tests {
		v := SharedHead(7, tt.own, tt.others)
		if v.Conclusion != tt.conc || v.Title != tt.title {
			t.Errorf("%s: %s %q, want %s %q", tt.name, v.Conclusion, v.Title, tt.conc, tt.title)
		}
	}
	if ok.Title != "Approved by @bob" || needs.Title[:5] != "Needs" {
		t.Errorf("SharedHead changed its inputs")
	}
}
