package githubsim

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// EnqueueMergeGroup puts a pull request in the merge queue: it creates the
// temporary gh-readonly-queue branch (one commit on top of the base branch
// with the pull request's tree), emits merge_group.checks_requested and
// returns the merge group's head SHA.
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
	obj := r.storer.NewEncodedObject()
	err = cm.Encode(obj)
	var h plumbing.Hash
	if err == nil {
		h, err = r.storer.SetEncodedObject(obj)
	}
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(ref), h))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "merge group commit: %v", err)
	s.emitRepoLocked("merge_group", "checks_requested", r, sender, map[string]any{
		"action": "checks_requested",
		"merge_group": map[string]any{
			"head_sha": h.String(), "head_ref": "refs/heads/" + ref, "base_sha": base.String(), "base_ref": "refs/heads/" + p.baseRef,
			"head_commit": map[string]any{
				"id": h.String(), "tree_id": head.TreeHash.String(), "message": trimNL(cm.Message), "timestamp": timeOrNil(when),
				"author":    map[string]any{"name": cm.Author.Name, "email": cm.Author.Email},
				"committer": map[string]any{"name": cm.Committer.Name, "email": cm.Committer.Email},
			},
		},
	})
	return h.String()
}
