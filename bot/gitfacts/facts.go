package gitfacts

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
)

// Facts gathers what a merge of head into base would bring: the commits
// reachable from head and not from base (oldest first, parents before
// children) and the files changed between their merge base and head, with
// renames detected. The pull-request fields are synthesized: HeadRef is the
// head's name, BaseRef the base's, BaseSHA the merge base. The base's
// CODEOWNERS is included. Facts.Local is true: a local clone has no reviews.
func (r *Repo) Facts(ctx context.Context, base, head string) (*checks.Facts, error) {
	baseHash, err := r.Resolve(base)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	headHash, err := r.Resolve(head)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	f, err := r.factsBetween(ctx, baseHash, headHash)
	if err != nil {
		return nil, err
	}
	f.Repo = r.RepoName()
	f.Local = true
	f.PR.HeadRef = r.headRefName(head)
	f.PR.BaseRef = baseRefName(base)
	owners, err := r.codeOwnersAtHash(baseHash)
	if err != nil {
		return nil, fmt.Errorf("CODEOWNERS at %s: %w", base, err)
	}
	f.CodeOwners = owners
	return f, nil
}

// factsBetween computes the commits and files of base..head.
func (r *Repo) factsBetween(ctx context.Context, baseHash, headHash plumbing.Hash) (*checks.Facts, error) {
	rng, err := r.rangeAndBase(ctx, baseHash, headHash, r.goGitCommit)
	if err != nil {
		return nil, err
	}
	notes, err := r.loadNotes()
	if err != nil {
		return nil, err
	}
	f := &checks.Facts{Commits: make([]detect.Commit, 0, len(rng.commits))}
	for _, c := range rng.commits {
		f.Commits = append(f.Commits, c.facts())
		if err := notes.attach(&f.Commits[len(f.Commits)-1]); err != nil {
			return nil, err
		}
	}
	headCommit, err := r.commit(headHash)
	if err != nil {
		return nil, err
	}
	baseCommit, err := r.commit(rng.mergeBase)
	if err != nil {
		return nil, err
	}
	files, err := r.changedFiles(ctx, baseCommit, headCommit)
	if err != nil {
		return nil, err
	}
	f.Files = files
	f.PR.HeadSHA = headHash.String()
	f.PR.BaseSHA = rng.mergeBase.String()
	return f, nil
}

// headRefName turns the head revision into a branch name as GitHub would
// show it: HEAD becomes the checked-out branch, refs/heads/ and a remote
// name are dropped.
func (r *Repo) headRefName(head string) string {
	if head == "HEAD" || head == "" {
		if b := r.CurrentBranch(); b != "" {
			return b
		}
		return head
	}
	name := strings.TrimPrefix(strings.TrimPrefix(head, "refs/heads/"), "heads/")
	if rest, ok := strings.CutPrefix(name, "refs/remotes/"); ok {
		if i := strings.Index(rest, "/"); i >= 0 {
			return rest[i+1:]
		}
	}
	if remotes, err := r.repo.Remotes(); err == nil {
		for _, rem := range remotes {
			if rest, ok := strings.CutPrefix(name, rem.Config().Name+"/"); ok {
				if _, err := r.repo.Storer.Reference(plumbing.NewRemoteReferenceName(rem.Config().Name, rest)); err == nil {
					return rest
				}
			}
		}
	}
	return name
}

// baseRefName strips ref prefixes from the base revision.
func baseRefName(base string) string {
	return strings.TrimPrefix(strings.TrimPrefix(base, "refs/heads/"), "refs/remotes/")
}

// goGitCommit reads a commit through go-git's storage.
func (r *Repo) goGitCommit(h plumbing.Hash) (*rawCommit, error) {
	c, err := r.commit(h)
	if err != nil {
		return nil, err
	}
	return &rawCommit{hash: c.Hash, tree: c.TreeHash, parents: c.ParentHashes, author: c.Author, committer: c.Committer,
		signature: detect.SignatureKind(c.PGPSignature), message: c.Message}, nil
}

// CommitFacts converts a go-git commit to what detection reads.
func CommitFacts(c *object.Commit) detect.Commit {
	return detect.Commit{
		SHA:            c.Hash.String(),
		AuthorName:     c.Author.Name,
		AuthorEmail:    c.Author.Email,
		CommitterName:  c.Committer.Name,
		CommitterEmail: c.Committer.Email,
		Message:        c.Message,
		Signature:      detect.SignatureKind(c.PGPSignature),
		Parents:        len(c.ParentHashes),
	}
}

