package gitfacts_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/gitfacts/internal/histgen"
)

// scripts/backtest.sh over a generated history: per-agent counts from
// `countersign audit --format json`, and the commits whose signals are only
// weak, named with their signals.
func TestBacktestScript(t *testing.T) {
	for _, tool := range []string{"bash", "git", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("scripts/backtest.sh needs %s, which is not installed", tool)
		}
	}
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "countersign")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/countersign")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	repo := filepath.Join(tmp, "repo")
	if err := histgen.Generate(ctx, repo, histgen.Options{Commits: 60, MergeEvery: 20, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	// Two commits carrying only weak signals: a self-made Antigravity
	// address that may belong to someone else, and aider's subject prefix
	// without its transcript.
	gitEnv := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+tmp,
		"GIT_AUTHOR_NAME=Grace Hopper", "GIT_AUTHOR_EMAIL=grace@example.com",
		"GIT_COMMITTER_NAME=Grace Hopper", "GIT_COMMITTER_EMAIL=grace@example.com")
	for _, msg := range []string{
		"Tune the cache\n\nCo-Authored-By: Antigravity <antigravity@google.com>",
		"aider: bump the pinned version",
	} {
		c := exec.CommandContext(ctx, "git", "commit", "-q", "--allow-empty", "-m", msg)
		c.Dir, c.Env = repo, gitEnv
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git commit: %v\n%s", err, out)
		}
	}
	run := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "backtest.sh"), repo)
	run.Env = append(os.Environ(), "COUNTERSIGN="+bin)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("backtest.sh: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"commits: 62 ", "weak-only: 2",
		"agent\tcommits\tshare", "claude-code\t", "copilot\t", "aider\t",
		"automation\tcommits\tshare", "dependabot\t",
		"gemini\t1", // the Antigravity address, weak
		"Tune the cache", "trailer Co-Authored-By: Antigravity <antigravity@google.com> → gemini",
		"aider: bump the pinned version", "subject aider: bump the pinned version → aider",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// A repository that is not one fails with status 2.
	bad := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "backtest.sh"), tmp+"/nowhere")
	bad.Env = append(os.Environ(), "COUNTERSIGN="+bin)
	if out, err := bad.CombinedOutput(); err == nil || bad.ProcessState.ExitCode() != 2 {
		t.Errorf("backtest.sh on a missing directory: %v\n%s", err, out)
	}
}
