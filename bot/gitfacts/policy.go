package gitfacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hmarr/codeowners"

	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
)

// PolicyAt finds the policy that applies at rev (policyfile.Find): the
// policy file as it is at rev, else the built-in default; a lone
// .github/countersign.yaml, or an invalid file, is a *policyfile.Error
// naming the file (and line and column). Callers pass the base revision,
// never the head: a branch must not be able to loosen its own gate. A clone
// cannot read the organization's .github repository, so that fallback is
// the server's alone. The built-in default's Source still names the
// repository and the revision looked at.
func (r *Repo) PolicyAt(ctx context.Context, rev string) (*config.Policy, error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return nil, err
	}
	src := config.Source{Repo: r.RepoName(), Ref: rev, SHA: h.String()}
	f, err := policyfile.Find(ctx, policyfile.Lookup{Repo: treeFiles{r: r, h: h, rev: rev}, Source: src})
	if err != nil {
		return nil, err
	}
	if f.Policy.Source.Builtin {
		f.Policy.Source.Repo, f.Policy.Source.Ref, f.Policy.Source.SHA = src.Repo, src.Ref, src.SHA
	}
	return f.Policy, nil
}

// treeFiles reads files as they are at one commit.
type treeFiles struct {
	r   *Repo
	h   plumbing.Hash
	rev string
}

// ReadFile reads path at the commit.
func (t treeFiles) ReadFile(_ context.Context, path string) (policyfile.File, bool, error) {
	data, blob, found, err := t.r.blobAt(t.h, path)
	if err != nil {
		return policyfile.File{}, false, fmt.Errorf("reading %s at %s: %w", path, t.rev, err)
	}
	return policyfile.File{Data: data, Blob: blob}, found, nil
}

// CodeOwnersAt reads and parses the CODEOWNERS file as it is at rev; it
// returns nil when there is none.
func (r *Repo) CodeOwnersAt(rev string) (codeowners.Ruleset, error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return nil, err
	}
	return r.codeOwnersAtHash(h)
}

func (r *Repo) codeOwnersAtHash(h plumbing.Hash) (codeowners.Ruleset, error) {
	for _, path := range checks.CodeOwnersPaths {
		data, found, err := r.fileAt(h, path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if !found {
			continue
		}
		rs, err := codeowners.ParseFile(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return rs, nil
	}
	return nil, nil
}

// FileAt returns the contents of path at rev; found is false when the file
// does not exist there.
func (r *Repo) FileAt(rev, path string) (data []byte, found bool, err error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return nil, false, err
	}
	return r.fileAt(h, path)
}

func (r *Repo) fileAt(h plumbing.Hash, path string) ([]byte, bool, error) {
	data, _, found, err := r.blobAt(h, path)
	return data, found, err
}

// blobAt returns the contents and blob id of path at commit h.
func (r *Repo) blobAt(h plumbing.Hash, path string) (data []byte, blob string, found bool, err error) {
	c, err := r.commit(h)
	if err != nil {
		return nil, "", false, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, "", false, err
	}
	f, err := t.File(path)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	s, err := f.Contents()
	if err != nil {
		return nil, "", false, err
	}
	return []byte(s), f.Hash.String(), true, nil
}