// Paint flags, as git's merge-base and rev-list use them.
const (
	fromHead uint8 = 1 << iota // reachable from head
	fromBase                   // reachable from base
	stale                      // below a common ancestor already found
	queued                     // currently in the queue
)

// slop is how many commits older than the oldest head-only commit the walk
// goes on painting after it could stop, to survive commit dates out of order
// (git's rev-list uses the same margin).
const slop = 8

// commitRange is what one paint walk finds.
type commitRange struct {
	mergeBase plumbing.Hash
	commits   []*rawCommit // head-only commits, parents before children
}

// rangeAndBase walks back from base and head at once in commit-date order,
// painting each commit with the sides that reach it, as git does. Commits
// reached from both sides are common ancestors; the first found that no
// other covers is the merge base. Commits painted by head alone are the
// range base..head. Only the history above the merge base (plus a small
// margin) is read, never the whole repository.
//
// read loads a commit; the audit walk passes its fast reader, Facts go-git.
func (r *Repo) rangeAndBase(ctx context.Context, baseHash, headHash plumbing.Hash, read func(plumbing.Hash) (*rawCommit, error)) (*commitRange, error) {
	flags := map[plumbing.Hash]uint8{}
	commits := map[plumbing.Hash]*rawCommit{}
	q := &commitQueue{}
	push := func(c *rawCommit) {
		if flags[c.hash]&queued != 0 {
			return
		}
		flags[c.hash] |= queued
		q.seq++
		heap.Push(q, queueItem{c: c, seq: q.seq})
	}
	load := func(h plumbing.Hash) (*rawCommit, error) {
		if c, ok := commits[h]; ok {
			return c, nil
		}
		c, err := read(h)
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: %w", h, err)
		}
		commits[h] = c
		return c, nil
	}
	hc, err := load(headHash)
	if err != nil {
		return nil, err
	}
	bc, err := load(baseHash)
	if err != nil {
		return nil, err
	}
	flags[headHash] |= fromHead
	flags[baseHash] |= fromBase
	push(hc)
	push(bc)

	var bases []*rawCommit
	live := func() bool { // anything in the queue not yet known to be common
		for _, it := range q.items {
			if flags[it.c.hash]&stale == 0 {
				return true
			}
		}
		return false
	}
	extra := slop
	for q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !live() {
			// Everything left is below a common ancestor. Go on a little in
			// case commit dates are out of order, then stop.
			if extra == 0 {
				break
			}
			extra--
		}
		c := heap.Pop(q).(queueItem).c
		f := flags[c.hash] &^ queued
		flags[c.hash] = f
		if f&(fromHead|fromBase) == fromHead|fromBase && f&stale == 0 {
			bases = append(bases, c)
			f |= stale
			flags[c.hash] = f
		}
		for _, ph := range c.parents {
			pf := flags[ph]
			nf := pf | (f & (fromHead | fromBase | stale))
			if nf == pf {
				continue
			}
			flags[ph] = nf
			p, err := load(ph)
			if err != nil {
				if errors.Is(err, plumbing.ErrObjectNotFound) {
					return nil, fmt.Errorf("history is incomplete (shallow clone?): %w", err)
				}
				return nil, err
			}
			push(p)
		}
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("%s and %s have no common history", short(baseHash), short(headHash))
	}
	mb := bases[0].hash
	if len(bases) > 1 {
		// Several candidates (criss-cross merges): keep one no other reaches.
		var cs []*object.Commit
		for _, b := range bases {
			if c, err := r.commit(b.hash); err == nil {
				cs = append(cs, c)
			}
		}
		if ind, err := object.Independents(cs); err == nil && len(ind) > 0 {
			mb = ind[0].Hash
		}
	}
	var sel []*rawCommit
	for h, f := range flags {
		if f&(fromHead|fromBase) == fromHead {
			sel = append(sel, commits[h])
		}
	}
	return &commitRange{mergeBase: mb, commits: topoOldestFirst(sel)}, nil
}

// topoOldestFirst orders commits so that parents come before children,
// taking the oldest ready commit first (GitHub lists a PR's commits so).
func topoOldestFirst(cs []*rawCommit) []*rawCommit {
	in := make(map[plumbing.Hash]*rawCommit, len(cs))
	for _, c := range cs {
		in[c.hash] = c
	}
	pending := make(map[plumbing.Hash]int, len(cs)) // parents in the set not yet emitted
	children := map[plumbing.Hash][]*rawCommit{}
	for _, c := range cs {
		for _, p := range c.parents {
			if _, ok := in[p]; ok {
				pending[c.hash]++
				children[p] = append(children[p], c)
			}
		}
	}
	older := func(a, b *rawCommit) bool {
		if !a.committer.When.Equal(b.committer.When) {
			return a.committer.When.Before(b.committer.When)
		}
		if !a.author.When.Equal(b.author.When) {
			return a.author.When.Before(b.author.When)
		}
		return bytes.Compare(a.hash[:], b.hash[:]) < 0
	}
	var ready []*rawCommit
	for _, c := range cs {
		if pending[c.hash] == 0 {
			ready = append(ready, c)
		}
	}
	out := make([]*rawCommit, 0, len(cs))
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return older(ready[i], ready[j]) })
		c := ready[0]
		ready = ready[1:]
		out = append(out, c)
		for _, ch := range children[c.hash] {
			pending[ch.hash]--
			if pending[ch.hash] == 0 {
				ready = append(ready, ch)
			}
		}
	}
	return out
}

