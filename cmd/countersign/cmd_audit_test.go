package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/config"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// auditRepo is a main branch of eight commits: four by humans, two by
// Claude Code (one touching Terraform), one by Copilot (renaming Terraform
// away) and one by Dependabot, a day apart from 2025-01-01.
func auditRepo(t *testing.T) *gt.Repo {
	g := gt.New(t)
	day := func(i int) time.Time { return time.Date(2025, 1, 1+i, 12, 0, 0, 0, time.UTC) }
	commits := []gt.Commit{
		{Author: gt.Alice, Message: "initial\n", Change: gt.Change{Write: map[string]string{"README.md": "r\n", "infra/main.tf": "a\n", "src/a.go": "a\n"}}},
		{Author: gt.Bob, Message: "docs\n", Change: gt.Change{Write: map[string]string{"docs/x.md": "x\n"}}},
		{Author: gt.Alice, Message: gt.Msg("code", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"src/a.go": "b\n"}}},
		{Author: gt.Alice, Message: gt.Msg("infra", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"infra/main.tf": "b\n"}}},
		{Author: gt.Dependabot, Message: "Bump x\n", Change: gt.Change{Write: map[string]string{"go.sum": "s\n"}}},
		{Author: gt.Copilot, Message: "Move terraform\n", Change: gt.Change{Rename: map[string]string{"infra/main.tf": "old/main.txt"}}},
		{Author: gt.Bob, Message: "more docs\n", Change: gt.Change{Write: map[string]string{"docs/y.md": "y\n"}}},
		{Author: gt.Bob, Message: "even more docs\n", Change: gt.Change{Write: map[string]string{"docs/z.md": "z\n"}}},
	}
	for i, c := range commits {
		c.When = day(i)
		g.Commit("main", "", c)
	}
	g.Checkout("main")
	return g
}

type auditOut struct {
	Branch  string     `json:"branch"`
	SHA     string     `json:"sha"`
	Commits []auditRow `json:"commits"`
	Summary auditSummary
	Policy  config.Source `json:"policy"`
}

func auditJSON(t *testing.T, args ...string) auditOut {
	t.Helper()
	code, out, errs := runCmd(t, append(append([]string{"audit"}, args...), "--format", "json")...)
	if code != exitOK {
		t.Fatalf("audit exit %d: %s", code, errs)
	}
	var a auditOut
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("audit JSON: %v\n%s", err, out)
	}
	return a
}

func TestAuditJSON(t *testing.T) {
	g := auditRepo(t)
	a := auditJSON(t, "--repo", g.Dir)
	if a.Branch != "main" || a.SHA != g.Resolve("main").String() || !a.Policy.Builtin {
		t.Errorf("head: branch %q sha %s policy %+v", a.Branch, a.SHA, a.Policy)
	}
	if len(a.Commits) != 8 {
		t.Fatalf("%d commits", len(a.Commits))
	}
	// Newest first.
	if a.Commits[0].Subject != "even more docs" || a.Commits[7].Subject != "initial" {
		t.Errorf("order: %q … %q", a.Commits[0].Subject, a.Commits[7].Subject)
	}
	byDate := map[string]auditRow{}
	for _, c := range a.Commits {
		byDate[c.Subject] = c
	}
	if c := byDate["infra"]; c.Agent == nil || *c.Agent != "claude-code" || !strings.Contains(c.Signal, "trailer") ||
		strings.Join(c.Rules, ",") != "terraform" || !c.NeedsApproval {
		t.Errorf("Claude's Terraform commit = %+v", c)
	}
	if c := byDate["Move terraform"]; c.Agent == nil || *c.Agent != "copilot" || strings.Join(c.Rules, ",") != "terraform" || c.Files != 2 {
		t.Errorf("Copilot's rename = %+v", c)
	}
	if c := byDate["Bump x"]; c.Class != "automation" || c.Automation != "dependabot" || c.Agent != nil {
		t.Errorf("Dependabot = %+v", c)
	}
	if c := byDate["docs"]; c.Class != "human" || c.Agent != nil || c.Signal != "" || len(c.Rules) != 0 || c.NeedsApproval {
		t.Errorf("human docs commit = %+v", c)
	}
	s := a.Summary
	if s.Commits != 8 || s.AgentCommits != 3 || s.AutomationCommits != 1 || s.HumanCommits != 4 {
		t.Errorf("summary = %+v", s)
	}
	if len(s.ByAgent) != 2 || s.ByAgent[0] != (auditCount{Key: "claude-code", Commits: 2, Share: 0.25}) || s.ByAgent[1].Key != "copilot" {
		t.Errorf("by agent = %+v", s.ByAgent)
	}
	// The root commit adds infra/main.tf too, so three commits touched terraform.
	if len(s.ByRule) == 0 || s.ByRule[0] != (auditCount{Key: "terraform", Commits: 3, Share: 0.375}) {
		t.Errorf("by rule = %+v", s.ByRule)
	}
}

