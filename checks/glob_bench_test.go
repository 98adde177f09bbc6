package checks

import (
	"fmt"
	"testing"

	"github.com/countersign/countersign/config"
)

// globBenchPolicy returns a policy with every preset plus maintainers' rules,
// exactly 200 path globs in all, and 3,000 repository paths of which a few
// percent are protected.
func globBenchPolicy(b testing.TB) (*Compiled, []string) {
	b.Helper()
	n := 0
	for _, pr := range config.Presets() {
		n += len(pr.Paths)
	}
	src := "protected_paths:\n  rules:\n"
	for i := 0; n < 200; i++ {
		src += fmt.Sprintf("    - name: team-%d\n      paths:\n", i)
		for j := 0; j < 10 && n < 200; j, n = j+1, n+1 {
			switch j % 5 {
			case 0:
				src += fmt.Sprintf("        - services/svc%d/config/\n", i*10+j)
			case 1:
				src += fmt.Sprintf("        - \"*.team%d\"\n", i*10+j)
			case 2:
				src += fmt.Sprintf("        - \"platform/**/policy%d.rego\"\n", i*10+j)
			case 3:
				src += fmt.Sprintf("        - SECURITY%d.md\n", i*10+j)
			case 4:
				src += fmt.Sprintf("        - \"**/secrets%d/**/*.{yaml,json}\"\n", i*10+j)
			}
		}
	}
	p := mustCompile(b, src)
	globs := 0
	for _, r := range p.Rules() {
		globs += len(r.Paths)
	}
	if globs != 200 {
		b.Fatalf("%d globs, want 200", globs)
	}
	dirs := []string{"src", "src/api/handlers", "pkg/store", "web/src/components/charts", "internal/auth/roles", "docs", "services/svc3/config", "infra/modules/vpc", "deploy/k8s/base", ".github/workflows", "db/migrate", "test/fixtures/data"}
	files := []string{"main.go", "handler_test.go", "index.ts", "README.md", "deployment.yaml", "main.tf", "Dockerfile", "ci.yml", "20240101_add_users.rb", "values.json", "style.css", "LineChart.tsx"}
	var paths []string
	for i := 0; len(paths) < 3000; i++ {
		paths = append(paths, fmt.Sprintf("%s/m%d/%s", dirs[i%len(dirs)], i/len(dirs)%25, files[(i/3)%len(files)]))
	}
	return p, paths
}

// BenchmarkRulesMatch is the engine's worst case: 3,000 changed files
// against 200 protected globs. One op matches every file against every rule.
func BenchmarkRulesMatch(b *testing.B) {
	p, paths := globBenchPolicy(b)
	rules := p.Rules()
	b.Run("RuleMatcher", func(b *testing.B) {
		m := p.RuleMatcher()
		var hits []int
		protected := 0
		b.ReportAllocs()
		for b.Loop() {
			protected = 0
			for _, path := range paths {
				if hits = m.AppendMatches(hits[:0], path); len(hits) > 0 {
					protected++
				}
			}
		}
		b.ReportMetric(float64(protected), "protected-files")
	})
	b.Run("MatchRules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, path := range paths {
				p.MatchRules(path)
			}
		}
	})
	b.Run("Rule.Match", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, path := range paths {
				for _, r := range rules {
					r.Match(path)
				}
			}
		}
	})
	b.Run("doublestar-reference", func(b *testing.B) {
		for b.Loop() {
			for _, path := range paths {
				for _, r := range rules {
					for _, g := range r.Paths {
						MatchGlob(g, path)
					}
				}
			}
		}
	})
}
