package githubsim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Merge methods of MergePR, as GitHub's merge API names them.
const (
	MergeMethodMerge  = "merge"
	MergeMethodSquash = "squash"
	MergeMethodRebase = "rebase"
)

// githubCommitter is who GitHub records as committer of the commits it makes
// when merging a pull request on the web.
var githubCommitter = object.Signature{Name: "GitHub", Email: "noreply@github.com"}

// MergePR merges an open pull request into its base branch the way GitHub's
// merge button does with method ("merge", "squash" or "rebase"), as login
// by, and returns the base branch's new head. Like an administrator's merge
// it ignores branch protection and check runs: the simulator enforces
// neither, so a pull request whose check said action_required merges too.
// It emits push (pusher and sender: by) on the base branch,
// check_suite.requested, and pull_request.closed with merged true.
//
// The merge commit (merge), the single squashed commit (squash) or the last
// rebased commit (rebase) becomes merge_commit_sha; commits/{sha}/pulls
// then lists the pull request for it, for the pull request's own commits and
// for each rebased copy, as GitHub does for commits a merged pull request
// introduced.
func (s *Sim) MergePR(fullName string, number int, by, method string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	mustf(p.state == "open", "#%d is not open", number)
	mustf(method == MergeMethodMerge || method == MergeMethodSquash || method == MergeMethodRebase, "unknown merge method %q", method)
	merger := s.userLocked(by)
	before, ok := r.branchHash(p.baseRef)
	mustf(ok, "%s has no branch %q", fullName, p.baseRef)
	head := plumbing.NewHash(p.headSHA)
	mb := r.mergeBase(before, head)
	prCommits := r.commitsBetween(before, head)
	mustf(len(prCommits) > 0, "#%d has no commits to merge", number)
	when := s.ts()
	sig := func(x object.Signature) object.Signature { x.When = when; return x }
	committer := sig(githubCommitter)

	s.gitMu.Lock()
	var after plumbing.Hash
	var rebased []string
	var err error
	switch method {
	case MergeMethodMerge:
		var tree plumbing.Hash
		tree, err = r.applyOnto(before, mb, head)
		if err == nil {
			after, err = r.storeCommit(&object.Commit{
				Author:    object.Signature{Name: merger.login, Email: merger.login + "@users.noreply.github.com", When: when},
				Committer: committer, TreeHash: tree, ParentHashes: []plumbing.Hash{before, head},
				Message: fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s\n", p.number, r.owner.login, p.headRef, p.title),
			})
		}
	case MergeMethodSquash:
		var tree plumbing.Hash
		tree, err = r.applyOnto(before, mb, head)
		if err == nil {
			var body []string
			for _, c := range prCommits {
				body = append(body, "* "+strings.TrimSuffix(c.Message, "\n"))
			}
			after, err = r.storeCommit(&object.Commit{
				Author:    object.Signature{Name: p.author.login, Email: p.author.login + "@users.noreply.github.com", When: when},
				Committer: committer, TreeHash: tree, ParentHashes: []plumbing.Hash{before},
				Message: fmt.Sprintf("%s (#%d)\n\n%s\n", p.title, p.number, strings.Join(body, "\n\n")),
			})
			if _, known := r.emails[strings.ToLower(p.author.login+"@users.noreply.github.com")]; !known {
				r.emails[strings.ToLower(p.author.login+"@users.noreply.github.com")] = p.author.login
			}
		}
	case MergeMethodRebase:
		after, rebased, err = r.rebase(before, prCommits, committer, number)
	}
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(p.baseRef), after))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "merging #%d: %v", number, err)

	p.introduced = map[string]bool{}
	for _, c := range prCommits {
		p.introduced[c.Hash.String()] = true
	}
	for _, h := range rebased {
		p.introduced[h] = true
	}
	p.state, p.merged, p.mergedBy = "closed", true, merger
	p.closedAt, p.mergedAt, p.updatedAt = when, when, when
	p.mergeCommitSHA, p.mergedOnto = after.String(), before.String()
	r.pushedAt = when
	s.pushEventLocked(r, p.baseRef, before, after, false, false, merger)
	s.emitRepoLocked("check_suite", "requested", r, merger, obj{
		"action": "requested", "check_suite": s.checkSuiteObj(r, after.String(), p.baseRef, before.String()),
	})
	s.prEventLocked(r, p, "closed", merger, nil)
	return after.String()
}

// rebase copies commits onto onto, in order, the way GitHub rebases: each
// copy keeps its author and message, has committer as committer, and the
// previous copy as its one parent. It returns the last copy and every
// copy's SHA.
func (r *repo) rebase(onto plumbing.Hash, commits []*object.Commit, committer object.Signature, number int) (plumbing.Hash, []string, error) {
	after := onto
	var copies []string
	for _, c := range commits {
		mustf(len(c.ParentHashes) <= 1, "#%d: a merge commit cannot be rebased", number)
		var parent plumbing.Hash
		if len(c.ParentHashes) == 1 {
			parent = c.ParentHashes[0]
		}
		tree, err := r.applyOnto(after, parent, c.Hash)
		if err != nil {
			return after, copies, err
		}
		after, err = r.storeCommit(&object.Commit{
			Author: c.Author, Committer: committer, TreeHash: tree,
			ParentHashes: []plumbing.Hash{after}, Message: c.Message,
		})
		if err != nil {
			return after, copies, err
		}
		copies = append(copies, after.String())
	}
	return after, copies, nil
}

// storeCommit writes a commit object and returns its hash.
func (r *repo) storeCommit(cm *object.Commit) (plumbing.Hash, error) {
	o := r.storer.NewEncodedObject()
	if err := cm.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.storer.SetEncodedObject(o)
}

// applyOnto returns the tree of onto with the changes from..to applied, file
// by file (the simulator's merges have no conflicts to resolve: the changed
// file's version at to wins).
func (r *repo) applyOnto(onto, from, to plumbing.Hash) (plumbing.Hash, error) {
	oc, err := r.commit(onto)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	files, err := flatten(r.storer, oc.TreeHash)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	tc, err := r.commit(to)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	theirs, err := flatten(r.storer, tc.TreeHash)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	changes, err := r.diff(from, to)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].filename < changes[j].filename })
	for _, f := range changes {
		switch f.status {
		case "removed":
			delete(files, f.filename)
		case "renamed":
			delete(files, f.prev)
			files[f.filename] = theirs[f.filename]
		default:
			files[f.filename] = theirs[f.filename]
		}
	}
	return buildTree(r.storer, files)
}

// PushBy makes a commit on branch like Push, but the push is made by
// pusher (the push payload's pusher and sender), who need not be the
// commit's author: an administrator pushing someone else's commit, say.
func (s *Sim) PushBy(fullName, branch, pusher string, c CommitSpec) string {
	return s.push(fullName, branch, pusher, c)
}
