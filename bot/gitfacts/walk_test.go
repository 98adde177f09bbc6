package gitfacts_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/countersign/countersign/bot/gitfacts"
	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/bot/gitfacts/internal/histgen"
	"github.com/countersign/countersign/checks"
)

// walkLog runs Walk and renders it as "sha\nSTATUS path\n…" blocks.
func walkLog(t *testing.T, r *gitfacts.Repo, ref string, since time.Time) []string {
	t.Helper()
	var out []string
	err := r.Walk(context.Background(), ref, since, func(c gitfacts.AuditCommit) error {
		var lines []string
		for _, ch := range c.Changes {
			lines = append(lines, strings.ToUpper(ch.Status[:1])+" "+ch.Path)
		}
		sort.Strings(lines)
		out = append(out, c.Commit.SHA+"\n"+strings.Join(lines, "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goGitLog is the same rendering computed with go-git's own tree diff.
func goGitLog(t *testing.T, g *gt.Repo, ref string) []string {
	t.Helper()
	c, err := g.Git.CommitObject(g.Resolve(ref))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for c != nil {
		tree, _ := c.Tree()
		var ptree *object.Tree
		var parent *object.Commit
		if len(c.ParentHashes) > 0 {
			parent, _ = g.Git.CommitObject(c.ParentHashes[0])
			ptree, _ = parent.Tree()
		}
		changes, err := object.DiffTree(ptree, tree)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, ch := range changes {
			a, _ := ch.Action()
			switch a {
			case merkletrie.Insert:
				lines = append(lines, "A "+ch.To.Name)
			case merkletrie.Delete:
				lines = append(lines, "R "+ch.From.Name)
			default:
				lines = append(lines, "M "+ch.To.Name)
			}
		}
		sort.Strings(lines)
		out = append(out, c.Hash.String()+"\n"+strings.Join(lines, "\n"))
		c = parent
	}
	return out
}

func TestWalkMatchesGoGitsTreeDiff(t *testing.T) {
	g := gt.New(t)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{
		"README.md": "x\n", "infra/main.tf": "tf\n", "infra/mod/a.tf": "a\n", "src/a/b/c.go": "c\n", "src/a/d.go": "d\n", "thing": "file\n",
	}}})
	g.Commit("side", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/side.go": "s\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: gt.Msg("Move terraform", gt.ClaudeTrailer),
		Change: gt.Change{Rename: map[string]string{"infra/main.tf": "old/main.txt"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Copilot, Change: gt.Change{Delete: []string{"infra/mod/a.tf"}, Write: map[string]string{"src/a/b/c.go": "c2\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Message: "merge side\n", Merge: []string{"side"}, Change: gt.Change{Write: map[string]string{"src/side.go": "s\n"}}})
	// A file replaced by a directory of the same name, then back.
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Delete: []string{"thing"}, Write: map[string]string{"thing/inner.txt": "i\n", "thing.txt": "t\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Delete: []string{"thing/inner.txt"}, Write: map[string]string{"thing": "file again\n"}}})
	g.Commit("main", "", gt.Commit{Author: gt.Bob, Change: gt.Change{}}) // an empty commit

	r := open(t, g.Dir)
	got, want := walkLog(t, r, "main", time.Time{}), goGitLog(t, g, "main")
	if strings.Join(got, "\n\n") != strings.Join(want, "\n\n") {
		t.Errorf("Walk:\n%s\n\ngo-git:\n%s", strings.Join(got, "\n\n"), strings.Join(want, "\n\n"))
	}
	if len(got) != 7 {
		t.Errorf("%d commits walked, want the 7 of the first-parent line (not side's)", len(got))
	}
	// The merge knows the commit it merged.
	var merged []string
	err := r.Walk(context.Background(), "main", time.Time{}, func(c gitfacts.AuditCommit) error {
		for _, m := range c.Merged {
			merged = append(merged, c.Commit.SHA[:7]+"<-"+m.SHA[:7])
		}
		return nil
	})
	if err != nil || len(merged) != 1 || merged[0] != g.Resolve("main~3").String()[:7]+"<-"+g.Resolve("side").String()[:7] {
		t.Errorf("merged = %v, %v", merged, err)
	}
	// The root commit lists every file as added.
	if root := got[len(got)-1]; strings.Count(root, "\nA ") != 6 {
		t.Errorf("root commit = %q", root)
	}
}

func TestWalkSinceStopAndCommitFields(t *testing.T) {
	g := gt.New(t)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		author := gt.Alice
		msg := fmt.Sprintf("c%d\n", i)
		if i%2 == 1 {
			author, msg = gt.Copilot, gt.Msg(fmt.Sprintf("c%d", i), "Co-authored-by: Alice Example <alice@example.com>")
		}
		g.Commit("main", "", gt.Commit{Author: author, Message: msg, When: start.AddDate(0, 0, i),
			Signature: "-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n",
			Change:    gt.Change{Write: map[string]string{fmt.Sprintf("f%d", i): "x\n"}}})
	}
	r := open(t, g.Dir)
	var got []gitfacts.AuditCommit
	err := r.Walk(context.Background(), "main", start.AddDate(0, 0, 7), func(c gitfacts.AuditCommit) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("since day 7: %d commits, want 3", len(got))
	}
	c := got[0]
	if c.Commit.AuthorEmail != gt.Copilot.Email || c.Commit.Signature != "gpg" || c.Commit.Parents != 1 ||
		!strings.Contains(c.Commit.Message, "Co-authored-by: Alice") || !c.CommitDate.Equal(start.AddDate(0, 0, 9)) {
		t.Errorf("newest commit = %+v", c)
	}
	if len(c.Changes) != 1 || c.Changes[0] != (gitfacts.Change{Path: "f9", Status: checks.StatusAdded}) {
		t.Errorf("changes = %+v", c.Changes)
	}
	n := 0
	err = r.Walk(context.Background(), "main", time.Time{}, func(gitfacts.AuditCommit) error {
		n++
		if n == 4 {
			return gitfacts.ErrStop
		}
		return nil
	})
	if err != nil || n != 4 {
		t.Errorf("ErrStop: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	if err := r.Walk(context.Background(), "main", time.Time{}, func(gitfacts.AuditCommit) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("callback error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Walk(ctx, "main", time.Time{}, func(gitfacts.AuditCommit) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk = %v", err)
	}
}

func TestWalkStopsAtAShallowBoundary(t *testing.T) {
	g := gt.New(t)
	var hs []plumbing.Hash
	for i := 0; i < 5; i++ {
		hs = append(hs, g.Commit("main", "", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{fmt.Sprintf("f%d", i): "x\n"}}}))
	}
	if err := g.Storage().SetShallow([]plumbing.Hash{hs[2]}); err != nil {
		t.Fatal(err)
	}
	var got []gitfacts.AuditCommit
	if err := open(t, g.Dir).Walk(context.Background(), "main", time.Time{}, func(c gitfacts.AuditCommit) error {
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[2].Boundary || got[2].Changes != nil || got[1].Boundary {
		t.Errorf("shallow walk: %d commits, last %+v", len(got), got[len(got)-1])
	}
}

// gitLog runs git log --first-parent --name-status and renders it like walkLog.
func gitLog(t *testing.T, dir string) []string {
	t.Helper()
	cmd := exec.Command("git", "log", "--first-parent", "--name-status", "--no-renames", "--format=%x00%H")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, b := range strings.Split(string(out), "\x00")[1:] {
		sc := bufio.NewScanner(strings.NewReader(b))
		sc.Scan()
		sha := sc.Text()
		var lines []string
		for sc.Scan() {
			if l := sc.Text(); l != "" {
				st, path, _ := strings.Cut(l, "\t")
				if st == "D" {
					st = "R"
				}
				lines = append(lines, st+" "+path)
			}
		}
		sort.Strings(lines)
		blocks = append(blocks, sha+"\n"+strings.Join(lines, "\n"))
	}
	return blocks
}

func needGit(t testing.TB) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// TestWalkMatchesGitLogOnPacks reads a packed history (deltas as git
// fast-import writes them, then as git repack writes them, newest whole)
// and compares every commit's paths with git's own answer.
func TestWalkMatchesGitLogOnPacks(t *testing.T) {
	needGit(t)
	dir := filepath.Join(t.TempDir(), "repo")
	if err := histgen.Generate(context.Background(), dir, histgen.Options{Commits: 400, MergeEvery: 7, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	check := func(label string) {
		r := open(t, dir)
		got, want := walkLog(t, r, "main", time.Time{}), gitLog(t, dir)
		if len(got) != len(want) {
			t.Fatalf("%s: %d commits walked, git log has %d", label, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: commit %d differs:\nWalk:\n%s\ngit:\n%s", label, i, got[i], want[i])
			}
		}
	}
	check("fast-import pack")
	cmd := exec.Command("git", "repack", "-adfq", "--depth=20", "--window=20")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("repack: %v %s", err, out)
	}
	check("repacked")
	// A loose commit on top of the pack: both stores in one walk.
	g := &bytes.Buffer{}
	cmd = exec.Command("git", "-c", "user.name=L", "-c", "user.email=l@example.com", "commit", "-q", "--allow-empty", "-m", "loose")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, g, g
	if err := cmd.Run(); err != nil {
		t.Fatalf("commit: %v %s", err, g)
	}
	os.WriteFile(filepath.Join(dir, "loose.txt"), []byte("l\n"), 0o644)
	for _, args := range [][]string{{"add", "loose.txt"}, {"-c", "user.name=L", "-c", "user.email=l@example.com", "commit", "-q", "-m", "loose file"}} {
		cmd = exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	check("pack and loose")
}