func TestAuditTable(t *testing.T) {
	g := auditRepo(t)
	code, out, errs := runCmd(t, "audit", "--repo", g.Dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "COMMIT") || !strings.Contains(lines[0], "RULES") {
		t.Errorf("header = %q", lines[0])
	}
	for _, want := range []string{
		"8 commits: 3 by agents (37.5%), 1 by automation (12.5%), 4 by humans",
		"claude-code                         2   25.0%",
		"copilot                             1   12.5%",
		"dependabot                          1   12.5%",
		"terraform                           3   37.5%",
		"bot:dependabot",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if errs != "" {
		t.Errorf("stderr is not a terminal, yet: %q", errs)
	}
}

func TestAuditCSV(t *testing.T) {
	g := auditRepo(t)
	code, out, errs := runCmd(t, "audit", "--repo", g.Dir, "--format", "csv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rec)
	}
	if strings.Join(rows[0], ",") != "sha,date,author_name,author_email,class,agent,automation,signal,rules,files,needs_approval" {
		t.Errorf("header = %v", rows[0])
	}
	commits := rows[1:9]
	if commits[0][5] != "" || commits[2][5] != "copilot" || commits[2][8] != "terraform" || commits[3][6] != "dependabot" {
		t.Errorf("commit rows = %v", commits)
	}
	if !strings.Contains(out, "\n\nrecord,key,commits,share\n") {
		t.Errorf("no blank line and summary header:\n%s", out)
	}
	summary := map[string]string{}
	for _, rec := range rows[10:] {
		summary[rec[0]+"/"+rec[1]] = rec[2] + " " + rec[3]
	}
	for k, want := range map[string]string{"total/": "8 1.0000", "agent/claude-code": "2 0.2500", "rule/terraform": "3 0.3750", "automation/dependabot": "1 0.1250", "class/human": "4 0.5000"} {
		if summary[k] != want {
			t.Errorf("summary %s = %q, want %q (all: %v)", k, summary[k], want, summary)
		}
	}
}

func TestAuditSinceConfigAndErrors(t *testing.T) {
	g := auditRepo(t)
	a := auditJSON(t, "--repo", g.Dir, "--since", "2025-01-06")
	if len(a.Commits) != 3 {
		t.Errorf("--since 2025-01-06: %d commits, want 3", len(a.Commits))
	}
	// A policy of our own: docs are protected, presets off.
	pol := filepath.Join(t.TempDir(), "p.yml")
	os.WriteFile(pol, []byte("protected_paths:\n  presets: []\n  rules:\n    - name: docs\n      paths: [\"docs/**\"]\n"), 0o644)
	a = auditJSON(t, "--repo", g.Dir, "--config", pol, "--branch", "HEAD")
	if len(a.Summary.ByRule) != 1 || a.Summary.ByRule[0].Key != "docs" || a.Summary.ByRule[0].Commits != 3 || a.Policy.Path != pol {
		t.Errorf("--config: by rule %+v, policy %+v", a.Summary.ByRule, a.Policy)
	}
	// The policy at the branch tip applies by default.
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{config.FileName: "protected_paths:\n  presets: []\n"}}, When: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)})
	a = auditJSON(t, "--repo", g.Dir)
	// Only the commit that wrote the policy file is protected: the policy file always is.
	if len(a.Summary.ByRule) != 1 || a.Summary.ByRule[0].Key != "countersign" || a.Summary.ByRule[0].Commits != 1 || a.Policy.Ref != "main" || a.Policy.Builtin {
		t.Errorf("tip policy: by rule %+v, policy %+v", a.Summary.ByRule, a.Policy)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--repo", g.Dir, "--since", "last tuesday"}, "--since"},
		{[]string{"audit", "--repo", g.Dir, "--format", "xml"}, "--format"},
		{[]string{"audit", "--repo", g.Dir, "--branch", "nope"}, "unknown revision"},
		{[]string{"audit", "--repo", t.TempDir()}, "not in a git repository"},
		{[]string{"audit", "--repo", g.Dir, "--config", filepath.Join(t.TempDir(), "none.yml")}, "none.yml"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errs)
		}
	}
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{config.FileName: "review: [\n"}}})
	if code, _, errs := runCmd(t, "audit", "--repo", g.Dir); code != exitError || !strings.Contains(errs, config.FileName+":1") {
		t.Errorf("invalid tip policy: exit %d, %q", code, errs)
	}
}

