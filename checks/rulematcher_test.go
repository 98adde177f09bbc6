package checks

import (
	"slices"
	"testing"

	"github.com/countersign/countersign/config"
)

func TestRuleMatcherAgreesWithMatchRules(t *testing.T) {
	c := compiled(t, &config.Policy{ProtectedPaths: config.ProtectedPaths{Rules: []config.PathRule{
		{Name: "infra", Paths: []string{"infra/**", "*.tf"}, Ignore: []string{"infra/docs/**"}},
		{Name: "ci", Paths: []string{".github/workflows/"}},
	}}})
	m := c.RuleMatcher()
	rules := c.Rules()
	for _, path := range []string{"infra/main.tf", "infra/docs/a.md", "infra/docs/x.tf", "modules/net.tf", ".github/workflows/ci.yml",
		"Dockerfile", "go.mod", "src/app.go", "deploy/k8s/app.yaml", ".github/CODEOWNERS"} {
		want := names(c.MatchRules(path))
		var got []string
		for _, i := range m.AppendMatches(nil, path) {
			got = append(got, rules[i].Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: AppendMatches %v, MatchRules %v", path, got, want)
		}
	}
}
