package gitfacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
)

// Change is a path a commit changed against its first parent; the policy
// engine judges commits by it (checks.CommitJudge).
type Change = checks.Change

// AuditCommit is one commit of a first-parent walk.
type AuditCommit struct {
	// Commit is what detection reads of the commit.
	Commit detect.Commit
	// AuthorDate and CommitDate are the commit's dates.
	AuthorDate time.Time
	CommitDate time.Time
	// Changes are the paths changed against the first parent, in tree order;
	// for a root commit, every file.
	Changes []Change
	// Merged are, for a merge commit, the commits it brought onto the
	// first-parent line (reachable from its other parents and not from its
	// first), oldest first: the pull request a merge commit stands for.
	Merged []detect.Commit
	// Boundary is true when the commit's parents are not in the repository
	// (a shallow clone): its changes are unknown and the walk ends there.
	Boundary bool
}

// Walk calls fn for each commit of ref's first-parent history, newest first,
// with the paths each changed against its first parent and, for a merge, the
// commits it merged. It stops at the
// first commit whose commit date is before since (when since is not zero),
// at the root, at a shallow boundary, or when fn returns an error (which
// Walk returns; return ErrStop to end the walk without one).
//
// It is built for whole histories: it reads raw tree objects and compares
// them entry by entry, skipping every subtree whose hash did not change, and
// keeps the trees of the previous step so each tree is read once.
func (r *Repo) Walk(ctx context.Context, ref string, since time.Time, fn func(AuditCommit) error) error {
	h, err := r.Resolve(ref)
	if err != nil {
		return err
	}
	shallow := map[plumbing.Hash]bool{}
	if hs, err := r.repo.Storer.Shallow(); err == nil {
		for _, s := range hs {
			shallow[s] = true
		}
	}
	packs := &packSet{}
	if r.gitDir != "" {
		if packs, err = openPacks(r.gitDir); err != nil {
			return err
		}
		defer packs.Close()
	}
	notes, err := r.loadNotes()
	if err != nil {
		return err
	}
	objs := newObjectReader(packs, r.objects())
	w := &treeWalker{objs: objs, cur: map[plumbing.Hash][]treeEntry{}, prev: map[plumbing.Hash][]treeEntry{}}
	// Recent commits, for the merges' range walks, which go over the commits
	// just walked and the ones about to be.
	recent := map[plumbing.Hash]*rawCommit{}
	cached := func(h plumbing.Hash) (*rawCommit, error) {
		if c, ok := recent[h]; ok {
			return c, nil
		}
		c, err := readCommit(objs, h)
		if err != nil {
			return nil, err
		}
		if len(recent) >= 4096 {
			clear(recent)
		}
		recent[h] = c
		return c, nil
	}
	c, err := cached(h)
	if err != nil {
		return err
	}
	for n := 0; c != nil; n++ {
		if n&255 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !since.IsZero() && c.committer.When.Before(since) {
			return nil
		}
		ac := AuditCommit{Commit: c.facts(), AuthorDate: c.author.When, CommitDate: c.committer.When}
		if err := notes.attach(&ac.Commit); err != nil {
			return err
		}
		var parent *rawCommit
		parentTree := plumbing.ZeroHash
		if len(c.parents) > 0 && !shallow[c.hash] {
			parent, err = cached(c.parents[0])
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				parent, err = nil, nil
				ac.Boundary = true
			} else if err != nil {
				return err
			} else {
				parentTree = parent.tree
			}
		} else if len(c.parents) > 0 {
			ac.Boundary = true
		}
		if !ac.Boundary {
			w.out = w.out[:0]
			if err := w.diff(nil, parentTree, c.tree); err != nil {
				return fmt.Errorf("comparing %s with its parent: %w", short(c.hash), err)
			}
			ac.Changes = append([]Change(nil), w.out...)
		}
		w.step()
		if len(c.parents) > 1 && !ac.Boundary {
			rng, err := r.rangeAndBase(ctx, c.parents[0], c.hash, cached)
			if err != nil {
				return fmt.Errorf("commits merged by %s: %w", short(c.hash), err)
			}
			for _, m := range rng.commits {
				if m.hash != c.hash {
					ac.Merged = append(ac.Merged, m.facts())
					if err := notes.attach(&ac.Merged[len(ac.Merged)-1]); err != nil {
						return err
					}
				}
			}
		}
		if err := fn(ac); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		c = parent
	}
	return nil
}

