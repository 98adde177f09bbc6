package config

import (
	"reflect"
	"slices"
	"testing"

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
	if got := p.ProtectedPaths.EnabledPresets(); !slices.Equal(got, PresetNames()) {
		t.Errorf("default presets = %v, want every preset", got)
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
		got := p.ProtectedPaths.EnabledPresets()
		if len(got) == 0 {
			got = nil
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
	// No preset enabled, but the policy file's own, which is always protected.
	if !slices.Equal(e.ProtectedPaths.Presets, []string{PresetCountersign}) || r.AppliesTo != AppliesToAll || *r.Approvals != 1 || *r.DeletionApprovals != 0 || r.Approvers.Permission != PermissionWrite {
		t.Errorf("Effective = %+v", e.ProtectedPaths)
	}
	if p.ProtectedPaths.Rules[0].Approvals != nil {
		t.Errorf("Effective changed the original")
	}
	assertRoundTrip(t, mustParse(t, fullPolicy))
	assertRoundTrip(t, Default())
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
		assertRoundTrip(t, p)
	})
}
