// Package gitfacts gathers the facts Countersign's engine reads from a git
// repository with go-git: the commits and changed files of a branch against
// its base, the policy and CODEOWNERS as they are at a revision, a fast
// first-parent walk for audits, and an in-memory fetch of two revisions for
// the server when GitHub's listings are cut short.
package gitfacts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// objectCacheSize is the LRU object cache of an opened repository. Audits
// revisit the same trees from one commit to the next, so a generous cache
// pays for itself.
const objectCacheSize = 256 * cache.MiByte

// Repo is a git repository opened for reading facts.
type Repo struct {
	repo *git.Repository
	// root is the work tree root, or the git directory of a bare repository;
	// empty for an in-memory repository.
	root string
	// gitDir is the git directory on disk, empty in memory.
	gitDir string
	// closer releases the packfile descriptors kept open while reading.
	closer func() error
}

// Open opens the git repository containing dir, looking upwards from dir for
// its root the way git does. A directory outside any repository is an error
// that says so.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("cannot open %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	r, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// A bare repository has no .git to detect; try the directory itself.
		if rb, errBare := git.PlainOpen(abs); errBare == nil {
			r, err = rb, nil
		}
	}
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s is not in a git repository (no .git found in it or any parent directory)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the git repository at %s: %w", dir, err)
	}
	out := &Repo{repo: r, root: abs}
	st, ok := r.Storer.(*filesystem.Storage)
	if !ok {
		return out, nil
	}
	var wt billy.Filesystem
	if w, err := r.Worktree(); err == nil {
		wt = w.Filesystem
		out.root = wt.Root()
	} else {
		out.root = st.Filesystem().Root()
	}
	// Reopen the same storage keeping packfile descriptors open and with a
	// larger object cache: go-git otherwise reopens the packfile for every
	// object it reads, which dominates the cost of walking history.
	fast := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRU(objectCacheSize),
		filesystem.Options{KeepDescriptors: true})
	var store storage.Storer = fast
	closer := fast.Close
	if cfg, err := st.Config(); err == nil && isPartialClone(cfg) {
		ps := &promisorStorage{Storage: fast, gitDir: st.Filesystem().Root()}
		store, closer = ps, ps.Close
	}
	r2, err := git.Open(store, wt)
	if err != nil {
		return out, nil
	}
	out.repo = r2
	out.gitDir = st.Filesystem().Root()
	out.closer = closer
	return out, nil
}

// FromRepository wraps an already open go-git repository, such as an
// in-memory clone.
func FromRepository(r *git.Repository) *Repo { return &Repo{repo: r} }

// Close releases the files the repository keeps open.
func (r *Repo) Close() error {
	if r.closer != nil {
		return r.closer()
	}
	return nil
}

// Root returns the work tree root (or the git directory of a bare repository).
func (r *Repo) Root() string { return r.root }

// Git returns the underlying go-git repository.
func (r *Repo) Git() *git.Repository { return r.repo }

// Resolve resolves a revision (a branch, tag, remote-tracking branch such as
// origin/main, full or abbreviated SHA, HEAD, or rev~n / rev^n) to a commit.
func (r *Repo) Resolve(rev string) (plumbing.Hash, error) {
	if rev == "" {
		return plumbing.ZeroHash, errors.New("empty revision")
	}
	if plumbing.IsHash(rev) {
		h := plumbing.NewHash(rev)
		if _, err := r.commit(h); err == nil {
			return h, nil
		}
	}
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil || h == nil || h.IsZero() {
		if errors.Is(err, plumbing.ErrReferenceNotFound) || err == nil || errors.Is(err, plumbing.ErrObjectNotFound) {
			return plumbing.ZeroHash, fmt.Errorf("unknown revision %q: no branch, tag or commit of that name", rev)
		}
		return plumbing.ZeroHash, fmt.Errorf("cannot resolve revision %q: %w", rev, err)
	}
	return *h, nil
}

// DefaultBranch names the repository's default branch: the branch origin/HEAD
// points at (as "origin/<name>"), else a local main or master, else
// origin/main or origin/master.
func (r *Repo) DefaultBranch() (string, error) {
	if ref, err := r.repo.Storer.Reference(plumbing.NewRemoteHEADReferenceName("origin")); err == nil {
		if ref.Type() == plumbing.SymbolicReference {
			target := ref.Target()
			if _, err := r.repo.Storer.Reference(target); err == nil {
				return strings.TrimPrefix(target.String(), "refs/remotes/"), nil
			}
		}
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.NewBranchReferenceName("main"),
		plumbing.NewBranchReferenceName("master"),
		plumbing.NewRemoteReferenceName("origin", "main"),
		plumbing.NewRemoteReferenceName("origin", "master"),
	} {
		if _, err := r.repo.Storer.Reference(name); err == nil {
			return name.Short(), nil
		}
	}
	return "", errors.New("cannot tell the default branch: there is no origin/HEAD, main or master branch; name the base revision")
}

// CurrentBranch returns the branch HEAD points at, or "" when HEAD is detached.
func (r *Repo) CurrentBranch() string {
	ref, err := r.repo.Storer.Reference(plumbing.HEAD)
	if err != nil || ref.Type() != plumbing.SymbolicReference || !ref.Target().IsBranch() {
		return ""
	}
	return ref.Target().Short()
}

// RepoName guesses "owner/name" from the origin remote's URL, falling back to
// the work tree's directory name.
func (r *Repo) RepoName() string {
	if rem, err := r.repo.Remote("origin"); err == nil && len(rem.Config().URLs) > 0 {
		if n := ownerName(rem.Config().URLs[0]); n != "" {
			return n
		}
	}
	if r.root != "" {
		return filepath.Base(r.root)
	}
	return ""
}

// ownerName extracts "owner/name" from a remote URL such as
// https://github.com/owner/name.git or git@github.com:owner/name.git.
func ownerName(url string) string {
	u := strings.TrimSuffix(strings.TrimSuffix(url, "/"), ".git")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.Index(u, "/"); j >= 0 {
			u = u[j+1:]
		} else {
			return ""
		}
	} else if i := strings.Index(u, ":"); i >= 0 && !strings.HasPrefix(u, "/") {
		u = u[i+1:]
	} else {
		return ""
	}
	parts := strings.Split(u, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// commit reads a commit object.
func (r *Repo) commit(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(r.repo.Storer, h)
}

// objects returns the repository's object storer.
func (r *Repo) objects() storer.EncodedObjectStorer { return r.repo.Storer }