// rawCommit is a commit decoded from its raw object.
type rawCommit struct {
	hash              plumbing.Hash
	tree              plumbing.Hash
	parents           []plumbing.Hash
	author, committer object.Signature
	signature         string
	message           string
}

// facts converts the commit to what detection reads.
func (c *rawCommit) facts() detect.Commit {
	return detect.Commit{
		SHA:            c.hash.String(),
		AuthorName:     c.author.Name,
		AuthorEmail:    c.author.Email,
		CommitterName:  c.committer.Name,
		CommitterEmail: c.committer.Email,
		Message:        c.message,
		Signature:      c.signature,
		Parents:        len(c.parents),
	}
}

// readCommit reads and decodes a commit object.
func readCommit(objs *objectReader, h plumbing.Hash) (*rawCommit, error) {
	typ, data, err := objs.read(h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("reading commit %s: %w", h, err)
	}
	if typ != plumbing.CommitObject {
		return nil, fmt.Errorf("%s is a %s, not a commit", h, typ)
	}
	c, err := parseCommit(data)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", h, err)
	}
	c.hash = h
	return c, nil
}

// parseCommit decodes a raw commit object: header lines, a blank line, the
// message. Multi-line headers (gpgsig, mergetag) continue on lines that
// start with a space.
func parseCommit(b []byte) (*rawCommit, error) {
	c := &rawCommit{}
	var sig []byte
	inSig := false
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		var line []byte
		if nl < 0 {
			line, b = b, nil
		} else {
			line, b = b[:nl], b[nl+1:]
		}
		if len(line) == 0 {
			c.message = string(b)
			break
		}
		if line[0] == ' ' {
			if inSig {
				sig = append(sig, line[1:]...)
				sig = append(sig, '\n')
			}
			continue
		}
		inSig = false
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			if !plumbing.IsHash(string(val)) {
				return nil, errors.New("bad tree line")
			}
			c.tree = plumbing.NewHash(string(val))
		case "parent":
			if !plumbing.IsHash(string(val)) {
				return nil, errors.New("bad parent line")
			}
			c.parents = append(c.parents, plumbing.NewHash(string(val)))
		case "author":
			c.author.Decode(val)
		case "committer":
			c.committer.Decode(val)
		case "gpgsig", "gpgsig-sha256":
			inSig = true
			sig = append(sig[:0], val...)
			sig = append(sig, '\n')
		}
	}
	c.signature = detect.SignatureKind(string(sig))
	return c, nil
}

// hashSize is the length of a SHA-1 object id in a tree entry.
const hashSize = 20

// ErrStop ends a Walk early without an error.
var ErrStop = errors.New("stop walking")

// treeEntry is one entry of a tree object.
type treeEntry struct {
	name []byte
	mode uint32
	hash plumbing.Hash
}

func (e *treeEntry) isTree() bool { return e.mode == uint32(filemode.Dir) }

// treeWalker compares trees and remembers the trees read in the last two
// steps of a walk.
type treeWalker struct {
	objs      *objectReader
	cur, prev map[plumbing.Hash][]treeEntry
	out       []Change
}

// step forgets the trees of the step before last.
func (w *treeWalker) step() {
	clear(w.prev)
	w.prev, w.cur = w.cur, w.prev
}

// tree returns the parsed entries of a tree object.
func (w *treeWalker) tree(h plumbing.Hash) ([]treeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	if es, ok := w.cur[h]; ok {
		return es, nil
	}
	if es, ok := w.prev[h]; ok {
		w.cur[h] = es
		return es, nil
	}
	typ, data, err := w.objs.read(h)
	if err != nil {
		return nil, fmt.Errorf("reading tree %s: %w", h, err)
	}
	if typ != plumbing.TreeObject {
		return nil, fmt.Errorf("%s is a %s, not a tree", h, typ)
	}
	es, err := parseTree(data)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	w.cur[h] = es
	return es, nil
}

