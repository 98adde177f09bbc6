package gitfacts

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// CommitFiles returns the paths each of the given commits changed against
// its first parent (both paths of a rename: without rename detection a
// rename is a deletion and an addition), keyed by SHA. It compares trees
// only, so it reads no file content (a partial clone has what it needs).
func (r *Repo) CommitFiles(ctx context.Context, shas []string) (map[string][]string, error) {
	out := make(map[string][]string, len(shas))
	for _, sha := range shas {
		c, err := r.commit(plumbing.NewHash(sha))
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", short(plumbing.NewHash(sha)), err)
		}
		tree, err := c.Tree()
		if err != nil {
			return nil, fmt.Errorf("reading the tree of %s: %w", short(c.Hash), err)
		}
		parent := &object.Tree{}
		if len(c.ParentHashes) > 0 {
			pc, err := r.commit(c.ParentHashes[0])
			if err != nil {
				return nil, fmt.Errorf("the parent of %s: %w", short(c.Hash), err)
			}
			if parent, err = pc.Tree(); err != nil {
				return nil, fmt.Errorf("reading the tree of %s: %w", short(pc.Hash), err)
			}
		}
		changes, err := object.DiffTreeWithOptions(ctx, parent, tree, nil)
		if err != nil {
			return nil, fmt.Errorf("comparing %s with its parent: %w", short(c.Hash), err)
		}
		paths := []string{}
		for _, ch := range changes {
			for _, name := range []string{ch.From.Name, ch.To.Name} {
				if name != "" && (len(paths) == 0 || paths[len(paths)-1] != name) {
					paths = append(paths, name)
				}
			}
		}
		out[sha] = paths
	}
	return out, nil
}
