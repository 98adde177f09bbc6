package githubsim

import (
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Push makes a commit on branch (created from the default branch if absent)
// and returns its SHA. It emits push, check_suite.requested, and
// pull_request.synchronize for each open pull request with that head branch.
func (s *Sim) Push(fullName, branch string, c CommitSpec) string {
	return s.push(fullName, branch, "", c)
}

func (s *Sim) push(fullName, branch, by string, c CommitSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	if c.Author.Name == "" && c.Author.Login != "" {
		c.Author.Name = c.Author.Login
	}
	if c.Author.Email == "" && c.Author.Login != "" {
		c.Author.Email = c.Author.Login + "@users.noreply.github.com"
	}
	for _, id := range []Identity{c.Author, c.Committer} {
		if id.Login != "" {
			u := s.userLocked(id.Login)
			if id.Email != "" {
				r.emails[strings.ToLower(id.Email)] = u.login
			}
		}
	}
	before, exists := r.branchHash(branch)
	parent := before
	if !exists {
		parent, _ = r.branchHash(r.defaultBranch)
	}
	when := s.ts()
	s.gitMu.Lock()
	h, err := writeCommit(r.storer, parent, c, when)
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "push to %s %s: %v", fullName, branch, err)
	r.pushedAt = when

	pusher := r.owner
	if by != "" {
		pusher = s.userLocked(by)
	} else if c.Author.Login != "" {
		pusher = s.userLocked(c.Author.Login)
	}
	s.pushEventLocked(r, branch, before, h, !exists, false, pusher)
	s.emitRepoLocked("check_suite", "requested", r, pusher, obj{
		"action": "requested", "check_suite": s.checkSuiteObj(r, h.String(), branch, before.String()),
	})
	for _, p := range r.prOrder {
		if p.state == "open" && p.headRef == branch {
			old := p.headSHA
			p.headSHA, p.updatedAt = h.String(), when
			s.prEventLocked(r, p, "synchronize", pusher, obj{"before": old, "after": p.headSHA})
		}
	}
	return h.String()
}

// ForcePush moves an existing branch to an existing commit (git push
// --force), as by login. It emits push (forced) and
// pull_request.synchronize for each open pull request with that head
// branch; a commit that already has a check suite gets no new one.
func (s *Sim) ForcePush(fullName, branch, sha, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	before, exists := r.branchHash(branch)
	mustf(exists, "force-push: no branch %s in %s", branch, fullName)
	h := plumbing.NewHash(sha)
	_, err := r.commit(h)
	mustf(err == nil, "force-push: no commit %s in %s: %v", sha, fullName, err)
	s.gitMu.Lock()
	err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h))
	s.gitMu.Unlock()
	mustf(err == nil, "force-push to %s %s: %v", fullName, branch, err)
	when := s.ts()
	r.pushedAt = when
	pusher := s.userLocked(login)
	s.pushEventLocked(r, branch, before, h, false, true, pusher)
	for _, p := range r.prOrder {
		if p.state == "open" && p.headRef == branch {
			old := p.headSHA
			p.headSHA, p.updatedAt = h.String(), when
			s.prEventLocked(r, p, "synchronize", pusher, obj{"before": old, "after": p.headSHA})
		}
	}
}

// CreateBranch points a new branch at an existing commit, as the
// repository's owner creating it through the API, and emits push (created).
func (s *Sim) CreateBranch(fullName, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	before, exists := r.branchHash(branch)
	mustf(!exists, "create branch: %s already has branch %s", fullName, branch)
	h := plumbing.NewHash(sha)
	_, err := r.commit(h)
	mustf(err == nil, "create branch: no commit %s in %s: %v", sha, fullName, err)
	s.gitMu.Lock()
	err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h))
	s.gitMu.Unlock()
	mustf(err == nil, "create branch %s in %s: %v", branch, fullName, err)
	r.pushedAt = s.ts()
	s.pushEventLocked(r, branch, before, h, true, false, r.owner)
}

// Head returns the SHA a branch points at, or "" if the branch does not exist.
func (s *Sim) Head(fullName, branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.repoLocked(fullName).branchHash(branch)
	if !ok {
		return ""
	}
	return h.String()
}

func (s *state) pushCommitObj(r *repo, c *object.Commit, prev plumbing.Hash) obj {
	var added, removed, modified []string
	added, removed, modified = []string{}, []string{}, []string{}
	if files, err := r.diff(prev, c.Hash); err == nil {
		for _, f := range files {
			switch f.status {
			case "added":
				added = append(added, f.filename)
			case "removed":
				removed = append(removed, f.filename)
			case "renamed":
				added = append(added, f.filename)
				removed = append(removed, f.prev)
			default:
				modified = append(modified, f.filename)
			}
		}
	}
	person := func(sig object.Signature) obj {
		m := obj{"name": sig.Name, "email": sig.Email, "date": sig.When.Format(time.RFC3339)}
		if l := s.loginForAddress(r, sig.Email); l != "" {
			m["username"] = l
		}
		return m
	}
	return obj{
		"id": c.Hash.String(), "tree_id": c.TreeHash.String(), "distinct": true,
		"message": strings.TrimSuffix(c.Message, "\n"), "timestamp": c.Committer.When.Format(time.RFC3339),
		"url": s.html("%s/commit/%s", r.fullName(), c.Hash), "author": person(c.Author), "committer": person(c.Committer),
		"added": added, "removed": removed, "modified": modified,
	}
}

func (s *state) pushEventLocked(r *repo, branch string, before, after plumbing.Hash, created, forced bool, pusher *user) {
	base := before
	if created {
		base, _ = r.branchHash(r.defaultBranch)
		if base == after {
			base = plumbing.ZeroHash
		}
	}
	commits := []obj{}
	var head obj
	for _, c := range r.commitsBetween(base, after) {
		var prev plumbing.Hash
		if len(c.ParentHashes) > 0 {
			prev = c.ParentHashes[0]
		}
		co := s.pushCommitObj(r, c, prev)
		commits = append(commits, co)
		head = co
	}
	repoObj := s.repoObj(r)
	repoObj["owner"].(obj)["name"] = r.owner.login
	repoObj["owner"].(obj)["email"] = nil
	repoObj["created_at"] = r.createdAt.Unix()
	repoObj["pushed_at"] = r.pushedAt.Unix()
	repoObj["stargazers"] = 0
	repoObj["master_branch"] = r.defaultBranch
	cmp := s.html("%s/compare/%s...%s", r.fullName(), before.String()[:12], after.String()[:12])
	if created {
		cmp = s.html("%s/commit/%s", r.fullName(), after.String()[:12])
	}
	s.emitRepoLocked("push", "", r, pusher, obj{
		"ref": "refs/heads/" + branch, "before": before.String(), "after": after.String(),
		"created": created, "deleted": false, "forced": forced, "base_ref": nil, "compare": cmp,
		"commits": commits, "head_commit": head, "repository": repoObj,
		"pusher": obj{"name": pusher.login, "email": pusher.login + "@users.noreply.github.com"},
	})
}