// parseTree decodes a raw tree object: entries of "<octal mode> <name>\0<hash>".
// Names point into b, which must not change.
func parseTree(b []byte) ([]treeEntry, error) {
	// An entry takes at least 28 bytes (mode, space, a short name, NUL, hash).
	es := make([]treeEntry, 0, len(b)/28+1)
	for len(b) > 0 {
		var mode uint32
		i := 0
		for ; i < len(b) && b[i] != ' '; i++ {
			d := b[i] - '0'
			if d > 7 || i > 7 {
				return nil, errors.New("malformed tree entry mode")
			}
			mode = mode<<3 | uint32(d)
		}
		if i == 0 || i == len(b) {
			return nil, errors.New("malformed tree entry")
		}
		b = b[i+1:]
		nul := bytes.IndexByte(b, 0)
		if nul <= 0 || len(b) < nul+1+hashSize {
			return nil, errors.New("truncated tree entry")
		}
		var e treeEntry
		e.name = b[:nul:nul]
		e.mode = mode
		copy(e.hash[:], b[nul+1:nul+1+hashSize])
		es = append(es, e)
		b = b[nul+1+hashSize:]
	}
	return es, nil
}

// compareEntries orders tree entries as git does: by name, with a tree's
// name compared as if it ended in "/".
func compareEntries(a, b *treeEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	ca, cb := byte(0), byte(0)
	if len(a.name) > n {
		ca = a.name[n]
	} else if a.isTree() {
		ca = '/'
	}
	if len(b.name) > n {
		cb = b.name[n]
	} else if b.isTree() {
		cb = '/'
	}
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}

// diff appends to w.out the paths that differ between trees a and b (either
// may be zero), under prefix.
func (w *treeWalker) diff(prefix []byte, a, b plumbing.Hash) error {
	if a == b {
		return nil
	}
	ea, err := w.tree(a)
	if err != nil {
		return err
	}
	eb, err := w.tree(b)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		var c int
		switch {
		case i == len(ea):
			c = 1
		case j == len(eb):
			c = -1
		default:
			c = compareEntries(&ea[i], &eb[j])
		}
		switch {
		case c < 0:
			if err := w.side(prefix, &ea[i], checks.StatusRemoved); err != nil {
				return err
			}
			i++
		case c > 0:
			if err := w.side(prefix, &eb[j], checks.StatusAdded); err != nil {
				return err
			}
			j++
		default:
			x, y := &ea[i], &eb[j]
			i++
			j++
			if x.hash == y.hash && x.mode == y.mode {
				continue
			}
			if x.isTree() {
				if err := w.diff(join(prefix, x.name), x.hash, y.hash); err != nil {
					return err
				}
				continue
			}
			w.out = append(w.out, Change{Path: string(join(prefix, x.name)), Status: checks.StatusModified})
		}
	}
	return nil
}

// side records an entry present on one side only: a file, or every file
// under a tree.
func (w *treeWalker) side(prefix []byte, e *treeEntry, status string) error {
	if !e.isTree() {
		w.out = append(w.out, Change{Path: string(join(prefix, e.name)), Status: status})
		return nil
	}
	if status == checks.StatusAdded {
		return w.diff(join(prefix, e.name), plumbing.ZeroHash, e.hash)
	}
	return w.diff(join(prefix, e.name), e.hash, plumbing.ZeroHash)
}

// join appends name to a directory prefix, in a new slice.
func join(prefix, name []byte) []byte {
	if len(prefix) == 0 {
		return append([]byte(nil), name...)
	}
	out := make([]byte, 0, len(prefix)+1+len(name))
	out = append(out, prefix...)
	out = append(out, '/')
	return append(out, name...)
}