func TestParseAuditSince(t *testing.T) {
	now := time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"2025-01-31":           time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC),
		"2025-01-31T12:00:00Z": time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC),
		"30d":                  now.AddDate(0, 0, -30),
		"2w":                   now.AddDate(0, 0, -14),
		"1y":                   now.AddDate(-1, 0, 0),
	} {
		got, err := parseAuditSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAuditSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "5", "-3d", "2025-13-01"} {
		if _, err := parseAuditSince(in, now); err == nil {
			t.Errorf("parseAuditSince(%q) accepted", in)
		}
	}
	if auditThousands(12000) != "12,000" || auditThousands(999) != "999" || auditThousands(1234567) != "1,234,567" {
		t.Error("auditThousands")
	}
}

func TestAuditMergeCommitsStandForWhatTheyMerged(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"README.md": "r\n", "infra/a.tf": "a\n"}}})
	agent := g.Commit("claude/x", "main", gt.Commit{Author: gt.Alice, Message: gt.Msg("agent work", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"infra/a.tf": "b\n"}}})
	g.Commit("claude/x", "", gt.Commit{Author: gt.Alice, Message: "human touch\n", Change: gt.Change{Write: map[string]string{"README.md": "s\n"}}})
	g.Commit("deps", "main", gt.Commit{Author: gt.Dependabot, Message: "Bump\n", Change: gt.Change{Write: map[string]string{"go.sum": "1\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Message: "Merge pull request #1 from claude/x\n", Merge: []string{"claude/x"},
		Change: gt.Change{Write: map[string]string{"infra/a.tf": "b\n", "README.md": "s\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Message: "Merge pull request #2 from deps\n", Merge: []string{"deps"},
		Change: gt.Change{Write: map[string]string{"go.sum": "1\n"}}})
	a := auditJSON(t, "--repo", g.Dir, "--branch", "main")
	if len(a.Commits) != 3 {
		t.Fatalf("%d first-parent commits, want 3", len(a.Commits))
	}
	deps, pr := a.Commits[0], a.Commits[1]
	if pr.Agent == nil || *pr.Agent != "claude-code" || pr.Via != agent.String() || pr.Merged != 2 ||
		!strings.HasPrefix(pr.Signal, "via "+agent.String()[:7]+": trailer") || strings.Join(pr.Rules, ",") != "terraform" {
		t.Errorf("merge of the agent's branch = %+v", pr)
	}
	if deps.Class != "automation" || deps.Automation != "dependabot" || deps.Merged != 1 {
		t.Errorf("merge of Dependabot's branch = %+v", deps)
	}
	if a.Summary.AgentCommits != 1 || a.Summary.AutomationCommits != 1 {
		t.Errorf("summary = %+v", a.Summary)
	}
}

// TestAuditLanding: --landing accounts for a history offline: a squash
// commit and a merge commit of pull requests, a human docs change that
// needed nothing, and an agent's Terraform change pushed straight to main,
// which is listed as unaccountable (exit 1).
func TestAuditLanding(t *testing.T) {
	g := gt.New(t)
	day := func(i int) time.Time { return time.Date(2025, 2, 1+i, 12, 0, 0, 0, time.UTC) }
	g.Commit("main", "", gt.Commit{Author: gt.Alice, When: day(0), Message: "initial\n", Change: gt.Change{Write: map[string]string{"README.md": "r\n", "infra/main.tf": "a\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Alice, When: day(1), Message: gt.Msg("Resize (#3)", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"infra/main.tf": "b\n"}}})
	g.Commit("feature", "main", gt.Commit{Author: gt.Alice, When: day(2), Message: gt.Msg("More", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"infra/main.tf": "c\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, When: day(3), Message: "Merge pull request #4 from acme/feature\n\nMore\n", Merge: []string{"feature"}, Change: gt.Change{Write: map[string]string{"infra/main.tf": "c\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, When: day(4), Message: "docs\n", Change: gt.Change{Write: map[string]string{"docs/x.md": "x\n"}}})
	hot := g.Commit("main", "", gt.Commit{Author: gt.Alice, When: day(5), Message: gt.Msg("Hotfix", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"infra/main.tf": "d\n"}}})
	g.Checkout("main")

	code, out, errs := runCmd(t, "audit", "--repo", g.Dir, "--landing", "--since", "2025-02-02")
	if code != exitRequired {
		t.Fatalf("exit %d, want 1: %s\n%s", code, errs, out)
	}
	if !contains(out, "Unaccountable: 1 commit", hot.String()[:7], "not in the shape of a merged pull request", "#3 by Claude Code", "#4 by", "no approval needed") {
		t.Fatalf("record:\n%s", out)
	}
	code, out, _ = runCmd(t, "audit", "--repo", g.Dir, "--landing", "--format", "json")
	if code != exitRequired || !strings.Contains(out, `"unaccounted"`) {
		t.Fatalf("json: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd(t, "audit", "--repo", g.Dir, "--landing", "--format", "csv"); code != exitError || !strings.Contains(errs, "not csv") {
		t.Fatalf("csv: exit %d %q", code, errs)
	}
}

// The audit names the signal that decided a commit's class, not merely the
// first one found, and its JSON lists every signal, weak ones on human
// commits included (scripts/backtest.sh reads them). Both were lost once
// when the rule application moved into checks.CommitJudge.
func TestAuditNamesTheDecidingSignalAndListsWeakOnes(t *testing.T) {
	g := gt.New(t)
	openhands := object.Signature{Name: "openhands", Email: "openhands@all-hands.dev"}
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "initial\n", Change: gt.Change{Write: map[string]string{"README.md": "r\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Dependabot, Committer: openhands,
		Message: "Fix the lockfile after the bump\n\nCo-authored-by: openhands <openhands@all-hands.dev>\n",
		Change:  gt.Change{Write: map[string]string{"go.sum": "s\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Message: "aider: bump the pinned version\n", Change: gt.Change{Write: map[string]string{"go.mod": "m\n"}}})
	g.Checkout("main")
	a := auditJSON(t, "--repo", g.Dir)
	if len(a.Commits) != 3 {
		t.Fatalf("%d commits", len(a.Commits))
	}
	weak, oh := a.Commits[0], a.Commits[1]
	if weak.Class != "human" || len(weak.Signals) != 1 || weak.Signals[0].Strength != "weak" || weak.Signals[0].Agent != "aider" {
		t.Errorf("aider subject alone: class %s, signals %+v; want human with one weak aider signal", weak.Class, weak.Signals)
	}
	if oh.Agent == nil || *oh.Agent != "openhands" || oh.Signal != "trailer: Co-authored-by: openhands <openhands@all-hands.dev>" {
		t.Errorf("openhands commit under dependabot's address: agent %v, signal %q; want the openhands co-author trailer", oh.Agent, oh.Signal)
	}
}
