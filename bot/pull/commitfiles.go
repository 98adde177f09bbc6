package pull

import (
	"context"
	"sync"

	"github.com/google/go-github/v62/github"
	"github.com/sourcegraph/conc/pool"
)

// maxCommitFiles is the most files GitHub lists for one commit; a commit
// listing that many may have changed more, so its paths count as unknown.
const maxCommitFiles = 3000

// CommitFiles returns the paths each of the given commits changed against
// its first parent (both paths of a rename), keyed by SHA, reading each
// commit once (GET /repos/{o}/{r}/commits/{sha}) and caching it across
// evaluations: what a commit changed never changes. A commit that changed
// more files than GitHub lists is left out (unknown to the engine).
func (g *GitHub) CommitFiles(ctx context.Context, shas []string) (map[string][]string, error) {
	out := make(map[string][]string, len(shas))
	var mu sync.Mutex
	p := pool.New().WithErrors().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(4)
	for _, sha := range shas {
		key := g.key("commit-files", sha)
		if v, ok := g.o.Cache.Get(key); ok {
			if paths, whole := v.([]string); whole {
				out[sha] = paths
			}
			continue
		}
		p.Go(func(ctx context.Context) error {
			var paths []string
			n := 0
			opt := &github.ListOptions{PerPage: perPage}
			for {
				c, resp, err := g.o.Client.Repositories.GetCommit(ctx, g.o.Owner, g.o.Repo, sha, opt)
				if err != nil {
					return err
				}
				for _, f := range c.Files {
					n++
					paths = append(paths, f.GetFilename())
					if prev := f.GetPreviousFilename(); prev != "" && prev != f.GetFilename() {
						paths = append(paths, prev)
					}
				}
				if resp.NextPage == 0 || len(c.Files) == 0 || n >= maxCommitFiles {
					break
				}
				opt.Page = resp.NextPage
			}
			var v any = paths
			if n >= maxCommitFiles {
				v = false // too many to know
			}
			g.o.Cache.Put(key, v)
			if n < maxCommitFiles {
				mu.Lock()
				out[sha] = paths
				mu.Unlock()
			}
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// CommitFiles returns CommitFilesData's entries for the given commits.
func (f *Fake) CommitFiles(ctx context.Context, shas []string) (map[string][]string, error) {
	if err := f.call("CommitFiles"); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, sha := range shas {
		if paths, ok := f.CommitFilesData[sha]; ok {
			out[sha] = paths
		}
	}
	return out, nil
}
