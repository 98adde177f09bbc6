// Package gitfactstest builds real git repositories on disk for tests, with
// go-git only: commits by given authors (with agents' real fingerprints),
// file writes, deletions, renames, merges and signatures.
package gitfactstest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Identities with the fingerprints agents really leave.
var (
	// Alice and Bob are humans.
	Alice = object.Signature{Name: "Alice Example", Email: "alice@example.com"}
	Bob   = object.Signature{Name: "Bob Example", Email: "bob@example.com"}
	// Copilot is the GitHub Copilot coding agent's commit identity.
	Copilot = object.Signature{Name: "Copilot", Email: "198982749+Copilot@users.noreply.github.com"}
	// Dependabot is an automation bot.
	Dependabot = object.Signature{Name: "dependabot[bot]", Email: "49699333+dependabot[bot]@users.noreply.github.com"}
)

// ClaudeTrailer is the trailer Claude Code adds to the commits it writes.
const ClaudeTrailer = "Co-Authored-By: Claude <noreply@anthropic.com>"

// Repo is a repository under construction.
type Repo struct {
	t    testing.TB
	Dir  string
	Git  *git.Repository
	when time.Time
}

// New creates an empty non-bare repository in a temporary directory, with
// HEAD on main.
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.Main}})
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{t: t, Dir: dir, Git: r, when: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// Change is what a commit does to its first parent's tree.
type Change struct {
	// Write sets file contents (creating files as needed).
	Write map[string]string
	// Delete removes files.
	Delete []string
	// Rename moves files, old path to new path, keeping their contents.
	Rename map[string]string
}

// Commit describes a commit.
type Commit struct {
	// Author writes the commit; Committer defaults to Author.
	Author, Committer object.Signature
	// Message is the full message.
	Message string
	// Change is applied to the first parent's tree.
	Change Change
	// Merge adds further parents (branch names or hashes).
	Merge []string
	// Signature is a gpgsig header value, such as an armoured SSH signature.
	Signature string
	// When overrides the commit time (otherwise each commit is a minute after the last).
	When time.Time
}

// Commit adds a commit on branch (created from from, a branch or hash, when
// it does not exist yet; from may be empty for a root commit) and returns it.
func (r *Repo) Commit(branch, from string, c Commit) plumbing.Hash {
	r.t.Helper()
	var parents []plumbing.Hash
	if ref, err := r.Git.Storer.Reference(plumbing.NewBranchReferenceName(branch)); err == nil {
		parents = append(parents, ref.Hash())
	} else if from != "" {
		parents = append(parents, r.Resolve(from))
	}
	for _, m := range c.Merge {
		parents = append(parents, r.Resolve(m))
	}
	files := map[string]plumbing.Hash{}
	if len(parents) > 0 {
		pc, err := r.Git.CommitObject(parents[0])
		if err != nil {
			r.t.Fatal(err)
		}
		files = r.flatten(pc)
	}
	for old, nw := range c.Change.Rename {
		h, ok := files[old]
		if !ok {
			r.t.Fatalf("rename of missing %s", old)
		}
		delete(files, old)
		files[nw] = h
	}
	for _, p := range c.Change.Delete {
		if _, ok := files[p]; !ok {
			r.t.Fatalf("delete of missing %s", p)
		}
		delete(files, p)
	}
	for p, content := range c.Change.Write {
		files[p] = r.blob(content)
	}
	tree := r.tree(files)
	if c.When.IsZero() {
		r.when = r.when.Add(time.Minute)
		c.When = r.when
	}
	c.Author.When = c.When
	if c.Committer.Name == "" {
		c.Committer = c.Author
	}
	c.Committer.When = c.When
	msg := c.Message
	if msg == "" {
		msg = "change\n"
	}
	obj := &object.Commit{Author: c.Author, Committer: c.Committer, Message: msg, TreeHash: tree, ParentHashes: parents, PGPSignature: c.Signature}
	h := r.store(obj)
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)); err != nil {
		r.t.Fatal(err)
	}
	return h
}

