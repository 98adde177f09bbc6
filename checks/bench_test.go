package checks

import (
	"fmt"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// benchPolicy has 200 protected globs in 40 rules, in the shapes policies use:
// directories, extensions, exact names and globs with wildcards inside.
func benchPolicy() *config.Policy {
	var rules []config.PathRule
	for i := range 40 {
		rules = append(rules, config.PathRule{
			Name: fmt.Sprintf("rule%02d", i),
			Paths: []string{
				fmt.Sprintf("infra/mod%02d/**", i),
				fmt.Sprintf("*.ext%02d", i),
				fmt.Sprintf("deploy/env%02d/values.yaml", i),
				fmt.Sprintf("services/*/config%02d.json", i),
				fmt.Sprintf("Dockerfile.%02d", i),
			},
			Approvers: config.Approvers{Teams: []string{fmt.Sprintf("acme/team%02d", i%5)}},
		})
	}
	p := policy(rules...)
	p.Overrides.Users = []string{"lead"}
	return p
}

// benchFacts is a 3,000-file, 250-commit pull request with 50 reviews.
func benchFacts() *Facts {
	f := &Facts{Repo: "acme/web", PR: humanPR("carol"), Reviewers: map[string]Reviewer{}}
	for i := range 250 {
		sha := fmt.Sprintf("%040x", i+1)
		var c detect.Commit
		switch i % 3 {
		case 0:
			c = claudeCommit(sha)
		case 1:
			c = trailerCommit(sha, "dave")
		default:
			c = humanCommit(sha, "carol")
		}
		f.Commits = append(f.Commits, c)
	}
	for i := range 3000 {
		var p string
		switch i % 6 {
		case 0:
			p = fmt.Sprintf("infra/mod%02d/main_%d.tf", i%50, i)
		case 1:
			p = fmt.Sprintf("src/pkg%03d/file%d.ext%02d", i%100, i, i%60)
		case 2:
			p = fmt.Sprintf("services/svc%d/config%02d.json", i%30, i%45)
		default:
			p = fmt.Sprintf("src/pkg%03d/sub/file_%d.go", i%100, i)
		}
		st := StatusModified
		prev := ""
		if i%50 == 0 {
			st, prev = StatusRenamed, fmt.Sprintf("infra/mod%02d/old_%d.tf", i%40, i)
		}
		f.Files = append(f.Files, File{Path: p, PreviousPath: prev, Status: st, Additions: 3, Deletions: 1})
	}
	for i := range 50 {
		login := fmt.Sprintf("reviewer%02d", i)
		state := ReviewApproved
		if i%10 == 9 {
			state = ReviewCommented
		}
		f.Reviews = append(f.Reviews, review(int64(100+i), login, state, head))
		f.Reviewers[login] = Reviewer{Login: login, Permission: config.PermissionWrite, Teams: []string{fmt.Sprintf("acme/team%02d", i%7)}}
	}
	return f
}

func BenchmarkEvaluate(b *testing.B) {
	c, f := compiled(b, benchPolicy()), benchFacts() // compiled once, as the server caches it per policy
	v := c.Evaluate(f)
	if len(v.ProtectedFiles) < 1000 || len(v.Commits) != 250 {
		b.Fatalf("benchmark fixture does not exercise the engine: %d protected files", len(v.ProtectedFiles))
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Evaluate(f)
	}
}

func BenchmarkMarkdown(b *testing.B) {
	v := Evaluate(benchPolicy(), benchFacts())
	b.ReportAllocs()
	for b.Loop() {
		_ = v.Markdown()
	}
}
