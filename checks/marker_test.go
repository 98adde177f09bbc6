package checks

import (
	"testing"

	"github.com/countersign/countersign/config"
)

func TestRunMarker(t *testing.T) {
	const (
		sha    = "0123456789abcdef0123456789abcdef01234567"
		blob   = "89abcdef0123456789abcdef0123456789abcdef"
		owners = "fedcba9876543210fedcba9876543210fedcba98"
	)
	tests := []struct {
		name string
		v    *Verdict
		want string
	}{
		{"a verdict on a repository policy", &Verdict{Conclusion: Failure, Policy: config.Source{SHA: sha, Blob: blob}}, "cs1:judged:" + sha + ":" + blob + ":"},
		{"the built-in default", &Verdict{Conclusion: Success, Policy: config.Source{Builtin: true}}, "cs1:judged:::"},
		{"could not evaluate", CouldNotEvaluate("a/b", 1, "abc", "GitHub said 502"), "cs1:incomplete:::"},
		{"incomplete facts", Evaluate(&config.Policy{}, &Facts{Incomplete: "the commits could not be listed"}), "cs1:incomplete:::"},
		{"a policy SHA that is not a commit is left out", &Verdict{Policy: config.Source{SHA: "main:x", Blob: "x:y"}}, "cs1:judged:::"},
		{"code owners read", &Verdict{Policy: config.Source{SHA: sha, Blob: blob}, CodeOwners: owners}, "cs1:judged:" + sha + ":" + blob + ":" + owners},
		{"code owners used, none there", &Verdict{Policy: config.Source{SHA: sha, Blob: blob}, CodeOwners: NoCodeOwners}, "cs1:judged:" + sha + ":" + blob + ":-"},
		{"code owners used, not known", &Verdict{CodeOwners: "main:x"}, "cs1:judged:::?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MarkerOf(tt.v).String()
			if got != tt.want {
				t.Errorf("MarkerOf = %q, want %q", got, tt.want)
			}
			if m, ok := ParseMarker(got); !ok || m != MarkerOf(tt.v) {
				t.Errorf("ParseMarker(%q) = %+v, %v; want it back", got, m, ok)
			}
		})
	}
}

func TestParseMarker(t *testing.T) {
	tests := []struct {
		in    string
		state string
		ok    bool
	}{
		{"cs1:judged:abc123", MarkJudged, true},
		{"cs1:incomplete:", MarkIncomplete, true},
		{"cs1:evaluating:", MarkEvaluating, true},
		{"cs1:group:", MarkGroup, true},
		{"", "", false},
		{"cs2:judged:", "", false},
		{"cs1:judged", "", false},
		{"cs1:passed:", "", false},
		{"cs1:judged:ABC", "", false},
		{"cs1:judged:abc:def", "", false},
		{"cs1:judged:abc:def:", MarkJudged, true},
		{"cs1:judged:abc:def:-", MarkJudged, true},
		{"cs1:judged:abc::?", MarkJudged, true},
		{"cs1:judged:abc:DEF:", "", false},
		{"cs1:judged:abc:def:x", "", false},
		{"cs1:judged:abc:def:-:", "", false},
		{"Could not evaluate: x", "", false},
	}
	for _, tt := range tests {
		m, ok := ParseMarker(tt.in)
		if ok != tt.ok || m.State != tt.state {
			t.Errorf("ParseMarker(%q) = %+v, %v; want state %q, %v", tt.in, m, ok, tt.state, tt.ok)
		}
	}
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{"cs1:judged:abc", "cs1:incomplete:", "", "cs1::", "cs1:group:0f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := ParseMarker(s)
		if !ok {
			return
		}
		if m.String() != s {
			t.Errorf("ParseMarker(%q) = %+v, which renders as %q", s, m, m.String())
		}
	})
}
