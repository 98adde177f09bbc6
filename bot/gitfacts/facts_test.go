package gitfacts_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/gitfacts"
	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
)

func open(t *testing.T, dir string) *gitfacts.Repo {
	t.Helper()
	r, err := gitfacts.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestOpenFindsTheRootFromASubdirectory(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"src/app/main.go": "package main\n"}}})
	g.Checkout("main")
	r := open(t, filepath.Join(g.Dir, "src", "app"))
	if got, want := r.Root(), g.Dir; got != want {
		t.Errorf("Root() = %s, want %s", got, want)
	}
	if _, err := r.Resolve("HEAD"); err != nil {
		t.Errorf("HEAD: %v", err)
	}
}

func TestOpenOutsideARepositorySaysSo(t *testing.T) {
	dir := t.TempDir()
	_, err := gitfacts.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "not in a git repository") {
		t.Fatalf("Open(%s) = %v, want a 'not in a git repository' error", dir, err)
	}
	if _, err := gitfacts.Open(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Open of a missing directory succeeded")
	}
}

func TestResolveRevisions(t *testing.T) {
	g := gt.New(t)
	c1 := g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "1\n"}}})
	c2 := g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "2\n"}}})
	f1 := g.Commit("feature/x", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"b": "1\n"}}})
	g.Tag("v1", c1.String(), "")
	g.Tag("v2", c2.String(), "release 2")
	g.SetRef("refs/remotes/origin/main", c1.String())
	g.Checkout("feature/x")
	r := open(t, g.Dir)
	for rev, want := range map[string]string{
		"main": c2.String(), "refs/heads/main": c2.String(), "feature/x": f1.String(), "HEAD": f1.String(),
		"v1": c1.String(), "v2": c2.String(), "origin/main": c1.String(), c1.String(): c1.String(),
		c2.String()[:10]: c2.String(), "main~1": c1.String(), "HEAD^": c2.String(),
	} {
		got, err := r.Resolve(rev)
		if err != nil || got.String() != want {
			t.Errorf("Resolve(%q) = %s, %v; want %s", rev, got, err, want)
		}
	}
	for _, rev := range []string{"nope", "origin/nope", "", "0123456789012345678901234567890123456789"} {
		if _, err := r.Resolve(rev); err == nil {
			t.Errorf("Resolve(%q) succeeded", rev)
		}
	}
	if got := r.CurrentBranch(); got != "feature/x" {
		t.Errorf("CurrentBranch() = %q", got)
	}
}

func TestDefaultBranch(t *testing.T) {
	g := gt.New(t)
	r0 := open(t, g.Dir)
	if _, err := r0.DefaultBranch(); err == nil {
		t.Error("an empty repository has a default branch")
	}
	g.Commit("master", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "1\n"}}})
	if b, err := open(t, g.Dir).DefaultBranch(); err != nil || b != "master" {
		t.Errorf("with master only: %q, %v", b, err)
	}
	g.Commit("main", "master", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "2\n"}}})
	if b, err := open(t, g.Dir).DefaultBranch(); err != nil || b != "main" {
		t.Errorf("with main and master: %q, %v", b, err)
	}
	g.SetRef("refs/remotes/origin/trunk", "main")
	g.SetSymbolicRef("refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
	if b, err := open(t, g.Dir).DefaultBranch(); err != nil || b != "origin/trunk" {
		t.Errorf("with origin/HEAD -> trunk: %q, %v", b, err)
	}
}

// agentBranch builds main with a base layout and a branch written by agents
// and a human: a Claude Code commit, a Copilot commit that renames the
// Terraform file out of infra/, and a human commit that deletes a file and
// adds a binary.
func agentBranch(t *testing.T) *gt.Repo {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "initial\n", Change: gt.Change{Write: map[string]string{
		"README.md":       "hello\n",
		"infra/main.tf":   "resource \"x\" \"y\" {}\n",
		"src/app.go":      "package app\n\nfunc A() {}\n",
		"docs/guide.md":   "guide\n",
		"tools/remove.sh": "echo\n",
	}}})
	g.Commit("agent/work", "main", gt.Commit{Author: gt.Alice, Message: gt.Msg("Add B", gt.ClaudeTrailer),
		Change: gt.Change{Write: map[string]string{"src/app.go": "package app\n\nfunc A() {}\n\nfunc B() {}\n"}}})
	g.Commit("agent/work", "", gt.Commit{Author: gt.Copilot, Committer: gt.Alice, Message: "Retire the terraform\n",
		Signature: "-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----\n",
		Change:    gt.Change{Rename: map[string]string{"infra/main.tf": "old/main.txt"}}})
	g.Commit("agent/work", "", gt.Commit{Author: gt.Bob, Message: "Tidy\n", Change: gt.Change{
		Delete: []string{"tools/remove.sh"},
		Write:  map[string]string{"assets/logo.png": "\x89PNG\r\n\x1a\n\x00\x00\x00binary"},
	}})
	return g
}

