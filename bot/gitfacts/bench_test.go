package gitfacts_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/gitfacts"
	"github.com/countersign/countersign/bot/gitfacts/internal/histgen"
)

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// benchRepo generates (once per process) a history of
// COUNTERSIGN_BENCH_COMMITS first-parent commits, 20,000 by default; it only
// runs under -bench, so `go test` stays fast. scripts/bench-audit.sh runs the
// full 100,000-commit comparison with the binary.
func benchRepo(b *testing.B) string {
	needGit(b)
	benchOnce.Do(func() {
		n := 20000
		if s := os.Getenv("COUNTERSIGN_BENCH_COMMITS"); s != "" {
			if n, benchErr = strconv.Atoi(s); benchErr != nil {
				return
			}
		}
		var tmp string
		if tmp, benchErr = os.MkdirTemp("", "countersign-walk-bench-"); benchErr != nil {
			return
		}
		benchDir = filepath.Join(tmp, "repo")
		benchErr = histgen.Generate(context.Background(), benchDir, histgen.Options{Commits: n, MergeEvery: 25, Seed: 1})
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// TestMain removes the benchmark's generated repository.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(filepath.Dir(benchDir))
	}
	os.Exit(code)
}

// BenchmarkWalk compares Walk with git log --first-parent --name-status on
// the same history; both report commits/s.
func BenchmarkWalk(b *testing.B) {
	dir := benchRepo(b)
	b.Run("gitfacts", func(b *testing.B) {
		r, err := gitfacts.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		commits := 0
		start := time.Now()
		for b.Loop() {
			err := r.Walk(context.Background(), "main", time.Time{}, func(c gitfacts.AuditCommit) error {
				commits++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(commits)/time.Since(start).Seconds(), "commits/s")
	})
	b.Run("git-log", func(b *testing.B) {
		out, err := exec.Command("git", "-C", dir, "rev-list", "--first-parent", "--count", "main").Output()
		if err != nil {
			b.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		commits := 0
		start := time.Now()
		for b.Loop() {
			cmd := exec.Command("git", "log", "--first-parent", "--name-status")
			cmd.Dir, cmd.Stdout = dir, io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			commits += n
		}
		b.ReportMetric(float64(commits)/time.Since(start).Seconds(), "commits/s")
	})
}