// queueItem is a commit waiting in the paint walk.
type queueItem struct {
	c   *rawCommit
	seq int
}

// commitQueue is a max-heap on committer date (newest first), then on
// insertion order.
type commitQueue struct {
	items []queueItem
	seq   int
}

func (q *commitQueue) Len() int { return len(q.items) }
func (q *commitQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.c.committer.When.Equal(b.c.committer.When) {
		return a.c.committer.When.After(b.c.committer.When)
	}
	return a.seq < b.seq
}
func (q *commitQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *commitQueue) Push(x any)    { q.items = append(q.items, x.(queueItem)) }
func (q *commitQueue) Pop() any {
	n := len(q.items)
	it := q.items[n-1]
	q.items = q.items[:n-1]
	return it
}

// renameOptions detect renames as git (and so GitHub's file list) does by
// default: a file at least 50% similar to a removed one is its rename
// (go-git's own default asks for 60%).
var renameOptions = &object.DiffTreeOptions{DetectRenames: true, RenameScore: 50}

// changedFiles lists the files changed from one commit's tree to another's,
// with renames detected and lines counted (binary files and submodules
// count 0), sorted by path.
func (r *Repo) changedFiles(ctx context.Context, from, to *object.Commit) ([]checks.File, error) {
	ft, err := from.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", short(from.Hash), err)
	}
	tt, err := to.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", short(to.Hash), err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, ft, tt, renameOptions)
	if err != nil {
		return nil, fmt.Errorf("comparing %s and %s: %w", short(from.Hash), short(to.Hash), err)
	}
	files := make([]checks.File, 0, len(changes))
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		action, err := ch.Action()
		if err != nil {
			return nil, err
		}
		var f checks.File
		switch action {
		case merkletrie.Insert:
			f = checks.File{Path: ch.To.Name, Status: checks.StatusAdded}
		case merkletrie.Delete:
			f = checks.File{Path: ch.From.Name, Status: checks.StatusRemoved}
		default:
			f = checks.File{Path: ch.To.Name, Status: checks.StatusModified}
			if ch.From.Name != ch.To.Name {
				f.Status = checks.StatusRenamed
				f.PreviousPath = ch.From.Name
			}
		}
		f.Additions, f.Deletions, err = lineCounts(ctx, ch)
		if err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				// A partial clone (--filter=blob:none) lacks blobs; git
				// fetched them (promisorStorage) unless it could not.
				return nil, fmt.Errorf("counting lines of %s: its content is not in this partial clone (--filter=blob:none), and git could not fetch it from the promisor remote: check that the remote is reachable (git diff --stat BASE...HEAD fetches the changed files) or use a full clone, then retry: %w", f.Path, err)
			}
			return nil, fmt.Errorf("counting lines of %s: %w", f.Path, err)
		}
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// lineCounts counts the lines a change adds and deletes; binary files and
// submodules count 0.
func lineCounts(ctx context.Context, ch *object.Change) (adds, dels int, err error) {
	if ch.From.TreeEntry.Mode == filemode.Submodule || ch.To.TreeEntry.Mode == filemode.Submodule {
		return 0, 0, nil
	}
	if ch.From.TreeEntry.Hash == ch.To.TreeEntry.Hash {
		return 0, 0, nil // pure rename or mode change
	}
	p, err := ch.PatchContext(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, fp := range p.FilePatches() {
		if fp.IsBinary() {
			continue
		}
		for _, chunk := range fp.Chunks() {
			s := chunk.Content()
			if s == "" {
				continue
			}
			n := strings.Count(s, "\n")
			if s[len(s)-1] != '\n' {
				n++
			}
			switch chunk.Type() {
			case diff.Add:
				adds += n
			case diff.Delete:
				dels += n
			}
		}
	}
	return adds, dels, nil
}

// short abbreviates a hash for messages.
func short(h plumbing.Hash) string { return h.String()[:7] }
