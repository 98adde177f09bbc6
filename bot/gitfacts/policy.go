package gitfacts

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hmarr/codeowners"

	"github.com/countersign/countersign/config"
)

// CodeOwnersPaths are where GitHub looks for a CODEOWNERS file, in the order
// it looks; the first found wins.
var CodeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// PolicyAt reads the policy file (.github/countersign.yml) as it is at rev.
// Callers pass the base revision, never the head: a branch must not be able
// to loosen its own gate. When the file does not exist at rev the built-in
// default applies (Source.Builtin); an invalid file is an error naming the
// file, line and column.
func (r *Repo) PolicyAt(rev string) (*config.Policy, error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return nil, err
	}
	src := config.Source{Repo: r.RepoName(), Path: config.FileName, Ref: rev, SHA: h.String()}
	data, found, err := r.fileAt(h, config.FileName)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", config.FileName, rev, err)
	}
	if !found {
		p := config.Default()
		src.Path = ""
		src.Builtin = true
		p.Source = src
		return p, nil
	}
	p, err := config.Parse(config.FileName, data)
	if err != nil {
		return nil, err // names .github/countersign.yml:line:col
	}
	p.Source = src
	return p, nil
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
	for _, path := range CodeOwnersPaths {
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
	c, err := r.commit(h)
	if err != nil {
		return nil, false, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, false, err
	}
	f, err := t.File(path)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s, err := f.Contents()
	if err != nil {
		return nil, false, err
	}
	return []byte(s), true, nil
}
