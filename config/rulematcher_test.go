package config

import (
	"slices"
	"testing"
)

func TestRuleMatcherAgreesWithMatchRules(t *testing.T) {
	p := &Policy{ProtectedPaths: ProtectedPaths{Rules: []PathRule{
		{Name: "infra", Paths: []string{"infra/**", "*.tf"}, Ignore: []string{"infra/docs/**"}},
		{Name: "ci", Paths: []string{".github/workflows/"}},
	}}}
	m := p.RuleMatcher()
	rules := p.Rules()
	for _, path := range []string{"infra/main.tf", "infra/docs/a.md", "infra/docs/x.tf", "modules/net.tf", ".github/workflows/ci.yml",
		"Dockerfile", "go.mod", "src/app.go", "deploy/k8s/app.yaml", ".github/CODEOWNERS"} {
		var want []string
		for _, r := range p.MatchRules(path) {
			want = append(want, r.Name)
		}
		var got []string
		for _, i := range m.AppendMatches(nil, path) {
			got = append(got, rules[i].Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: AppendMatches %v, MatchRules %v", path, got, want)
		}
	}
}
