package gitfacts_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/gitfacts"
)

// partialClone makes a source repository (main, and feat changing b.txt)
// and a --filter=blob:none clone of it over file://, without checkout.
func partialClone(t *testing.T) (src, dst string) {
	t.Helper()
	src, dst = filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=A", "-c", "user.email=a@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(".", "init", "-q", src)
	git(src, "config", "uploadpack.allowfilter", "true")
	if err := os.WriteFile(filepath.Join(src, "b.txt"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(src, "add", "b.txt")
	git(src, "commit", "-q", "-m", "init")
	git(src, "checkout", "-q", "-b", "feat")
	if err := os.WriteFile(filepath.Join(src, "b.txt"), []byte("one\n2\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(src, "add", "b.txt")
	git(src, "commit", "-q", "-m", "feat")
	git(".", "clone", "-q", "--no-checkout", "--filter=blob:none", "file://"+src, dst)
	return src, dst
}

// On a partial clone (--filter=blob:none) whose blobs were never fetched,
// the facts are read as on a full clone: git fetches the missing blobs from
// the promisor remote.
func TestFactsOnPartialClone(t *testing.T) {
	_, dst := partialClone(t)
	repo, err := gitfacts.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	f, err := repo.Facts(context.Background(), "origin/main", "origin/feat")
	if err != nil {
		t.Fatalf("Facts on a partial clone: %v", err)
	}
	if len(f.Files) != 1 || f.Files[0].Path != "b.txt" || f.Files[0].Additions != 2 || f.Files[0].Deletions != 1 {
		t.Fatalf("files %+v; want b.txt +2 -1", f.Files)
	}
}

// When git cannot fetch a missing blob (the promisor remote is gone), the
// error names the partial clone rather than a bare "object not found".
func TestFactsOnPartialCloneWithoutRemoteNamesTheCause(t *testing.T) {
	src, dst := partialClone(t)
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	repo, err := gitfacts.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	_, err = repo.Facts(context.Background(), "origin/main", "origin/feat")
	if err == nil || !strings.Contains(err.Error(), "partial clone") {
		t.Fatalf("Facts on a partial clone without its remote: %v; want an error naming the partial clone", err)
	}
}
