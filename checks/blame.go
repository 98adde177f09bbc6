package checks

import (
	"fmt"
	"slices"

	"github.com/countersign/countersign/checks/detect"
)

// Who changed a protected file: the engine names an agent in a path
// requirement only when one of that agent's commits changed the file, which
// it knows without more facts when the change has a single commit or every
// commit is one agent's, and otherwise from Facts.CommitFiles.

// CommitFilesNeeded returns the SHAs of the commits whose changed paths
// (Facts.CommitFiles) the check needs to say which agent changed each
// protected file: the agent-written commits, when the change touches a
// protected path and its commits are not all written by one agent (then
// each file is that agent's, or no agent's). It returns nil when the facts
// already say, and leaves out commits whose paths f.CommitFiles holds.
func (c *Compiled) CommitFilesNeeded(f *Facts) []string {
	if len(f.Commits) < 2 {
		return nil
	}
	var agentCommits []string
	agents := map[string]bool{}
	for _, cm := range f.Commits {
		if d := c.det.Commit(cm); d.Class == detect.ClassAgent {
			agentCommits = append(agentCommits, cm.SHA)
			agents[d.Agent] = true
		}
	}
	if len(agentCommits) == 0 || (len(agentCommits) == len(f.Commits) && len(agents) == 1) {
		return nil
	}
	m := c.RuleMatcher()
	var hits []int
	protected := false
	for _, fl := range f.Files {
		if hits = m.AppendMatches(hits[:0], fl.Path); len(hits) > 0 {
			protected = true
			break
		}
		if fl.PreviousPath != "" {
			if hits = m.AppendMatches(hits[:0], fl.PreviousPath); len(hits) > 0 {
				protected = true
				break
			}
		}
	}
	if !protected {
		return nil
	}
	var out []string
	for _, sha := range agentCommits {
		if _, ok := f.CommitFiles[sha]; !ok {
			out = append(out, sha)
		}
	}
	return out
}

// blame returns the ids of the agents whose commits changed the file (its
// path or previous path), sorted, and whether that is known: false when an
// agent's commit might have changed it but its paths are not in the facts,
// and when no commit is an agent's (the pull request alone says an agent
// worked on it, so which commit is whose is not known).
func (e *eval) blame(fl *File) (ids []string, known bool) {
	var agentCommits []int
	distinct := map[string]bool{}
	for i, id := range e.commitAgents {
		if id != "" {
			agentCommits = append(agentCommits, i)
			distinct[id] = true
		}
	}
	switch {
	case len(agentCommits) == 0:
		return nil, false
	case len(e.commitAgents) == 1 || (len(agentCommits) == len(e.commitAgents) && len(distinct) == 1):
		return []string{e.commitAgents[agentCommits[0]]}, true
	}
	for _, i := range agentCommits {
		paths, ok := e.f.CommitFiles[e.f.Commits[i].SHA]
		if !ok {
			return nil, false
		}
		if slices.Contains(paths, fl.Path) || (fl.PreviousPath != "" && slices.Contains(paths, fl.PreviousPath)) {
			if id := e.commitAgents[i]; !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids, true
}

// agentNamesOf names agent ids as the check does: "Claude Code and Copilot".
func (e *eval) agentNamesOf(ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		n := e.agentNames[id]
		if n == "" {
			n = id
		}
		names = append(names, n)
	}
	return joinAnd(names)
}

// changeVerb says what happened to a protected file under rule.
func changeVerb(fl *File, deleted bool, rule string) string {
	switch {
	case deleted && fl.Status == StatusRemoved:
		return "deleted"
	case deleted:
		return "renamed out of " + rule
	}
	return "changed"
}

// pathReason says why a path requirement applies, from the files it
// protects: what happened to each ("infra/a.tf and 2 more files changed",
// "infra/old.tf renamed out of infra, and 1 more file changed") and, for an
// agent-authored change, which agent's commits changed them.
func (e *eval) pathReason(r *Rule, hits []hit) string {
	first := &e.f.Files[hits[0].file]
	v0 := changeVerb(first, hits[0].deleted, r.Name)
	reason := first.Path
	if n := len(hits) - 1; n > 0 {
		var rest []string
		for _, h := range hits[1:] {
			if v := changeVerb(&e.f.Files[h.file], h.deleted, r.Name); !slices.Contains(rest, v) {
				rest = append(rest, v)
			}
		}
		more := fmt.Sprintf("%d more %s", n, plural(n, "file", "files"))
		if len(rest) == 1 && rest[0] == v0 {
			reason += " and " + more + " " + v0
		} else {
			slices.Sort(rest)
			reason += " " + v0 + ", and " + more + " " + joinWith(rest, "or")
		}
	} else {
		reason += " " + v0
	}
	if !e.agentAuthor {
		return reason
	}
	var ids []string
	byAgent := 0
	for _, h := range hits {
		got, known := e.blame(&e.f.Files[h.file])
		if !known {
			return reason + ", in a change agent-authored by " + e.agentPhrase()
		}
		if len(got) > 0 {
			byAgent++
		}
		for _, id := range got {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	switch {
	case byAgent == 0:
		return reason
	case byAgent == len(hits):
		return reason + " by " + e.agentNamesOf(ids)
	}
	return reason + fmt.Sprintf(" (%d of the %d by %s)", byAgent, len(hits), e.agentNamesOf(ids))
}

// joinWith joins items as "a, b or c" with the given conjunction.
func joinWith(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	out := items[0]
	for _, s := range items[1 : len(items)-1] {
		out += ", " + s
	}
	return out + " " + conj + " " + items[len(items)-1]
}

// baseStaleDetail says why an approval or override (what: "approved",
// "override made") made before the pull request's base last changed, to
// base, does not count.
func baseStaleDetail(what, base string) string {
	if base == "" {
		return what + " before the base changed"
	}
	return what + " before the base changed to " + base
}

// staleDetail says why an approval or override (what: "approved",
// "override made") made at commit at does not count for head. A comment
// command made before the head moved carries no commit: it is then said to
// be from before the head moved, not from a blank commit.
func staleDetail(what, at, head string) string {
	if at == "" {
		return fmt.Sprintf("%s before the head moved to %s", what, shortSHA(head))
	}
	if what == "override made" {
		what += " at"
	}
	return fmt.Sprintf("%s %s, head is %s", what, shortSHA(at), shortSHA(head))
}
