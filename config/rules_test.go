package config

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDefault(t *testing.T) {
	p := Default()
	if !p.Source.Builtin {
		t.Errorf("Default().Source.Builtin = false")
	}
	if got := p.Review.AgentApprovals(); got != 1 {
		t.Errorf("agent approvals = %d, want 1", got)
	}
	if got := p.Review.Agent.Approvers.MinPermission(); got != PermissionWrite {
		t.Errorf("agent approver permission = %q, want write", got)
	}
	if p.Review.HumanApprovals() != 0 || !p.Review.DismissStaleApprovals() || p.Commands.ApproveEnabled() || p.Overrides.Allowed() || !p.Agents.BuiltinEnabled() {
		t.Errorf("default review/commands/overrides/agents wrong: %+v", p)
	}
	rules := p.Rules()
	if len(rules) != len(Presets()) {
		t.Fatalf("default has %d rules, want one per preset (%d)", len(rules), len(Presets()))
	}
	for i, r := range rules {
		pr := Presets()[i]
		if r.Name != pr.Name || !r.FromPreset || r.NeededApprovals() != 1 || r.Scope() != AppliesToAll ||
			r.Approvers.MinPermission() != PermissionWrite || r.Approvers.Restricted() || r.ExtraDeletionApprovals() != 0 {
			t.Errorf("default rule %d = %+v", i, r)
		}
	}
}

func TestPresetSelection(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"", PresetNames()},
		{"protected_paths:\n  presets: []\n", nil},
		{"protected_paths:\n  presets: [docker, terraform, docker]\n", []string{"docker", "terraform"}},
		{"protected_paths:\n  presets: [all]\n", PresetNames()},
		{"protected_paths:\n  presets: [ci, all]\n", append([]string{"ci"}, slices.DeleteFunc(PresetNames(), func(s string) bool { return s == "ci" })...)},
	}
	for _, tt := range tests {
		p := mustParse(t, tt.src)
		var got []string
		for _, r := range p.Rules() {
			got = append(got, r.Name)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: rules %v, want %v", tt.src, got, tt.want)
		}
	}
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("countersign.yml", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return p
}

func TestRules(t *testing.T) {
	p := mustParse(t, `
protected_paths:
  presets: [terraform]
  rules:
    - name: workflows
      presets: [github-actions]
      paths: [scripts/release/]
      ignore: ["*.md"]
      approvals: 2
      approvers: {teams: [acme/security]}
    - name: agent-docs
      paths: [docs/]
      applies_to: agent
`)
	rules := p.Rules()
	if len(rules) != 3 || rules[0].Name != "terraform" || rules[1].Name != "workflows" || rules[2].Name != "agent-docs" {
		t.Fatalf("rules = %v", rules)
	}
	wf := rules[1]
	if wf.FromPreset || wf.NeededApprovals() != 2 || wf.Approvers.Teams[0] != "acme/security" {
		t.Errorf("workflows rule = %+v", wf)
	}
	gha, _ := LookupPreset("github-actions")
	if want := append(gha.Paths, "scripts/release/"); !slices.Equal(wf.Paths, want) {
		t.Errorf("workflows paths = %v, want the preset's globs then its own %v", wf.Paths, want)
	}
	for path, want := range map[string][]string{
		".github/workflows/ci.yml":     {"workflows"},
		"scripts/release/publish.sh":   {"workflows"},
		"scripts/release/NOTES.md":     nil,
		"infra/main.tf":                {"terraform"},
		"docs/guide.md":                {"agent-docs"},
		"src/main.go":                  nil,
		"docs/.github/workflows/x.yml": {"agent-docs"},
	} {
		var got, viaMatch []string
		for _, r := range p.MatchRules(path) {
			got = append(got, r.Name)
		}
		for _, r := range rules {
			if r.Match(path) {
				viaMatch = append(viaMatch, r.Name)
			}
		}
		if !slices.Equal(got, want) || !slices.Equal(viaMatch, want) {
			t.Errorf("%s: MatchRules %v, Match %v, want %v", path, got, viaMatch, want)
		}
	}
	if &p.Rules()[0] != &rules[0] {
		t.Errorf("Rules is not cached")
	}
}

func TestRulesOfLiteralPolicy(t *testing.T) {
	// A policy built in code (tests of other packages do) works too, and a
	// copy gets rules of its own.
	p := &Policy{ProtectedPaths: ProtectedPaths{Presets: []string{}, Rules: []PathRule{{Name: "x", Paths: []string{"x/"}}}}}
	if rs := p.Rules(); len(rs) != 1 || !rs[0].Match("x/y") {
		t.Fatalf("literal policy rules = %v", rs)
	}
	q := *p
	q.ProtectedPaths.Rules = []PathRule{{Name: "y", Paths: []string{"y/"}}}
	if rs := q.Rules(); len(rs) != 1 || rs[0].Name != "y" || !rs[0].Match("y/z") {
		t.Errorf("copy shares the original's compiled rules: %v", rs)
	}
	// A Rule built in code matches without Rules().
	r := &Rule{PathRule: PathRule{Paths: []string{"*.tf"}}}
	if !r.Match("a/b.tf") {
		t.Errorf("uncompiled rule does not match")
	}
}

