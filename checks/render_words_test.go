package checks

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInProgress(t *testing.T) {
	tests := []struct {
		again          bool
		title, summary string
	}{
		{false, "Evaluating", "Countersign is gathering the facts of this pull request."},
		{true, "Evaluating again", "Countersign is evaluating this pull request again; the pass it showed is withdrawn until then."},
	}
	for _, tt := range tests {
		if title, summary := InProgress(tt.again); title != tt.title || summary != tt.summary {
			t.Errorf("InProgress(%v) = %q, %q; want %q, %q", tt.again, title, summary, tt.title, tt.summary)
		}
	}
}

func TestCouldNotEvaluate(t *testing.T) {
	tests := []struct {
		name, reason, title string
	}{
		{"reason in title", "GitHub said 502 Bad Gateway", "Could not evaluate: GitHub said 502 Bad Gateway"},
		{"long reason clipped", strings.Repeat("é", 2*MaxTitleRunes), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CouldNotEvaluate("acme/web", 7, "abc", tt.reason)
			if v.Conclusion != Failure || v.Repo != "acme/web" || v.Number != 7 || v.HeadSHA != "abc" {
				t.Errorf("verdict = %s %s#%d@%s", v.Conclusion, v.Repo, v.Number, v.HeadSHA)
			}
			if tt.title != "" && v.Title != tt.title {
				t.Errorf("title = %q, want %q", v.Title, tt.title)
			}
			if n := utf8.RuneCountInString(v.Title); n > MaxTitleRunes || !strings.HasPrefix(v.Title, CouldNotEvaluateTitle) {
				t.Errorf("title of %d runes: %.40q", n, v.Title)
			}
			if len(v.Errors) != 1 || v.Errors[0] != "could not evaluate: "+tt.reason+"; Countersign will try again" {
				t.Errorf("errors = %q", v.Errors)
			}
			if !strings.Contains(v.Markdown(), "Countersign will try again") {
				t.Errorf("summary does not say it will try again")
			}
		})
	}
}
