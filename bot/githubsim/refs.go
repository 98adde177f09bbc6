package githubsim

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v62/github"
)

// hMatchingRefs answers GET /repos/{owner}/{repo}/git/matching-refs/{ref}:
// the branches and tags whose full name, without "refs/", begins with ref
// ("heads/gh-readonly-queue/main/"), sorted by name, unpaginated like GitHub;
// an empty array when none match.
func hMatchingRefs(c *reqCtx) {
	prefix := "refs/" + c.p["ref"]
	c.s.gitMu.Lock()
	iter, err := c.repo.storer.IterReferences()
	var refs []*plumbing.Reference
	if err == nil {
		err = iter.ForEach(func(r *plumbing.Reference) error {
			name := r.Name().String()
			if r.Type() == plumbing.HashReference && strings.HasPrefix(name, prefix) && (r.Name().IsBranch() || r.Name().IsTag()) {
				refs = append(refs, r)
			}
			return nil
		})
	}
	c.s.gitMu.Unlock()
	if err != nil {
		c.fail(500, "Server Error", "")
		return
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name() < refs[j].Name() })
	out := []*github.Reference{}
	full := c.repo.fullName()
	for _, r := range refs {
		name := r.Name().String()
		kind := "commit"
		if r.Name().IsTag() {
			kind = "tag"
		}
		out = append(out, &github.Reference{
			Ref: github.String(name),
			URL: github.String(c.s.api("repos/%s/git/%s", full, name)),
			Object: &github.GitObject{Type: github.String(kind), SHA: github.String(r.Hash().String()),
				URL: github.String(c.s.api("repos/%s/git/commits/%s", full, r.Hash()))},
			NodeID: github.String("REF_" + r.Hash().String()[:12]),
		})
	}
	c.json(200, out)
}
