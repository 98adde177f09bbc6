package checks

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommands(t *testing.T) {
	type want struct {
		verb, args string
		line       int
		err        error
	}
	cases := []struct {
		name string
		body string
		want []want
	}{
		{"approve", "/countersign approve", []want{{VerbApprove, "", 1, nil}}},
		{"case and spaces", "LGTM\r\n   /Countersign   APPROVE  \r\n", []want{{VerbApprove, "", 2, nil}}},
		{"override with reason", "/countersign override prod is down, see INC-42", []want{{VerbOverride, "prod is down, see INC-42", 1, nil}}},
		{"override without reason", "/countersign override   ", []want{{VerbOverride, "", 1, ErrNeedsReason}}},
		{"recheck and explain", "/countersign recheck\n/countersign explain", []want{{VerbRecheck, "", 1, nil}, {VerbExplain, "", 2, nil}}},
		{"request-review", "/countersign request-review @acme/sre @bob", []want{{VerbRequestReview, "@acme/sre @bob", 1, nil}}},
		{"request-review without names", "/countersign request-review", []want{{VerbRequestReview, "", 1, nil}}},
		{"request-review with a bare word", "/countersign request-review bob", []want{{VerbRequestReview, "bob", 1, ErrBadReviewArgs}}},
		{"unknown verb", "/countersign aprove", []want{{"aprove", "", 1, ErrUnknownVerb}}},
		{"no verb", "/countersign", []want{{"", "", 1, ErrNoVerb}}},
		{"arguments where none are taken", "/countersign approve looks good", []want{{VerbApprove, "looks good", 1, ErrNoArgs}}},
		{"mid-line mention is not a command", "please run /countersign approve", nil},
		{"a longer word is not a command", "/countersigned approve", nil},
		{"quoted", "> /countersign approve\n>/countersign approve", nil},
		{"fenced backticks", "```\n/countersign approve\n```\n/countersign recheck", []want{{VerbRecheck, "", 4, nil}}},
		{"fenced tildes with info string", "~~~sh\n/countersign approve\n~~~~\n", nil},
		{"unclosed fence hides the rest", "```go\n/countersign approve", nil},
		{"shorter fence does not close", "````\n```\n/countersign approve\n````", nil},
		{"indented code block", "    /countersign approve", nil},
		{"html comment", "<!--\n/countersign approve\n-->\n/countersign explain", []want{{VerbExplain, "", 4, nil}}},
		{"one-line html comment", "<!-- hi -->\n/countersign explain", []want{{VerbExplain, "", 2, nil}}},
		{"tab after prefix", "/countersign\tapprove", []want{{VerbApprove, "", 1, nil}}},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseCommands(tc.body)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d commands %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Verb != w.verb || g.Args != w.args || g.Line != w.line {
					t.Errorf("command %d = %+v, want %+v", i, g, w)
				}
				if (w.err == nil) != (g.Err == nil) || (w.err != nil && !errors.Is(g.Err, w.err)) {
					t.Errorf("command %d error = %v, want %v", i, g.Err, w.err)
				}
			}
		})
	}
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{
		"/countersign approve",
		"LGTM\n\n/countersign override prod is down\n",
		"```\n/countersign approve\n```\n/countersign recheck",
		"> /countersign approve",
		"<!--\n/countersign approve\n-->",
		"/countersign request-review @acme/sre",
		"/countersign \xff\xfe",
		"   /COUNTERSIGN explain\r\n",
		"~~~\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		lines := strings.Count(body, "\n") + 1
		known := map[string]bool{}
		for _, v := range Verbs {
			known[v] = true
		}
		for _, c := range ParseCommands(body) {
			if c.Line < 1 || c.Line > lines {
				t.Fatalf("line %d out of 1..%d", c.Line, lines)
			}
			if !known[c.Verb] && c.Err == nil {
				t.Fatalf("unknown verb %q without an error", c.Verb)
			}
			if c.Verb == VerbOverride && c.Err == nil && strings.TrimSpace(c.Args) == "" {
				t.Fatalf("override without reason accepted")
			}
			if strings.ContainsAny(c.Raw, "\n") || !strings.HasPrefix(strings.ToLower(c.Raw), CommandPrefix) {
				t.Fatalf("raw %q is not one command line", c.Raw)
			}
			if utf8.ValidString(body) && !utf8.ValidString(c.Args) {
				t.Fatalf("args %q cut a rune", c.Args)
			}
		}
	})
}