func TestFactsCommitsAndFiles(t *testing.T) {
	g := agentBranch(t)
	g.Checkout("agent/work")
	r := open(t, g.Dir)
	f, err := r.Facts(context.Background(), "main", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Local {
		t.Error("Local is false")
	}
	if f.PR.HeadRef != "agent/work" || f.PR.BaseRef != "main" {
		t.Errorf("refs: head %q base %q", f.PR.HeadRef, f.PR.BaseRef)
	}
	if f.PR.HeadSHA != g.Resolve("agent/work").String() || f.PR.BaseSHA != g.Resolve("main").String() {
		t.Errorf("shas: head %s base %s", f.PR.HeadSHA, f.PR.BaseSHA)
	}
	if len(f.Commits) != 3 {
		t.Fatalf("%d commits, want 3", len(f.Commits))
	}
	want := []struct{ author, subject, sig string }{
		{gt.Alice.Email, "Add B", ""}, {gt.Copilot.Email, "Retire the terraform", "ssh"}, {gt.Bob.Email, "Tidy", ""},
	}
	for i, c := range f.Commits {
		if c.AuthorEmail != want[i].author || !strings.HasPrefix(c.Message, want[i].subject) || c.Signature != want[i].sig || c.Parents != 1 {
			t.Errorf("commit %d = %+v, want %+v", i, c, want[i])
		}
	}
	if f.Commits[1].CommitterEmail != gt.Alice.Email {
		t.Errorf("committer %q", f.Commits[1].CommitterEmail)
	}
	if !strings.Contains(f.Commits[0].Message, gt.ClaudeTrailer) {
		t.Errorf("message lost its trailer: %q", f.Commits[0].Message)
	}
	got := map[string]checks.File{}
	for _, file := range f.Files {
		got[file.Path] = file
	}
	wantFiles := []checks.File{
		{Path: "assets/logo.png", Status: checks.StatusAdded},
		{Path: "old/main.txt", PreviousPath: "infra/main.tf", Status: checks.StatusRenamed},
		{Path: "src/app.go", Status: checks.StatusModified, Additions: 2},
		{Path: "tools/remove.sh", Status: checks.StatusRemoved, Deletions: 1},
	}
	if len(f.Files) != len(wantFiles) {
		t.Errorf("files = %+v", f.Files)
	}
	for _, w := range wantFiles {
		if got[w.Path] != w {
			t.Errorf("file %s = %+v, want %+v", w.Path, got[w.Path], w)
		}
	}

	// Detection on the gathered commits finds both agents.
	compiled, err := checks.Compile(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	det := compiled.Detector()
	if d := det.Commit(f.Commits[0]); d.Agent != "claude-code" {
		t.Errorf("Claude commit detected as %+v", d)
	}
	if d := det.Commit(f.Commits[1]); d.Agent != "copilot" {
		t.Errorf("Copilot commit detected as %+v", d)
	}
	if d := det.Commit(f.Commits[2]); d.IsAgent() {
		t.Errorf("human commit detected as %+v", d)
	}
}

func TestFactsMergeFromMainDoesNotBringMainsCommits(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a.txt": "1\n", "b.txt": "1\n"}}})
	b1 := g.Commit("topic", "main", gt.Commit{Author: gt.Bob, Message: "topic 1\n", Change: gt.Change{Write: map[string]string{"t.txt": "1\n"}}})
	m1 := g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "main 1\n", Change: gt.Change{Write: map[string]string{"a.txt": "2\n"}}})
	m2 := g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "main 2\n", Change: gt.Change{Write: map[string]string{"infra/x.tf": "x\n"}}})
	merge := g.Commit("topic", "", gt.Commit{Author: gt.Bob, Message: "Merge main into topic\n", Merge: []string{"main"},
		Change: gt.Change{Write: map[string]string{"a.txt": "2\n", "infra/x.tf": "x\n"}}})
	b2 := g.Commit("topic", "", gt.Commit{Author: gt.Bob, Message: "topic 2\n", Change: gt.Change{Write: map[string]string{"t.txt": "2\n"}}})

	f, err := open(t, g.Dir).Facts(context.Background(), "main", "topic")
	if err != nil {
		t.Fatal(err)
	}
	var shas []string
	for _, c := range f.Commits {
		shas = append(shas, c.SHA)
	}
	want := []string{b1.String(), merge.String(), b2.String()}
	if strings.Join(shas, ",") != strings.Join(want, ",") {
		t.Errorf("commits = %v, want %v (main's %s, %s must not be there)", shas, want, m1, m2)
	}
	if f.Commits[1].Parents != 2 {
		t.Errorf("merge commit has %d parents", f.Commits[1].Parents)
	}
	if f.PR.BaseSHA != m2.String() {
		t.Errorf("merge base %s, want main's tip %s", f.PR.BaseSHA, m2)
	}
	if len(f.Files) != 1 || f.Files[0].Path != "t.txt" || f.Files[0].Status != checks.StatusAdded {
		t.Errorf("files = %+v, want only t.txt added (main's changes are not the branch's)", f.Files)
	}
}

