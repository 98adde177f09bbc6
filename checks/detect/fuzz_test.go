package detect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseTrailers checks that every trailer returned is a line of the
// message's last paragraph with a well-formed key.
func FuzzParseTrailers(f *testing.F) {
	for _, tc := range commitCases {
		f.Add(tc.c.Message)
	}
	for _, s := range []string{
		"", "\n", "x\n\nKey: v\n  cont", "x\n\n---------\nCo-authored-by: a <b>", "x\n\n---\n", "x\r\n\r\nA: b\r\n",
		"x\n\n[ note ]\nSigned-off-by: a <b>", "x\n\n\tA: b", "x\n\nA : b\n B\n\n\n", "x\n\n:\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		for _, tr := range ParseTrailers(msg) {
			if tr.Key == "" || !strings.HasPrefix(tr.Line, tr.Key) {
				t.Fatalf("trailer %+v: line does not start with its key", tr)
			}
			for i := 0; i < len(tr.Key); i++ {
				c := tr.Key[i]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
					t.Fatalf("trailer key %q has %q", tr.Key, c)
				}
			}
			if !strings.Contains(msg, tr.Line) {
				t.Fatalf("trailer line %q is not in the message", tr.Line)
			}
			if tr.Value != strings.TrimSpace(tr.Value) {
				t.Fatalf("trailer value %q is not trimmed", tr.Value)
			}
		}
	})
}

var fuzzDetector = func() *Detector {
	d, err := New(Options{Custom: []CustomAgent{{ID: "acme", Emails: []string{"*@acme.dev"}, Trailers: []string{`^Acme:`}, Branches: []string{`acme/.+`}, Markers: []string{"<!-- acme -->"}}},
		Automation: []CustomBot{{ID: "robot", Logins: []string{"robot"}, Emails: []string{"robot-*@acme.dev"}}}})
	if err != nil {
		panic(err)
	}
	return d
}()

// FuzzCommit checks the classification invariants on arbitrary commits: an
// agent verdict names an agent backed by a strong or medium signal, signals
// are strongest first, and an operator is never an empty identity.
func FuzzCommit(f *testing.F) {
	for _, tc := range commitCases {
		c := tc.c
		f.Add(c.AuthorName, c.AuthorEmail, c.AuthorLogin, c.CommitterName, c.CommitterEmail, c.CommitterLogin, c.Message)
	}
	f.Fuzz(func(t *testing.T, an, ae, al, cn, ce, cl, msg string) {
		det := fuzzDetector.Commit(Commit{AuthorName: an, AuthorEmail: ae, AuthorLogin: al, CommitterName: cn, CommitterEmail: ce, CommitterLogin: cl, Message: msg})
		if err := invariants(det); err != "" {
			t.Fatalf("%s: %+v", err, det)
		}
		if det.Class == ClassAgent && det.AgentName != "" && !utf8.ValidString(det.AgentName) && utf8.ValidString(msg) {
			t.Fatalf("agent name %q is not valid UTF-8", det.AgentName)
		}
	})
}

// FuzzPullRequest checks the same invariants on arbitrary pull requests.
func FuzzPullRequest(f *testing.F) {
	for _, tc := range prCases {
		p := tc.pr
		label := ""
		if len(p.Labels) > 0 {
			label = p.Labels[0]
		}
		f.Add(p.AuthorLogin, p.AuthorType, p.AuthorID, p.HeadRef, p.Title, p.Body, label)
	}
	f.Fuzz(func(t *testing.T, login, typ string, id int64, head, title, body, label string) {
		det := fuzzDetector.PullRequest(PullRequest{AuthorLogin: login, AuthorType: typ, AuthorID: id, HeadRef: head, Title: title, Body: body, Labels: []string{label}})
		if err := invariants(det); err != "" {
			t.Fatalf("%s: %+v", err, det)
		}
	})
}

// benchCommits is a realistic mix: mostly human commits, some agent
// trailers, a Copilot squash merge, a Dependabot bump.
var benchCommits = func() []Commit {
	var out []Commit
	for _, tc := range commitCases {
		out = append(out, tc.c)
	}
	return out
}()

// BenchmarkCommit measures one Commit call over the table's commits; the
// engine classifies 250 commits per evaluation within a 2 ms budget.
func BenchmarkCommit(b *testing.B) {
	d := mustNew(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Commit(benchCommits[i%len(benchCommits)])
	}
}

// BenchmarkCommitHuman measures the common case: a plain human commit.
func BenchmarkCommitHuman(b *testing.B) {
	d := mustNew(b, Options{})
	c := human("Jane Doe", "1234+jane@users.noreply.github.com", "checks: index protected paths by first segment\n\nThe engine walked every rule for every file; bucket the rules by\ntheir first literal path segment so a push touching 2,000 files\nstays under the budget.\n\nSigned-off-by: Jane Doe <1234+jane@users.noreply.github.com>\n")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Commit(c)
	}
}

// BenchmarkPullRequest measures PullRequest over the table's PRs.
func BenchmarkPullRequest(b *testing.B) {
	d := mustNew(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.PullRequest(prCases[i%len(prCases)].pr)
	}
}
