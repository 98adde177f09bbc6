package githubsim

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// queueEntry is one pull request in a base branch's merge queue: its group's
// head commit and read-only gh-readonly-queue branch.
type queueEntry struct {
	number int
	head   plumbing.Hash
	ref    string
}

// EnqueueMergeGroup puts a pull request in the merge queue alone: it creates
// the temporary gh-readonly-queue branch (one commit on top of the base
// branch with the pull request's tree), emits merge_group.checks_requested
// and returns the merge group's head SHA. It ignores the entries already
// queued (as if each earlier group had failed and left the queue); see
// QueueMergeGroup for a queue that stacks.
func (s *Sim) EnqueueMergeGroup(fullName string, number int, by string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	base, _ := r.branchHash(p.baseRef)
	head, err := r.commit(plumbing.NewHash(p.headSHA))
	mustf(err == nil, "PR head: %v", err)
	when := s.ts()
	sender := s.userLocked(by)
	cm := &object.Commit{
		Author:       object.Signature{Name: sender.login, Email: sender.login + "@users.noreply.github.com", When: when},
		Committer:    object.Signature{Name: "GitHub", Email: "noreply@github.com", When: when},
		Message:      fmt.Sprintf("Merge pull request #%d\n\n%s\n", p.number, p.title),
		TreeHash:     head.TreeHash,
		ParentHashes: []plumbing.Hash{base},
	}
	ref := fmt.Sprintf("gh-readonly-queue/%s/pr-%d-%s", p.baseRef, p.number, base)
	s.gitMu.Lock()
	h, err := r.storeCommit(cm)
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(ref), h))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "merge group commit: %v", err)
	s.emitMergeGroupLocked(r, sender, ref, h, base, p.baseRef)
	return h.String()
}

// QueueMergeGroup appends an open pull request to its base branch's merge
// queue the way GitHub's merge queue builds groups with method ("merge",
// "squash" or "rebase"): the entry's group is built on the previous entry's
// group head (on the base branch when the queue is empty), so it holds every
// pull request ahead of it; its read-only branch is
// gh-readonly-queue/{base}/pr-{N}-{sha of the commit it was built on}. A
// rebase group holds a copy of each of the pull request's commits (new SHAs,
// author and message kept, committer GitHub), a squash group one commit
// "Title (#N)", a merge group a merge commit whose second parent is the pull
// request's head. It emits merge_group.checks_requested (base_sha: the base
// branch's head) and returns the group's head SHA. The entry stays queued
// until DequeueMergeGroup.
func (s *Sim) QueueMergeGroup(fullName string, number int, by, method string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	mustf(p.state == "open", "#%d is not open", number)
	mustf(method == MergeMethodMerge || method == MergeMethodSquash || method == MergeMethodRebase, "unknown merge method %q", method)
	sender := s.userLocked(by)
	base, ok := r.branchHash(p.baseRef)
	mustf(ok, "%s has no branch %q", fullName, p.baseRef)
	onto := base
	if q := r.queues[p.baseRef]; len(q) > 0 {
		onto = q[len(q)-1].head
	}
	head := plumbing.NewHash(p.headSHA)
	mb := r.mergeBase(onto, head)
	prCommits := r.commitsBetween(onto, head)
	mustf(len(prCommits) > 0, "#%d has no commits to queue", number)
	when := s.ts()
	committer := githubCommitter
	committer.When = when

	s.gitMu.Lock()
	var after plumbing.Hash
	var err error
	switch method {
	case MergeMethodMerge, MergeMethodSquash:
		var tree plumbing.Hash
		tree, err = r.applyOnto(onto, mb, head)
		if err == nil {
			cm := &object.Commit{
				Author:    object.Signature{Name: sender.login, Email: sender.login + "@users.noreply.github.com", When: when},
				Committer: committer, TreeHash: tree, ParentHashes: []plumbing.Hash{onto, head},
				Message: fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s\n", p.number, r.owner.login, p.headRef, p.title),
			}
			if method == MergeMethodSquash {
				var body []string
				for _, c := range prCommits {
					body = append(body, "* "+strings.TrimSuffix(c.Message, "\n"))
				}
				cm.Author = object.Signature{Name: p.author.login, Email: p.author.login + "@users.noreply.github.com", When: when}
				cm.ParentHashes = []plumbing.Hash{onto}
				cm.Message = fmt.Sprintf("%s (#%d)\n\n%s\n", p.title, p.number, strings.Join(body, "\n\n"))
			}
			after, err = r.storeCommit(cm)
		}
	case MergeMethodRebase:
		after, _, err = r.rebase(onto, prCommits, committer, number)
	}
	ref := fmt.Sprintf("gh-readonly-queue/%s/pr-%d-%s", p.baseRef, p.number, onto)
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(ref), after))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "merge group of #%d: %v", number, err)
	if r.queues == nil {
		r.queues = map[string][]queueEntry{}
	}
	r.queues[p.baseRef] = append(r.queues[p.baseRef], queueEntry{number: p.number, head: after, ref: ref})
	s.emitMergeGroupLocked(r, sender, ref, after, base, p.baseRef)
	return after.String()
}

// DequeueMergeGroup removes a pull request from its base branch's merge
// queue and deletes its gh-readonly-queue branch, as GitHub does when the
// entry's group fails or is merged; the entries behind it keep their groups.
func (s *Sim) DequeueMergeGroup(fullName string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	q := r.queues[p.baseRef]
	for i, e := range q {
		if e.number == number {
			s.gitMu.Lock()
			err := r.storer.RemoveReference(plumbing.NewBranchReferenceName(e.ref))
			s.gitMu.Unlock()
			mustf(err == nil, "removing %s: %v", e.ref, err)
			r.queues[p.baseRef] = append(q[:i:i], q[i+1:]...)
			return
		}
	}
	mustf(false, "#%d is not queued", number)
}

// emitMergeGroupLocked sends merge_group.checks_requested for the group at
// head on branch ref, to merge into baseRef whose head is base.
func (s *Sim) emitMergeGroupLocked(r *repo, sender *user, ref string, head, base plumbing.Hash, baseRef string) {
	cm, err := r.commit(head)
	mustf(err == nil, "merge group head: %v", err)
	s.emitRepoLocked("merge_group", "checks_requested", r, sender, map[string]any{
		"action": "checks_requested",
		"merge_group": map[string]any{
			"head_sha": head.String(), "head_ref": "refs/heads/" + ref, "base_sha": base.String(), "base_ref": "refs/heads/" + baseRef,
			"head_commit": map[string]any{
				"id": head.String(), "tree_id": cm.TreeHash.String(), "message": trimNL(cm.Message), "timestamp": timeOrNil(cm.Committer.When),
				"author":    map[string]any{"name": cm.Author.Name, "email": cm.Author.Email},
				"committer": map[string]any{"name": cm.Committer.Name, "email": cm.Committer.Email},
			},
		},
	})
}