func TestFactsWithTheBaseAheadAndCrissCross(t *testing.T) {
	g := gt.New(t)
	root := g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "1\n"}}})
	g.Commit("x", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"x": "1\n"}}})
	g.Commit("y", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"y": "1\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"a": "2\n"}}})
	r := open(t, g.Dir)

	// Head already merged (an ancestor of base): nothing to judge.
	f, err := r.Facts(context.Background(), "main", root.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Commits) != 0 || len(f.Files) != 0 || f.PR.BaseSHA != root.String() {
		t.Errorf("ancestor head: %d commits, %d files, base %s", len(f.Commits), len(f.Files), f.PR.BaseSHA)
	}
	// Two unrelated-ish branches off main: only x's commit, only x's file.
	f, err = r.Facts(context.Background(), "y", "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Commits) != 1 || len(f.Files) != 1 || f.Files[0].Path != "x" || f.PR.BaseSHA != root.String() {
		t.Errorf("x against y: %+v", f)
	}
	// Unrelated histories are an error.
	g.Commit("orphan", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"o": "1\n"}}})
	if _, err := open(t, g.Dir).Facts(context.Background(), "main", "orphan"); err == nil || !strings.Contains(err.Error(), "no common history") {
		t.Errorf("unrelated histories: %v", err)
	}
	if _, err := r.Facts(context.Background(), "nope", "x"); err == nil || !strings.Contains(err.Error(), "base") {
		t.Errorf("unknown base: %v", err)
	}
}

const strictPolicy = `review:
  agent:
    approvals: 2
protected_paths:
  presets: []
  rules:
    - name: infra
      paths: ["infra/**"]
`

func TestPolicyAtReadsTheRevisionNotTheWorkTree(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{config.FileName: strictPolicy}}})
	g.Commit("loosen", "main", gt.Commit{Author: gt.Copilot, Change: gt.Change{Write: map[string]string{config.FileName: "review:\n  agent:\n    approvals: 0\n"}}})
	g.Checkout("loosen")
	r := open(t, g.Dir)
	p, err := r.PolicyAt(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	c, err := checks.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	// main's own rule, then the policy file's own (always protected).
	var names []string
	for _, r := range c.Rules() {
		names = append(names, r.Name)
	}
	if p.Review.AgentApprovals() != 2 || strings.Join(names, ",") != "infra,countersign" {
		t.Errorf("main's policy: agent approvals %d, rules %v; want 2 and [infra countersign]", p.Review.AgentApprovals(), names)
	}
	if p.Source.Path != config.FileName || p.Source.Ref != "main" || p.Source.SHA != g.Resolve("main").String() || p.Source.Builtin {
		t.Errorf("source = %+v", p.Source)
	}
	if p2, err := r.PolicyAt(context.Background(), "loosen"); err != nil || p2.Review.AgentApprovals() != 0 {
		t.Errorf("loosen's policy: %v", err)
	}
}

func TestPolicyAtMissingIsTheDefaultAndInvalidNamesTheLine(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"README": "x\n"}}})
	g.Commit("bad", "main", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{config.FileName: "review:\n  agent:\n    approvals: many\n"}}})
	r := open(t, g.Dir)
	p, err := r.PolicyAt(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Source.Builtin || p.Source.Ref != "main" {
		t.Errorf("missing file: source %+v", p.Source)
	}
	_, err = r.PolicyAt(context.Background(), "bad")
	var ce *config.Error
	if err == nil || !errors.As(err, &ce) || ce.Line != 3 || !strings.Contains(err.Error(), config.FileName+":3") {
		t.Errorf("invalid policy error = %v, want one naming %s:3", err, config.FileName)
	}
}

func TestCodeOwnersAt(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"README": "x\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{
		"docs/CODEOWNERS":    "* @org/docs\n",
		".github/CODEOWNERS": "* @org/everyone\n/infra/ @org/platform\n",
	}}})
	r := open(t, g.Dir)
	if rs, err := r.CodeOwnersAt("main~1"); err != nil || rs != nil {
		t.Errorf("no CODEOWNERS: %v, %v", rs, err)
	}
	rs, err := r.CodeOwnersAt("main")
	if err != nil {
		t.Fatal(err)
	}
	rule, err := rs.Match("infra/main.tf")
	if err != nil || rule == nil || rule.Owners[0].String() != "@org/platform" {
		t.Errorf(".github/CODEOWNERS must win: %v %v", rule, err)
	}
	f, err := r.Facts(context.Background(), "main", "main")
	if err != nil || f.CodeOwners == nil {
		t.Errorf("Facts carries no CODEOWNERS: %v", err)
	}
}

func TestOpenBareRepository(t *testing.T) {
	g := agentBranch(t)
	// The .git directory of a repository is itself a valid (bare-style) git dir.
	r := open(t, filepath.Join(g.Dir, ".git"))
	if _, err := r.Facts(context.Background(), "main", "agent/work"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.Root()); err != nil {
		t.Error(err)
	}
}

// gitfactsCommit is a human commit writing one file.
func gitfactsCommit(path string) gt.Commit {
	return gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{path: strings.Repeat("x", 1<<16)}}}
}
