package policyfile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign/config"
)

// files is a Reader over a map of path -> contents.
type files map[string]string

func (m files) ReadFile(_ context.Context, path string) (File, bool, error) {
	s, ok := m[path]
	return File{Data: []byte(s), Blob: "blob:" + path}, ok, nil
}

// org is an OrgReader; hidden makes it invisible, err fails every read.
type org struct {
	files
	hidden bool
	err    error
}

func (o org) ReadFile(ctx context.Context, path string) (File, bool, error) {
	if o.err != nil {
		return File{}, false, o.err
	}
	return o.files.ReadFile(ctx, path)
}

func (o org) Visible(context.Context) (bool, error) { return !o.hidden, nil }

func TestFind(t *testing.T) {
	const yml, yaml = config.FileName, AltFileName
	strict := "review:\n  agent:\n    approvals: 2\n"
	loose := "review:\n  agent:\n    approvals: 1\n"
	broken := "review:\n  agent:\n    approvals: lots\n"
	boom := errors.New("GitHub is down")
	cases := []struct {
		name    string
		repo    string // "owner/name"
		files   files
		org     *org // nil: no org reader (a local clone)
		want    int  // agent approvals of the policy found
		builtin bool
		note    string
		from    string // Source.Repo + ":" + Source.Path
		errHas  string // an *Error naming this
		errIs   error
	}{
		{name: "repository file", repo: "o/r", files: files{yml: strict}, org: &org{files: files{yml: loose}}, want: 2, from: "o/r:" + yml},
		{name: "both names: the .yml applies", repo: "o/r", files: files{yml: strict, yaml: broken}, want: 2, from: "o/r:" + yml},
		{name: "lone .yaml is an error naming it", repo: "o/r", files: files{yaml: strict}, org: &org{files: files{yml: loose}}, errHas: yaml + ": Countersign reads " + yml + " only", from: "o/r:" + yaml},
		{name: "lone .yaml locally too", repo: "o/r", files: files{yaml: strict}, errHas: "rename it to " + yml, from: "o/r:" + yaml},
		{name: "invalid file names file and line", repo: "o/r", files: files{yml: broken}, errHas: yml + ":3", from: "o/r:" + yml},
		{name: "organization fallback", repo: "o/r", files: files{}, org: &org{files: files{yml: strict}}, want: 2, from: "o/.github:" + yml},
		{name: "organization's invalid file names it", repo: "o/r", files: files{}, org: &org{files: files{yml: broken}}, errHas: "o/.github/" + yml + ":3", from: "o/.github:" + yml},
		{name: "organization's lone .yaml", repo: "o/r", files: files{}, org: &org{files: files{yaml: strict}}, errHas: "o/.github/" + yaml + ": Countersign reads", from: "o/.github:" + yaml},
		{name: "organization not visible", repo: "o/r", files: files{}, org: &org{hidden: true}, builtin: true, note: OrgRepoNotVisible},
		{name: "organization without a policy", repo: "o/r", files: files{}, org: &org{files: files{}}, builtin: true},
		{name: "no organization reader", repo: "o/r", files: files{}, builtin: true},
		{name: "the .github repository does not inherit from itself", repo: "o/.github", files: files{}, org: &org{err: boom}, builtin: true},
		{name: "organization read fails closed", repo: "o/r", files: files{}, org: &org{err: boom}, errIs: boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := Lookup{Repo: tc.files, Source: config.Source{Repo: tc.repo, Ref: "main", SHA: "abc"}}
			if tc.org != nil {
				l.Org = *tc.org
			}
			f, err := Find(context.Background(), l)
			if tc.errIs != nil {
				if !errors.Is(err, tc.errIs) {
					t.Fatalf("err = %v, want %v", err, tc.errIs)
				}
				return
			}
			if tc.errHas != "" {
				var pe *Error
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("err = %v, want a policy error with %q", err, tc.errHas)
				}
				if got := pe.Source.Repo + ":" + pe.Source.Path; got != tc.from {
					t.Errorf("error source = %s, want %s", got, tc.from)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			src := f.Policy.Source
			if src.Builtin != tc.builtin || src.Note != tc.note || f.Policy.Review.AgentApprovals() != tc.want && !tc.builtin {
				t.Errorf("found %+v (approvals %d)", src, f.Policy.Review.AgentApprovals())
			}
			if !tc.builtin {
				if got := src.Repo + ":" + src.Path; got != tc.from {
					t.Errorf("source = %s, want %s", got, tc.from)
				}
				if f.Blob != "blob:"+yml {
					t.Errorf("blob = %q", f.Blob)
				}
			}
		})
	}
}
