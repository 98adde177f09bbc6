package gitfacts_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/gitfacts"
)

// On a partial clone (--filter=blob:none) whose blobs were never fetched, the
// error names the cause and the remedy rather than a bare "object not found".
func TestFactsOnPartialCloneNamesTheCause(t *testing.T) {
	src, dst := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=A", "-c", "user.email=a@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(".", "init", "-q", src)
	git(src, "config", "uploadpack.allowfilter", "true")
	git(src, "commit", "-q", "--allow-empty", "-m", "init")
	git(src, "checkout", "-q", "-b", "feat")
	if err := exec.Command("sh", "-c", "echo b > "+filepath.Join(src, "b.txt")).Run(); err != nil {
		t.Fatal(err)
	}
	git(src, "add", "b.txt")
	git(src, "commit", "-q", "-m", "feat")
	git(".", "clone", "-q", "--no-checkout", "--filter=blob:none", "file://"+src, dst)
	repo, err := gitfacts.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	_, err = repo.Facts(context.Background(), "origin/main", "origin/feat")
	if err == nil || !strings.Contains(err.Error(), "partial clone") {
		t.Fatalf("Facts on a partial clone: %v; want an error naming the partial clone", err)
	}
}
