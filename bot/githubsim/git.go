package githubsim

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

type fileEntry struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

func newStorage(defaultBranch string) *memory.Storage {
	st := memory.NewStorage()
	_ = st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(defaultBranch)))
	return st
}

func (r *repo) branchHash(branch string) (plumbing.Hash, bool) {
	ref, err := r.storer.Reference(plumbing.NewBranchReferenceName(branch))
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return ref.Hash(), true
}

func (r *repo) commit(h plumbing.Hash) (*object.Commit, error) {
	return object.GetCommit(r.storer, h)
}

// resolve turns a ref (full or abbreviated SHA, branch, tag, refs/...) into a commit hash.
func (r *repo) resolve(ref string) (plumbing.Hash, bool) {
	if ref == "" {
		return r.branchHash(r.defaultBranch)
	}
	for _, name := range []plumbing.ReferenceName{
		plumbing.ReferenceName(ref),
		plumbing.NewBranchReferenceName(ref),
		plumbing.NewTagReferenceName(ref),
		plumbing.ReferenceName("refs/" + ref),
	} {
		if rf, err := r.storer.Reference(name); err == nil && rf.Type() == plumbing.HashReference {
			return rf.Hash(), true
		}
	}
	if len(ref) == 40 {
		h := plumbing.NewHash(ref)
		if _, err := r.commit(h); err == nil {
			return h, true
		}
		return plumbing.ZeroHash, false
	}
	if len(ref) >= 7 && len(ref) < 40 && isHex(ref) {
		iter, err := r.storer.IterEncodedObjects(plumbing.CommitObject)
		if err != nil {
			return plumbing.ZeroHash, false
		}
		var found plumbing.Hash
		n := 0
		_ = iter.ForEach(func(o plumbing.EncodedObject) error {
			if strings.HasPrefix(o.Hash().String(), strings.ToLower(ref)) {
				found = o.Hash()
				n++
			}
			return nil
		})
		if n == 1 {
			return found, true
		}
	}
	return plumbing.ZeroHash, false
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// flatten lists every blob of a tree by path.
func flatten(st *memory.Storage, treeHash plumbing.Hash) (map[string]fileEntry, error) {
	out := map[string]fileEntry{}
	if treeHash.IsZero() {
		return out, nil
	}
	t, err := object.GetTree(st, treeHash)
	if err != nil {
		return nil, err
	}
	err = t.Files().ForEach(func(f *object.File) error {
		out[f.Name] = fileEntry{hash: f.Hash, mode: f.Mode}
		return nil
	})
	return out, err
}

func storeBlob(st *memory.Storage, content string) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.WriteString(w, content); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// buildTree writes the tree objects for a flat path -> blob map and returns the root.
func buildTree(st *memory.Storage, files map[string]fileEntry) (plumbing.Hash, error) {
	type dir struct {
		files map[string]fileEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]fileEntry{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, e := range files {
		parts := strings.Split(p, "/")
		d := root
		for _, part := range parts[:len(parts)-1] {
			sub, ok := d.dirs[part]
			if !ok {
				sub = newDir()
				d.dirs[part] = sub
			}
			d = sub
		}
		d.files[parts[len(parts)-1]] = e
	}
	var write func(d *dir) (plumbing.Hash, error)
	write = func(d *dir) (plumbing.Hash, error) {
		var entries []object.TreeEntry
		for name, e := range d.files {
			entries = append(entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
		}
		for name, sub := range d.dirs {
			h, err := write(sub)
			if err != nil {
				return h, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		// git orders tree entries by name, directories compared as if they ended in "/".
		key := func(e object.TreeEntry) string {
			if e.Mode == filemode.Dir {
				return e.Name + "/"
			}
			return e.Name
		}
		sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
		t := &object.Tree{Entries: entries}
		obj := st.NewEncodedObject()
		if err := t.Encode(obj); err != nil {
			return plumbing.ZeroHash, err
		}
		return st.SetEncodedObject(obj)
	}
	return write(root)
}

func cleanPath(p string) string {
	p = path.Clean(strings.TrimPrefix(p, "/"))
	return p
}

// writeCommit applies a CommitSpec on top of parent (zero for a root commit).
func writeCommit(st *memory.Storage, parent plumbing.Hash, c CommitSpec, when time.Time) (plumbing.Hash, error) {
	var files map[string]fileEntry
	if parent.IsZero() {
		files = map[string]fileEntry{}
	} else {
		pc, err := object.GetCommit(st, parent)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if files, err = flatten(st, pc.TreeHash); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	olds := make([]string, 0, len(c.Rename))
	for o := range c.Rename {
		olds = append(olds, o)
	}
	sort.Strings(olds)
	for _, o := range olds {
		n := cleanPath(c.Rename[o])
		o = cleanPath(o)
		e, ok := files[o]
		if !ok {
			return plumbing.ZeroHash, fmt.Errorf("rename of missing file %q", o)
		}
		delete(files, o)
		files[n] = e
	}
	for _, d := range c.Delete {
		d = cleanPath(d)
		if _, ok := files[d]; !ok {
			return plumbing.ZeroHash, fmt.Errorf("delete of missing file %q", d)
		}
		delete(files, d)
	}
	for p, content := range c.Files {
		h, err := storeBlob(st, content)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		files[cleanPath(p)] = fileEntry{hash: h, mode: filemode.Regular}
	}
	tree, err := buildTree(st, files)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	committer := c.Committer
	if committer.Name == "" && committer.Email == "" {
		committer = c.Author
	}
	msg := c.Message
	if msg == "" {
		msg = "Update files"
	}
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	cm := &object.Commit{
		Author:    object.Signature{Name: c.Author.Name, Email: c.Author.Email, When: when},
		Committer: object.Signature{Name: committer.Name, Email: committer.Email, When: when},
		Message:   msg,
		TreeHash:  tree,
	}
	if !parent.IsZero() {
		cm.ParentHashes = []plumbing.Hash{parent}
	}
	obj := st.NewEncodedObject()
	if err := cm.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// mergeBase returns the best common ancestor of a and b (zero if none).
func (r *repo) mergeBase(a, b plumbing.Hash) plumbing.Hash {
	ca, err := r.commit(a)
	if err != nil {
		return plumbing.ZeroHash
	}
	cb, err := r.commit(b)
	if err != nil {
		return plumbing.ZeroHash
	}
	bases, err := ca.MergeBase(cb)
	if err != nil || len(bases) == 0 {
		return plumbing.ZeroHash
	}
	return bases[0].Hash
}

// ancestors returns every commit reachable from h, h included.
func (r *repo) ancestors(h plumbing.Hash) map[plumbing.Hash]bool {
	seen := map[plumbing.Hash]bool{}
	stack := []plumbing.Hash{h}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.IsZero() || seen[x] {
			continue
		}
		seen[x] = true
		c, err := r.commit(x)
		if err != nil {
			continue
		}
		stack = append(stack, c.ParentHashes...)
	}
	return seen
}

// commitsBetween lists base..head oldest first (parents before children).
func (r *repo) commitsBetween(base, head plumbing.Hash) []*object.Commit {
	exclude := map[plumbing.Hash]bool{}
	if !base.IsZero() {
		exclude = r.ancestors(base)
	}
	var out []*object.Commit
	done := map[plumbing.Hash]bool{}
	type frame struct {
		c    *object.Commit
		next int
	}
	hc, err := r.commit(head)
	if err != nil || exclude[head] {
		return nil
	}
	stack := []*frame{{c: hc}}
	done[head] = true
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		if f.next < len(f.c.ParentHashes) {
			p := f.c.ParentHashes[f.next]
			f.next++
			if exclude[p] || done[p] {
				continue
			}
			done[p] = true
			pc, err := r.commit(p)
			if err != nil {
				continue
			}
			stack = append(stack, &frame{c: pc})
			continue
		}
		out = append(out, f.c)
		stack = stack[:len(stack)-1]
	}
	return out
}

type fileChange struct {
	status             string // added, modified, removed, renamed
	filename, prev     string
	sha                plumbing.Hash
	additions, deletes int
	patch              string
	binary             bool
}

// diff compares two commits' trees with rename detection, sorted by file name.
func (r *repo) diff(from, to plumbing.Hash) ([]fileChange, error) {
	var fromTree, toTree *object.Tree
	if !from.IsZero() {
		c, err := r.commit(from)
		if err != nil {
			return nil, err
		}
		if fromTree, err = c.Tree(); err != nil {
			return nil, err
		}
	}
	c, err := r.commit(to)
	if err != nil {
		return nil, err
	}
	if toTree, err = c.Tree(); err != nil {
		return nil, err
	}
	if fromTree == nil {
		fromTree = &object.Tree{}
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), fromTree, toTree, object.DefaultDiffTreeOptions)
	if err != nil {
		return nil, err
	}
	out := make([]fileChange, 0, len(changes))
	for _, ch := range changes {
		action, err := ch.Action()
		if err != nil {
			return nil, err
		}
		fc := fileChange{}
		switch action {
		case merkletrie.Insert:
			fc.status, fc.filename, fc.sha = "added", ch.To.Name, ch.To.TreeEntry.Hash
		case merkletrie.Delete:
			fc.status, fc.filename, fc.sha = "removed", ch.From.Name, ch.From.TreeEntry.Hash
		default:
			fc.filename, fc.sha = ch.To.Name, ch.To.TreeEntry.Hash
			if ch.From.Name != ch.To.Name {
				fc.status, fc.prev = "renamed", ch.From.Name
			} else {
				fc.status = "modified"
			}
		}
		p, err := ch.Patch()
		if err != nil {
			return nil, err
		}
		for _, fp := range p.FilePatches() {
			if fp.IsBinary() {
				fc.binary = true
			}
		}
		for _, st := range p.Stats() {
			fc.additions += st.Addition
			fc.deletes += st.Deletion
		}
		if !fc.binary {
			fc.patch = hunks(p.String())
		}
		out = append(out, fc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].filename < out[j].filename })
	return out, nil
}

// hunks strips the diff header, leaving what GitHub puts in a file's "patch".
func hunks(unified string) string {
	i := strings.Index(unified, "@@")
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(unified[i:], "\n")
}
