// Package policyfile decides which policy applies to a repository, for the
// server and the local commands alike: the repository's own
// .github/countersign.yml at the revision read (the base, never the head);
// else, when only .github/countersign.yaml is there, an error naming that
// file; else the owner's .github repository's policy on its default branch
// (with the same .yaml rule); else the built-in default. The server reads
// the files through GitHub's contents API, the local commands through git;
// both implement Reader, and the rule is written here once. Compiling the
// policy is left to the caller.
package policyfile

import (
	"context"
	"fmt"
	"strings"

	"github.com/countersign/countersign/config"
)

// AltFileName is the policy file's name with the .yaml extension, which
// Countersign does not read: finding it where the .yml is missing is an
// error, never silently ignored.
const AltFileName = ".github/countersign.yaml"

// OrgRepoNotVisible is the policy note when the built-in default applies
// because the organization's .github repository cannot be seen.
const OrgRepoNotVisible = "no repository policy; the organization's .github repository is not visible to the app, built-in default applies"

// File is a file a Reader found.
type File struct {
	// Data is the file's contents.
	Data []byte
	// Blob is the file's git blob id, when the reader knows it.
	Blob string
}

// Reader reads the files of one repository at one revision.
type Reader interface {
	// ReadFile returns the file at path; found is false when there is none.
	ReadFile(ctx context.Context, path string) (f File, found bool, err error)
}

// OrgReader reads the owner's .github repository on its default branch.
type OrgReader interface {
	Reader
	// Visible reports whether the repository can be seen at all. It is
	// asked only when the policy file is not found there: GitHub answers
	// 404 alike for a missing file and for a repository the app cannot see.
	Visible(ctx context.Context) (bool, error)
}

// Error is a policy file that cannot be used: invalid, misnamed, or not a
// readable file. The check fails and names it.
type Error struct {
	// Source says which file it was.
	Source config.Source
	// Err lists the problems, each naming the file and line.
	Err error
}

// Error returns the problems.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Lookup says where to look for the policy.
type Lookup struct {
	// Repo reads the repository at the revision the policy is read at.
	Repo Reader
	// Source names that repository and revision: Repo ("owner/name"), Ref
	// and SHA; Path is filled in with the file found.
	Source config.Source
	// Org reads the owner's .github repository. Nil when it cannot be read
	// (a local clone): the built-in default then follows the repository's
	// own file. It is not asked when the repository is itself .github.
	Org OrgReader
	// Parse parses a file found; nil means config.Parse. The server passes
	// one that remembers what it parsed, so that one blob is parsed (and
	// compiled) once.
	Parse func(label string, f File, src config.Source) (*config.Policy, error)
}

// Found is the policy that applies.
type Found struct {
	// Policy is the parsed policy, its Source saying where it came from.
	Policy *config.Policy
	// Blob is the policy file's git blob id; "" for the built-in default or
	// when the reader does not know it.
	Blob string
}

// Find returns the policy that applies. A file that is invalid, misnamed
// or unreadable is an *Error naming it; any other error is the readers'.
func Find(ctx context.Context, l Lookup) (*Found, error) {
	f, err := find(ctx, l.Repo, l.Source, l.parser(), func(p string) string { return p })
	if f != nil || err != nil {
		return f, err
	}
	name := l.Source.Repo
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if l.Org == nil || strings.EqualFold(name, config.OrgRepo) {
		return &Found{Policy: config.Default()}, nil
	}
	orgFull := config.OrgRepo
	if i := strings.LastIndexByte(l.Source.Repo, '/'); i >= 0 {
		orgFull = l.Source.Repo[:i+1] + config.OrgRepo
	}
	src := config.Source{Repo: orgFull}
	label := func(p string) string { return orgFull + "/" + p }
	yml, found, err := l.Org.ReadFile(ctx, config.FileName)
	if err != nil {
		return nil, err
	}
	if found {
		return parse(l.parser(), label, yml, src)
	}
	visible, err := l.Org.Visible(ctx)
	if err != nil {
		return nil, err
	}
	if !visible {
		p := config.Default()
		p.Source.Note = OrgRepoNotVisible
		return &Found{Policy: p}, nil
	}
	if err := lone(ctx, l.Org, src, label); err != nil {
		return nil, err
	}
	return &Found{Policy: config.Default()}, nil
}

func (l Lookup) parser() func(string, File, config.Source) (*config.Policy, error) {
	if l.Parse != nil {
		return l.Parse
	}
	return func(label string, f File, src config.Source) (*config.Policy, error) {
		p, err := config.Parse(label, f.Data)
		if err != nil {
			return nil, err
		}
		p.Source = src
		return p, nil
	}
}

// find reads one repository's policy file: the .yml, else an error for a
// lone .yaml, else nil (none there).
func find(ctx context.Context, r Reader, src config.Source, parser func(string, File, config.Source) (*config.Policy, error), label func(string) string) (*Found, error) {
	f, found, err := r.ReadFile(ctx, config.FileName)
	if err != nil {
		return nil, err
	}
	if found {
		return parse(parser, label, f, src)
	}
	// Only when the .yml is missing: both present is not told apart (the
	// .yml applies; docs/policy.md says so).
	return nil, lone(ctx, r, src, label)
}

// lone fails when the repository has a .github/countersign.yaml.
func lone(ctx context.Context, r Reader, src config.Source, label func(string) string) error {
	_, alt, err := r.ReadFile(ctx, AltFileName)
	if err != nil {
		return err
	}
	if !alt {
		return nil
	}
	src.Path = AltFileName
	return &Error{Source: src, Err: fmt.Errorf("%s: Countersign reads %s only; rename it to %s", label(AltFileName), config.FileName, config.FileName)}
}

func parse(parser func(string, File, config.Source) (*config.Policy, error), label func(string) string, f File, src config.Source) (*Found, error) {
	src.Path = config.FileName
	src.Blob = f.Blob
	p, err := parser(label(config.FileName), f, src)
	if err != nil {
		return nil, &Error{Source: src, Err: err}
	}
	return &Found{Policy: p, Blob: f.Blob}, nil
}