func TestRulesConcurrent(t *testing.T) {
	p := mustParse(t, fullPolicy)
	var wg sync.WaitGroup
	results := make([][]*Rule, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = p.Rules()
			for _, path := range []string{"main.tf", ".github/workflows/ci.yml", "README.md"} {
				for _, r := range results[i] {
					r.Match(path)
				}
				p.MatchRules(path)
			}
			p.Detector()
		}()
	}
	wg.Wait()
	for _, rs := range results[1:] {
		if !slices.Equal(rs, results[0]) {
			t.Fatalf("goroutines got different rules")
		}
	}
}

func TestDetector(t *testing.T) {
	p := mustParse(t, fullPolicy)
	d1, d2 := p.Detector(), p.Detector()
	if d1 != d2 {
		t.Errorf("Detector is not cached")
	}
	if err := p.DetectorErr(); err != nil {
		if d1 != nil {
			t.Errorf("Detector returned a detector and an error")
		}
		t.Skipf("detect.New is not available yet: %v", err)
	}
	if d1 == nil {
		t.Fatalf("Detector returned nil without an error")
	}
}

func TestDetectOptions(t *testing.T) {
	p := mustParse(t, fullPolicy+"") // builtin: true
	o := p.Agents.DetectOptions()
	if o.NoBuiltin || len(o.Custom) != 1 || o.Custom[0].ID != "acme-agent" || o.Custom[0].Name != "Acme Agent" ||
		o.Custom[0].Trailers[0] != "^Generated-by: Acme" || len(o.Automation) != 1 || o.Automation[0].Logins[0] != "acme-release-robot" {
		t.Errorf("DetectOptions = %+v", o)
	}
	off := false
	if !(Agents{Builtin: &off}).DetectOptions().NoBuiltin {
		t.Errorf("builtin: false does not switch the catalogue off")
	}
}

func TestEffective(t *testing.T) {
	e := Default().Effective()
	if *e.Review.Agent.Approvals != 1 || e.Review.Agent.Approvers.Permission != PermissionWrite || *e.Review.Human.Approvals != 0 ||
		!*e.Review.DismissStale || *e.Commands.Approve || !*e.Agents.Builtin || !e.Source.Builtin {
		t.Errorf("Effective of the default = %+v", e)
	}
	if !slices.Equal(e.ProtectedPaths.Presets, PresetNames()) {
		t.Errorf("effective presets = %v, want every preset", e.ProtectedPaths.Presets)
	}
	p := mustParse(t, "protected_paths:\n  presets: []\n  rules:\n    - name: x\n      paths: [x/]\n")
	e = p.Effective()
	r := e.ProtectedPaths.Rules[0]
	if e.ProtectedPaths.Presets == nil || len(e.ProtectedPaths.Presets) != 0 || r.AppliesTo != AppliesToAll || *r.Approvals != 1 || *r.DeletionApprovals != 0 || r.Approvers.Permission != PermissionWrite {
		t.Errorf("Effective = %+v", e.ProtectedPaths)
	}
	if p.ProtectedPaths.Rules[0].Approvals != nil {
		t.Errorf("Effective changed the original")
	}
	// The effective policy protects the same paths.
	for _, path := range []string{"x/a", "main.tf", "Dockerfile"} {
		if fmt.Sprint(names(p.MatchRules(path))) != fmt.Sprint(names(e.MatchRules(path))) {
			t.Errorf("%s: effective policy matches differently", path)
		}
	}
	assertRoundTrip(t, mustParse(t, fullPolicy))
	assertRoundTrip(t, Default())
}

func names(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// assertRoundTrip checks that p's effective policy, printed as YAML, parses
// back to the same effective policy.
func assertRoundTrip(t testing.TB, p *Policy) {
	t.Helper()
	e := p.Effective()
	out, err := yaml.Marshal(e)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	q, err := Parse("countersign.yml", out)
	if err != nil {
		t.Fatalf("effective policy does not parse: %v\n%s", err, out)
	}
	e2 := q.Effective()
	e.Source, e2.Source = Source{}, Source{}
	if !reflect.DeepEqual(e, e2) {
		t.Fatalf("effective policy changes through YAML:\n%s\nbefore %+v\nafter  %+v", out, e, e2)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "# comment\n", fullPolicy, "review: 2\n", "protected_paths:\n  presets: []\n",
		"protected_paths:\n  rules:\n    - name: x\n      paths: ['*.tf']\n      approvals: 3\n",
		"a: &x 1\nb: *x\n", "review:\n  agent:\n    approvals: 0x10\n", "- a\n", "agents:\n  custom:\n    - id: x\n      trailers: ['(']\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yml", data)
		if err != nil {
			if p != nil {
				t.Fatalf("policy and error")
			}
			if err.Error() == "" {
				t.Fatalf("empty error")
			}
			return
		}
		for _, r := range p.Rules() {
			r.Match("a/b/main.tf")
		}
		assertRoundTrip(t, p)
	})
}

func TestRulesCacheIsReleased(t *testing.T) {
	count := func() (n int) {
		cache.Range(func(any, any) bool { n++; return true })
		return n
	}
	before := count()
	type holder struct {
		name string
		p    Policy // an interior pointer works too
	}
	for i := 0; i < 200; i++ {
		h := &holder{p: Policy{ProtectedPaths: ProtectedPaths{Presets: []string{"docker"}}}}
		if len(h.p.Rules()) != 1 {
			t.Fatal("rules")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for count() > before+20 {
		if time.Now().After(deadline) {
			t.Fatalf("compiled rules of unreachable policies are kept: %d entries, %d before", count(), before)
		}
		runtime.GC()
		runtime.Gosched()
	}
}