// Resolve resolves a revision or fails the test.
func (r *Repo) Resolve(rev string) plumbing.Hash {
	r.t.Helper()
	if plumbing.IsHash(rev) {
		return plumbing.NewHash(rev)
	}
	h, err := r.Git.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		r.t.Fatalf("resolve %s: %v", rev, err)
	}
	return *h
}

// SetRef points a reference (such as refs/remotes/origin/main) at a revision.
func (r *Repo) SetRef(name, rev string) {
	r.t.Helper()
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), r.Resolve(rev))); err != nil {
		r.t.Fatal(err)
	}
}

// SetSymbolicRef points a symbolic reference at another (such as
// refs/remotes/origin/HEAD at refs/remotes/origin/main).
func (r *Repo) SetSymbolicRef(name, target string) {
	r.t.Helper()
	if err := r.Git.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.ReferenceName(name), plumbing.ReferenceName(target))); err != nil {
		r.t.Fatal(err)
	}
}

// Checkout points HEAD at a branch and writes its files into the work tree,
// so the repository looks like a clone with that branch checked out.
func (r *Repo) Checkout(branch string) {
	r.t.Helper()
	if err := r.Git.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch))); err != nil {
		r.t.Fatal(err)
	}
	c, err := r.Git.CommitObject(r.Resolve(branch))
	if err != nil {
		r.t.Fatal(err)
	}
	for p, h := range r.flatten(c) {
		b, err := r.Git.BlobObject(h)
		if err != nil {
			r.t.Fatal(err)
		}
		rd, _ := b.Reader()
		var buf bytes.Buffer
		buf.ReadFrom(rd)
		rd.Close()
		full := filepath.Join(r.Dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, buf.Bytes(), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// Tag creates a lightweight tag, or an annotated one when message is not empty.
func (r *Repo) Tag(name, rev, message string) {
	r.t.Helper()
	var opts *git.CreateTagOptions
	if message != "" {
		opts = &git.CreateTagOptions{Tagger: &object.Signature{Name: "T", Email: "t@example.com", When: r.when}, Message: message}
	}
	if _, err := r.Git.CreateTag(name, r.Resolve(rev), opts); err != nil {
		r.t.Fatal(err)
	}
}

func (r *Repo) flatten(c *object.Commit) map[string]plumbing.Hash {
	t, err := c.Tree()
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]plumbing.Hash{}
	err = t.Files().ForEach(func(f *object.File) error { out[f.Name] = f.Hash; return nil })
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *Repo) blob(content string) plumbing.Hash {
	obj := r.Git.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, _ := obj.Writer()
	w.Write([]byte(content))
	w.Close()
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (r *Repo) store(o encoder) plumbing.Hash {
	obj := r.Git.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// tree writes the trees for a flat path → blob map and returns the root.
func (r *Repo) tree(files map[string]plumbing.Hash) plumbing.Hash {
	sub := map[string]map[string]plumbing.Hash{}
	var entries []object.TreeEntry
	for p, h := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if sub[dir] == nil {
				sub[dir] = map[string]plumbing.Hash{}
			}
			sub[dir][rest] = h
			continue
		}
		entries = append(entries, object.TreeEntry{Name: p, Mode: filemode.Regular, Hash: h})
	}
	for dir, fs := range sub {
		entries = append(entries, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: r.tree(fs)})
	}
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	return r.store(&object.Tree{Entries: entries})
}

// Msg builds a commit message from a subject and trailer lines.
func Msg(subject string, trailers ...string) string {
	if len(trailers) == 0 {
		return subject + "\n"
	}
	return fmt.Sprintf("%s\n\n%s\n", subject, strings.Join(trailers, "\n"))
}

// Storage returns the repository's filesystem storage.
func (r *Repo) Storage() *filesystem.Storage { return r.Git.Storer.(*filesystem.Storage) }
