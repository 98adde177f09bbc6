package checks

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// mustCompile parses a policy file and compiles it.
func mustCompile(t testing.TB, src string) *Compiled {
	t.Helper()
	p, err := config.Parse("countersign.yml", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	c, err := Compile(p)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return c
}

// compiled compiles a policy built in code.
func compiled(t testing.TB, p *config.Policy) *Compiled {
	t.Helper()
	c, err := Compile(p)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return c
}

func TestDefaultRules(t *testing.T) {
	rules := compiled(t, config.Default()).Rules()
	if len(rules) != len(config.Presets()) {
		t.Fatalf("default has %d rules, want one per preset (%d)", len(rules), len(config.Presets()))
	}
	for i, r := range rules {
		pr := config.Presets()[i]
		if r.Name != pr.Name || !r.FromPreset || r.NeededApprovals() != 1 || r.Scope() != config.AppliesToAll ||
			r.Approvers.MinPermission() != config.PermissionWrite || r.Approvers.Restricted() || r.ExtraDeletionApprovals() != 0 {
			t.Errorf("default rule %d = %+v", i, r)
		}
	}
}

func TestPresetSelection(t *testing.T) {
	all := config.PresetNames()
	tests := []struct {
		src  string
		want []string
	}{
		{"", all},
		{"protected_paths:\n  presets: []\n", []string{"countersign"}}, // the policy file protects itself
		{"protected_paths:\n  presets: [docker, terraform, docker]\n", []string{"docker", "terraform", "countersign"}},
		{"protected_paths:\n  presets: [all]\n", all},
		{"protected_paths:\n  presets: [ci, all]\n", append([]string{"ci"}, slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "ci" })...)},
	}
	for _, tt := range tests {
		if got := names(mustCompile(t, tt.src).Rules()); !slices.Equal(got, tt.want) {
			t.Errorf("%q: rules %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestRules(t *testing.T) {
	c := mustCompile(t, `
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
	rules := c.Rules()
	if len(rules) != 4 || rules[0].Name != "terraform" || rules[1].Name != "workflows" || rules[2].Name != "agent-docs" || rules[3].Name != "countersign" {
		t.Fatalf("rules = %v", rules)
	}
	wf := rules[1]
	if wf.FromPreset || wf.NeededApprovals() != 2 || wf.Approvers.Teams[0] != "acme/security" {
		t.Errorf("workflows rule = %+v", wf)
	}
	gha, _ := config.LookupPreset("github-actions")
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
		var viaMatch []string
		for _, r := range rules {
			if r.Match(path) {
				viaMatch = append(viaMatch, r.Name)
			}
		}
		if got := names(c.MatchRules(path)); !slices.Equal(got, want) || !slices.Equal(viaMatch, want) {
			t.Errorf("%s: MatchRules %v, Match %v, want %v", path, got, viaMatch, want)
		}
	}
}

func TestRulesOfLiteralPolicy(t *testing.T) {
	// A policy built in code (tests of other packages do) compiles too, and
	// a changed copy compiles to rules of its own.
	p := &config.Policy{ProtectedPaths: config.ProtectedPaths{Presets: []string{}, Rules: []config.PathRule{{Name: "x", Paths: []string{"x/"}}}}}
	if rs := compiled(t, p).Rules(); len(rs) != 2 || !rs[0].Match("x/y") || rs[1].Name != config.PresetCountersign {
		t.Fatalf("literal policy rules = %v", rs)
	}
	q := *p
	q.ProtectedPaths.Rules = []config.PathRule{{Name: "y", Paths: []string{"y/"}}}
	if rs := compiled(t, &q).Rules(); len(rs) != 2 || rs[0].Name != "y" || !rs[0].Match("y/z") {
		t.Errorf("copy shares the original's compiled rules: %v", rs)
	}
	// A Rule built in code matches without compiling a policy.
	r := &Rule{PathRule: config.PathRule{Paths: []string{"*.tf"}}}
	if !r.Match("a/b.tf") {
		t.Errorf("uncompiled rule does not match")
	}
}

func TestCompiledConcurrent(t *testing.T) {
	c := mustCompile(t, fullPolicy)
	want := map[string][]string{"main.tf": {"terraform"}, ".github/workflows/ci.yml": {"workflows"}, "README.md": nil}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := c.RuleMatcher()
			for path, names := range want {
				var got []string
				for _, i := range m.AppendMatches(nil, path) {
					got = append(got, c.Rules()[i].Name)
				}
				if !slices.Equal(got, names) {
					t.Errorf("%s: %v, want %v", path, got, names)
				}
			}
		}()
	}
	wg.Wait()
}

func TestCompileDetector(t *testing.T) {
	c := mustCompile(t, fullPolicy)
	if c.Detector() == nil {
		t.Fatalf("a compiled policy has no detector")
	}
	bad := &config.Policy{Agents: config.Agents{Custom: []config.AgentDef{{ID: "acme-agent", Trailers: []string{"(unclosed"}}}}}
	if c, err := Compile(bad); c != nil || err == nil || !strings.Contains(err.Error(), "agent detection is unavailable for this policy") {
		t.Errorf("Compile of a policy whose detector cannot be built = %v, %v; want an error", c, err)
	}
	if _, err := Compile(nil); err == nil {
		t.Errorf("Compile(nil) did not fail")
	}
	var pe interface{ Unwrap() error }
	if _, err := Compile(bad); !errors.As(err, &pe) {
		t.Errorf("the compile error does not wrap the detector's: %v", err)
	}
}

func TestDetectOptions(t *testing.T) {
	c := mustCompile(t, fullPolicy) // builtin: true
	o := DetectOptions(c.Policy().Agents)
	if o.NoBuiltin || len(o.Custom) != 1 || o.Custom[0].ID != "acme-agent" || o.Custom[0].Name != "Acme Agent" ||
		o.Custom[0].Trailers[0] != "^Generated-by: Acme" || len(o.Automation) != 1 || o.Automation[0].Logins[0] != "acme-release-robot" {
		t.Errorf("DetectOptions = %+v", o)
	}
	off := false
	if !DetectOptions(config.Agents{Builtin: &off}).NoBuiltin {
		t.Errorf("builtin: false does not switch the catalogue off")
	}
}

// TestDisclosurePatternsReachDetection: a policy's own disclosure patterns
// (and builtin: false) are what its detector reads in a PR body.
func TestDisclosurePatternsReachDetection(t *testing.T) {
	d := mustCompile(t, "agents:\n  disclosure:\n    builtin: false\n    lines: ['^Tooling: Claude']\n    checkboxes: ['(?i)robots helped']\n").Detector()
	for body, agent := range map[string]bool{
		"Tooling: Claude wrote the parser":      true,
		"- [x] Robots helped with this change":  true,
		"- [ ] Robots helped with this change":  false,
		"AI disclosure: Claude wrote the tests": false, // the built-in patterns are off
	} {
		if got := d.PullRequest(detect.PullRequest{AuthorLogin: "jane", Body: body}).IsAgent(); got != agent {
			t.Errorf("PR body %q: agent = %v, want %v", body, got, agent)
		}
	}
}

// TestEffectiveProtectsTheSame: the effective policy `countersign config
// print` shows protects the same paths as the policy it was made from.
func TestEffectiveProtectsTheSame(t *testing.T) {
	c := mustCompile(t, "protected_paths:\n  presets: []\n  rules:\n    - name: x\n      paths: [x/]\n")
	e := compiled(t, c.Policy().Effective())
	for _, path := range []string{"x/a", "main.tf", "Dockerfile"} {
		if got, want := names(e.MatchRules(path)), names(c.MatchRules(path)); !slices.Equal(got, want) {
			t.Errorf("%s: effective policy matches %v, the policy %v", path, got, want)
		}
	}
}

// FuzzCompile: every policy file Parse accepts compiles, and its rules match.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", fullPolicy, "protected_paths:\n  presets: []\n",
		"protected_paths:\n  rules:\n    - name: x\n      paths: ['*.tf', '{a,b}/**']\n      ignore: ['a/[bc]/']\n",
		"agents:\n  custom:\n    - id: x\n      trailers: ['^X: .*']\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := config.Parse("fuzz.yml", data)
		if err != nil {
			return
		}
		c, err := Compile(p)
		if err != nil {
			t.Fatalf("a policy Parse accepts does not compile: %v", err)
		}
		m := c.RuleMatcher()
		for _, path := range []string{"a/b/main.tf", "infra/x.yaml", ".github/workflows/ci.yml"} {
			var viaRules []int
			for i, r := range c.Rules() {
				if r.Match(path) {
					viaRules = append(viaRules, i)
				}
			}
			if got := m.AppendMatches(nil, path); !slices.Equal(got, viaRules) {
				t.Fatalf("%s: matcher %v, rules %v", path, got, viaRules)
			}
		}
	})
}

func names(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// fullPolicy sets every key of the policy file; config's decoding tests
// use the same file.
var fullPolicy = func() string {
	b, err := os.ReadFile("../config/testdata/full-policy.yml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()
