package checks

import (
	"slices"
	"strings"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// Involved is who took part in a change and so cannot approve or override
// it independently: the pull request's author, the operators who delegated
// it to an agent, and the authors and committers of its human and
// automation commits. It is the engine's one answer; adapters ask it
// whom not to request a review from or look up.
type Involved struct {
	author    string
	operators loginSet
	authors   loginSet
}

// Involved returns who took part in the change the facts describe, as
// Evaluate decides it (it runs the same agent detection). It is pure.
func (c *Compiled) Involved(f *Facts) Involved {
	if f == nil {
		return Involved{}
	}
	e := &eval{p: c.p, f: f, v: baseVerdict(c.p.Source, f)}
	e.detect(c.det)
	return e.involved()
}

func (e *eval) involved() Involved {
	return Involved{author: e.f.PR.AuthorLogin, operators: e.operators, authors: e.authors}
}

// Reason returns why login is not independent of the change: ExcludedAuthor,
// ExcludedOperator or ExcludedCommitter, or "" when it took no part.
func (in Involved) Reason(login string) string {
	switch {
	case login == "":
		return ""
	case config.SameLogin(login, in.author):
		return ExcludedAuthor
	case in.operators.has(login):
		return ExcludedOperator
	case in.authors.has(login):
		return ExcludedCommitter
	}
	return ""
}

// Has reports whether login took part in the change.
func (in Involved) Has(login string) bool { return in.Reason(normName(login)) != "" }

// Unresolved returns the lower-case addresses, sorted, of the people who
// took part in the change that the facts match to no GitHub account
// (operators, and authors and committers of human and automation commits):
// the addresses worth asking GitHub about (Facts.Addresses). It runs the
// same detection as Evaluate and is pure.
func (c *Compiled) Unresolved(f *Facts) []string {
	if f == nil {
		return nil
	}
	e := &eval{p: c.p, f: f, v: baseVerdict(c.p.Source, f)}
	e.detect(c.det)
	var out []string
	for _, ids := range [][]detect.Identity{e.v.UnresolvedOperators, e.v.UnresolvedAuthors} {
		for _, id := range ids {
			if a := strings.ToLower(strings.TrimSpace(id.Email)); a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}
