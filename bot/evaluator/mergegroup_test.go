package evaluator

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestParseQueueRef(t *testing.T) {
	tests := []struct {
		ref  string
		want QueueEntry
		ok   bool
	}{
		{"refs/heads/gh-readonly-queue/main/pr-12-0123456789abcdef0123456789abcdef01234567", QueueEntry{12, "0123456789abcdef0123456789abcdef01234567"}, true},
		{"gh-readonly-queue/release/v2/pr-7-abcdef0", QueueEntry{7, "abcdef0"}, true},
		{"refs/heads/feature/pr-3-abcdef0", QueueEntry{}, false},
		{"refs/heads/gh-readonly-queue/main/pr-0-abcdef0", QueueEntry{}, false},
		{"refs/heads/gh-readonly-queue/main/pr-3-abc", QueueEntry{}, false},
		{"Merge pull request #3", QueueEntry{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseQueueRef(tc.ref)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseQueueRef(%q) = %+v, %v; want %+v, %v", tc.ref, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseQueueRef(f *testing.F) {
	f.Add("refs/heads/gh-readonly-queue/main/pr-12-abcdef0")
	f.Add("gh-readonly-queue//pr--")
	f.Add("gh-readonly-queue/a/pr-99999999999999999999999-abcdef0")
	f.Fuzz(func(t *testing.T, ref string) {
		e, ok := ParseQueueRef(ref)
		if ok && (e.Number <= 0 || len(e.BuiltOn) < 7 || !strings.HasSuffix(ref, e.BuiltOn)) {
			t.Fatalf("ParseQueueRef(%q) = %+v", ref, e)
		}
	})
}

// chain builds linear commits named by their SHAs, each the child of the previous.
func chain(base string, shas ...string) []*github.RepositoryCommit {
	var out []*github.RepositoryCommit
	prev := base
	for _, s := range shas {
		out = append(out, &github.RepositoryCommit{SHA: github.String(s), Commit: &github.Commit{Message: github.String("Fix (#1)")},
			Parents: []*github.Commit{{SHA: github.String(prev)}}})
		prev = s
	}
	return out
}

func TestGroupSegments(t *testing.T) {
	const base = "b000000000"
	// #2 queued first (commits a1, a2), #1 behind it (c1), #3 behind #1 (d1).
	commits := chain(base, "a100000000", "a200000000", "c100000000", "d100000000")
	tests := []struct {
		name      string
		head      string
		entries   map[string]QueueEntry
		owner     map[string]int
		wantTips  map[string]int
		commitsOf []*github.RepositoryCommit
	}{
		{"whole queue", "d100000000", map[string]QueueEntry{
			"d100000000": {3, "c100000"}, "c100000000": {1, "a200000000"}, "a200000000": {2, base}},
			map[string]int{"a100000000": 2, "a200000000": 2, "c100000000": 1, "d100000000": 3},
			map[string]int{"d100000000": 3, "c100000000": 1, "a200000000": 2}, commits},
		{"an entry's branch missing: the rest stays unplaced", "d100000000", map[string]QueueEntry{
			"d100000000": {3, "c100000"}, "a200000000": {2, base}},
			map[string]int{"d100000000": 3},
			map[string]int{"d100000000": 3}, commits},
		{"built on a commit outside the group: owns all it reaches", "a200000000", map[string]QueueEntry{
			"a200000000": {2, "e5e5e5e5e5"}},
			map[string]int{"a100000000": 2, "a200000000": 2},
			map[string]int{"a200000000": 2}, commits[:2]},
		{"head not a queue entry", "d100000000", map[string]QueueEntry{"c100000000": {1, base}},
			map[string]int{}, map[string]int{}, commits},
		{"a cycle of names ends, placing nothing twice", "a200000000", map[string]QueueEntry{
			"a200000000": {2, "a100000000"}, "a100000000": {1, "a200000000"}},
			map[string]int{"a200000000": 2},
			map[string]int{"a200000000": 2, "a100000000": 1}, commits[:2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			owner, tips := GroupSegments(tc.commitsOf, tc.head, tc.entries)
			if !maps.Equal(owner, tc.owner) || !maps.Equal(tips, tc.wantTips) {
				t.Fatalf("GroupSegments = %v, %v; want %v, %v", owner, tips, tc.owner, tc.wantTips)
			}
		})
	}
}
