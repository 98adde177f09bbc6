package checks

import (
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/countersign/countersign/config"
)

func TestGlobSemantics(t *testing.T) {
	tests := []struct {
		glob string
		yes  []string
		no   []string
	}{
		// A glob without a slash matches the base name at any depth.
		{"*.tf", []string{"main.tf", "infra/prod/main.tf", ".tf"}, []string{"main.tf.bak", "main.tfvars", "tf/readme.md"}},
		{"Dockerfile", []string{"Dockerfile", "svc/api/Dockerfile"}, []string{"Dockerfile.dev", "docs/Dockerfile.md", "dockerfile"}},
		// A glob with a slash is anchored at the root.
		{"infra/*.tf", []string{"infra/main.tf"}, []string{"x/infra/main.tf", "infra/mod/main.tf"}},
		{"/CODEOWNERS", []string{"CODEOWNERS"}, []string{"docs/CODEOWNERS", "CODEOWNERS.bak"}},
		{"**/CODEOWNERS", []string{"CODEOWNERS", "a/b/CODEOWNERS"}, []string{"CODEOWNERS2"}},
		// ** crosses directories, zero included.
		{"infra/**/*.tf", []string{"infra/main.tf", "infra/a/b/main.tf"}, []string{"main.tf", "other/infra/main.tf"}},
		// A trailing slash is the directory and everything under it.
		{"migrations/", []string{"migrations/0001.sql", "app/migrations/0001_initial.py", "a/migrations/x/y.sql"}, []string{"migrations.md", "app/migrations_old/x.py"}},
		{"/.circleci/", []string{".circleci/config.yml"}, []string{"sub/.circleci/config.yml"}},
		{"db/migrate/", []string{"db/migrate/2024_add.rb"}, []string{"engine/db/migrate/2024_add.rb", "db/migrate.rb"}},
		{"**/db/migrate/", []string{"db/migrate/2024_add.rb", "engines/billing/db/migrate/1_x.rb"}, []string{"db/migrate.rb"}},
		// Brackets, braces and ? as in doublestar.
		{"*.{yml,yaml}", []string{"a.yml", "b/c.yaml"}, []string{"a.yaml.txt"}},
		{"file?.txt", []string{"file1.txt"}, []string{"file10.txt"}},
		{"[Dd]ockerfile", []string{"Dockerfile", "x/dockerfile"}, []string{"Xockerfile"}},
		// Hidden files are ordinary.
		{"*", []string{".env", "a/.hidden"}, nil},
	}
	for _, tt := range tests {
		if err := config.CheckGlob(tt.glob); err != nil {
			t.Fatalf("config.CheckGlob(%q): %v", tt.glob, err)
		}
		r := &Rule{PathRule: config.PathRule{Paths: []string{tt.glob}}}
		r.m = compileRule(&r.PathRule)
		for _, p := range tt.yes {
			if !MatchGlob(tt.glob, p) || !r.Match(p) {
				t.Errorf("%q should match %q (reference %v, compiled %v)", tt.glob, p, MatchGlob(tt.glob, p), r.Match(p))
			}
		}
		for _, p := range tt.no {
			if MatchGlob(tt.glob, p) || r.Match(p) {
				t.Errorf("%q should not match %q", tt.glob, p)
			}
		}
	}
}

func TestIgnore(t *testing.T) {
	r := &Rule{PathRule: config.PathRule{Paths: []string{"infra/"}, Ignore: []string{"*.md", "infra/docs/"}}}
	for path, want := range map[string]bool{
		"infra/main.tf":        true,
		"infra/README.md":      false,
		"infra/docs/run.sh":    false,
		"infra/modules/vpc.tf": true,
		"src/main.go":          false,
	} {
		if got := r.Match(path); got != want {
			t.Errorf("Match(%q) = %v, want %v", path, got, want)
		}
	}
}

// globSeeds are globs whose compiled form takes each path of the matcher.
var globSeeds = []string{
	"a/b/c", "**/x", "**/a/b", "**/*.tf", "**/*file", "a/**", "a/b/**", "**/d/**", "a/**/*.yaml",
	"**/k8s/**/*.yaml", "**/charts/*/templates/**", "{a,b}/*.go", "**/*.{yml,yaml}", "a/[bc]/d",
	"**", "*", "**/*", "a/*", "a?c", "**/a?c/**", `a\*b`, "x/**/y/**/z", "**/**/a", "a//b", "/**",
	"**/.github/workflows/**", "*/**", "**/a*/**", "**/*.tf/**",
}

var pathSeeds = []string{
	"", "a", "a/", "/a", "a/b", "a/b/c", "a//b", "x", "y/x", "x/", "main.tf", "a/main.tf", ".tf",
	"a/b.tf/c", "Makefile", "a/Makefile", "d", "d/e", "e/d", "e/d/f", "a/x.yaml", "a/b/c/x.yaml",
	"k8s/deploy.yaml", "svc/k8s/base/deploy.yaml", "charts/app/templates/x.yaml", "b/z.go", "a/c/d",
	"abc", "a*b", "x/y/z", "x/q/y/r/z", ".github/workflows/ci.yml", "q/.github/workflows/ci.yml",
}

// TestMatcherAgreesWithDoublestar runs the fuzz seeds as a cross product.
func TestMatcherAgreesWithDoublestar(t *testing.T) {
	var pats []string
	for _, g := range append(globSeeds, PresetGlobs()...) {
		if doublestar.ValidatePattern(g) {
			pats = append(pats, g)
		}
	}
	for _, g := range pats {
		for _, p := range pathSeeds {
			checkMatcher(t, g, p)
		}
	}
}

// PresetGlobs lists the normalized globs of every preset.
func PresetGlobs() []string {
	var out []string
	for _, pr := range config.Presets() {
		for _, g := range append(append([]string{}, pr.Paths...), pr.Ignore...) {
			out = append(out, config.NormalizeGlob(g))
		}
	}
	return out
}

func checkMatcher(t *testing.T, pattern, path string) {
	t.Helper()
	want, err := doublestar.Match(pattern, path)
	if err != nil {
		return
	}
	m := newMatcher([]string{pattern}, []int{0})
	hits := make(tagSet, 1)
	m.match(path, hits)
	if got := hits.has(0); got != want {
		t.Fatalf("pattern %q path %q: compiled matcher says %v, doublestar says %v (kind %d)", pattern, path, got, want, m.entries[0].kind)
	}
}

func FuzzGlob(f *testing.F) {
	for i, g := range globSeeds {
		f.Add(g, pathSeeds[i%len(pathSeeds)])
	}
	for _, g := range PresetGlobs() {
		f.Add(g, "infra/"+strings.TrimPrefix(g, "**/"))
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if !doublestar.ValidatePattern(pattern) {
			return
		}
		checkMatcher(t, pattern, path)
		// Also through the policy semantics, several globs at once.
		if config.CheckGlob(pattern) == nil {
			r := &Rule{PathRule: config.PathRule{Paths: []string{pattern, "*.tf"}}}
			want := MatchGlob(pattern, path) || MatchGlob("*.tf", path)
			if got := r.Match(path); got != want {
				t.Fatalf("glob %q path %q: rule says %v, reference %v", pattern, path, got, want)
			}
		}
	})
}
