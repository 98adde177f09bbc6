package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/countersign/countersign/checks/detect"
)

// MaxSummary is the longest check-run summary GitHub accepts, in characters.
const MaxSummary = 65535

// JSON returns the verdict as indented JSON; the field names are the public
// format and do not change. Text is written as it is: "<" and ">" (as in a
// Co-Authored-By trailer) are not escaped for HTML.
func (v *Verdict) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// listLimits bound the long lists of a Markdown summary.
type listLimits struct {
	commits int // commits shown in the authorship table
	files   int // files shown per rule
}

// Markdown renders the verdict as a check-run summary of at most MaxSummary
// characters. Requirements and exclusions are always shown whole; the commit
// and file lists are shortened with "… and N more" when the summary would
// otherwise be too long.
func (v *Verdict) Markdown() string {
	for _, lim := range []listLimits{{250, 300}, {100, 100}, {50, 30}, {20, 10}, {5, 3}, {0, 0}} {
		if s := v.markdown(lim); len(s) <= MaxSummary {
			return s
		}
	}
	// Only exclusions or errors in their thousands get here: cut on a rune boundary.
	s := v.markdown(listLimits{})
	const note = "\n\n… (summary shortened to GitHub's limit; `countersign explain` or the JSON verdict has it all)\n"
	cut := MaxSummary - len(note)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

func (v *Verdict) markdown(lim listLimits) string {
	var b strings.Builder
	b.Grow(4096)
	fmt.Fprintf(&b, "### %s %s\n\n", conclusionIcon(v.Conclusion), md(v.Title))
	if v.Local {
		b.WriteString("_Judged on a local clone: reviews are not known, so this shows what a merge would need._\n\n")
	}
	if len(v.Errors) > 0 {
		b.WriteString("#### Errors\n\n")
		for _, e := range v.Errors {
			fmt.Fprintf(&b, "- %s\n", md(e))
		}
		b.WriteString("\n")
	}
	if o := v.Override; o != nil {
		fmt.Fprintf(&b, "#### Override\n\n%s overrode the check at %s: %s\n\n", md(v.overriders()), code(shortSHA(o.CommitSHA)), md(o.Reason))
	}
	if len(v.Requirements) > 0 {
		b.WriteString("#### Requirements\n\n| | Requirement | Needed | Have | Satisfied by | Who can approve |\n|---|---|---|---|---|---|\n")
		for _, r := range v.Requirements {
			mark := "❌"
			if r.Met {
				mark = "✅"
			}
			by := "—"
			if len(r.SatisfiedBy) > 0 {
				by = md(atJoin(r.SatisfiedBy))
			}
			who := md(r.Eligible.String())
			if n := len(r.Uncovered); n > 0 && v.ownersPerFile() > 1 {
				who += fmt.Sprintf("; still needs %d different code owners of %d %s", v.ownersPerFile(), n, plural(n, "file", "files"))
			} else if n > 0 {
				who += fmt.Sprintf("; still needs a code owner of %d %s", n, plural(n, "file", "files"))
			}
			fmt.Fprintf(&b, "| %s | **%s** — %s | %d | %d | %s | %s |\n", mark, md(r.Name), md(r.Reason), r.Needed, r.Have, by, who)
		}
		b.WriteString("\n")
	} else if len(v.Errors) == 0 {
		b.WriteString("No approval is required.\n\n")
	}
	if un := v.unresolvedText(); len(un) > 0 {
		for _, u := range un {
			fmt.Fprintf(&b, "- ⚠️ %s\n", md(u))
		}
		b.WriteString("\n")
	}
	if len(v.Blocking) > 0 {
		b.WriteString("#### Changes requested\n\n")
		for _, bl := range v.Blocking {
			fmt.Fprintf(&b, "- @%s (review #%d) — blocks until dismissed or replaced by an approval\n", md(bl.Login), bl.ReviewID)
		}
		b.WriteString("\n")
	}
	if len(v.Excluded) > 0 {
		b.WriteString("#### Approvals and commands that did not count\n\n| Who | What | Reason | Detail |\n|---|---|---|---|\n")
		for _, x := range v.Excluded {
			what := x.Source
			if x.ID != 0 {
				what += fmt.Sprintf(" #%d", x.ID)
			}
			fmt.Fprintf(&b, "| @%s | %s | `%s` | %s |\n", md(x.Login), md(what), x.Reason, md(x.Detail))
		}
		b.WriteString("\n")
	}
	v.mdAuthorship(&b, lim)
	v.mdProtected(&b, lim)
	b.WriteString("#### Policy\n\n")
	b.WriteString(md(policyText(v)))
	b.WriteString("\n")
	return b.String()
}

func (v *Verdict) mdAuthorship(b *strings.Builder, lim listLimits) {
	if v.PR == nil && len(v.Commits) == 0 {
		return
	}
	b.WriteString("#### Authorship\n\n")
	if v.AgentAuthored {
		fmt.Fprintf(b, "Agent-authored (%s).", md(strings.Join(v.Agents, ", ")))
	} else {
		b.WriteString("No agent found.")
	}
	if len(v.Operators) > 0 {
		names := make([]string, len(v.Operators))
		for i, o := range v.Operators {
			names[i] = o.String()
		}
		fmt.Fprintf(b, " Operators (cannot approve): %s.", md(strings.Join(names, ", ")))
	}
	b.WriteString("\n\n")
	if v.PR != nil {
		fmt.Fprintf(b, "- **pull request**: %s%s\n", md(detect.ClassLabel(v.PR.Class, v.PR.Agent, v.PR.Automation)), md(signalsText(v.PR.Signals)))
	}
	shown := min(len(v.Commits), lim.commits)
	if shown > 0 {
		b.WriteString("\n| Commit | Subject | Author | Signals | Operator |\n|---|---|---|---|---|\n")
		for _, c := range v.Commits[:shown] {
			who := "human"
			switch {
			case c.Agent != nil:
				who = "agent " + *c.Agent
			case c.Automation != "":
				who = "automation " + c.Automation
			}
			op := "—"
			if c.Operator != nil {
				op = md(c.Operator.String())
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", code(shortSHA(c.SHA)), md(clip(c.Subject, 80)), md(who), md(strings.TrimPrefix(signalsText(c.Signals), ": ")), op)
		}
	}
	if n := len(v.Commits) - shown; n > 0 {
		fmt.Fprintf(b, "\n… and %d more %s\n", n, plural(n, "commit", "commits"))
	}
	b.WriteString("\n")
}

func (v *Verdict) mdProtected(b *strings.Builder, lim listLimits) {
	if len(v.ProtectedFiles) == 0 {
		return
	}
	b.WriteString("#### Protected files\n\n")
	for start := 0; start < len(v.ProtectedFiles); {
		rule := v.ProtectedFiles[start].Rule
		end := start
		for end < len(v.ProtectedFiles) && v.ProtectedFiles[end].Rule == rule {
			end++
		}
		n := end - start
		fmt.Fprintf(b, "**%s** (%d %s)\n\n", md(rule), n, plural(n, "file", "files"))
		shown := min(n, lim.files)
		for _, pf := range v.ProtectedFiles[start : start+shown] {
			line := code(pf.Path)
			if pf.PreviousPath != "" && pf.PreviousPath != pf.Path {
				line = code(pf.PreviousPath) + " → " + line
			}
			if pf.Deleted {
				if pf.Status == StatusRemoved {
					line += " (deleted)"
				} else {
					line += " (moved out of the rule's paths)"
				}
			}
			if len(pf.Agents) > 0 {
				line += " — changed by " + md(joinAnd(pf.Agents))
			}
			fmt.Fprintf(b, "- %s\n", line)
		}
		if rest := n - shown; rest > 0 {
			fmt.Fprintf(b, "- … and %d more\n", rest)
		}
		b.WriteString("\n")
		start = end
	}
}

// Text renders the verdict as short plain text, for terminals and
// `/countersign explain`.
func (v *Verdict) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "countersign: %s — %s\n", v.Conclusion, v.Title)
	for _, e := range v.Errors {
		fmt.Fprintf(&b, "  error: %s\n", oneLine(e))
	}
	if v.AgentAuthored {
		agentCommits := 0
		for _, c := range v.Commits {
			if c.Agent != nil {
				agentCommits++
			}
		}
		fmt.Fprintf(&b, "agents: %s (%d of %d commits)\n", strings.Join(v.Agents, ", "), agentCommits, len(v.Commits))
	}
	if len(v.Operators) > 0 {
		names := make([]string, len(v.Operators))
		for i, o := range v.Operators {
			names[i] = o.String()
		}
		fmt.Fprintf(&b, "operators (cannot approve): %s\n", strings.Join(names, ", "))
	}
	for _, u := range v.unresolvedText() {
		fmt.Fprintf(&b, "warning: %s\n", oneLine(u))
	}
	for _, r := range v.Requirements {
		mark := "[ ]"
		if r.Met {
			mark = "[x]"
		}
		fmt.Fprintf(&b, "%s %s: %d/%d — %s; who: %s", mark, r.Name, r.Have, r.Needed, oneLine(r.Reason), r.Eligible.String())
		if len(r.SatisfiedBy) > 0 {
			fmt.Fprintf(&b, "; approved by %s", atJoin(r.SatisfiedBy))
		}
		if n := len(r.Uncovered); n > 0 && v.ownersPerFile() > 1 {
			fmt.Fprintf(&b, "; fewer than %d owners approved %d %s", v.ownersPerFile(), n, plural(n, "file", "files"))
		} else if n > 0 {
			fmt.Fprintf(&b, "; no owner approved %d %s", n, plural(n, "file", "files"))
		}
		b.WriteString("\n")
	}
	for _, bl := range v.Blocking {
		fmt.Fprintf(&b, "changes requested by @%s (review #%d)\n", bl.Login, bl.ReviewID)
	}
	for _, x := range v.Excluded {
		fmt.Fprintf(&b, "not counted: @%s %s #%d — %s: %s\n", x.Login, x.Source, x.ID, x.Reason, oneLine(x.Detail))
	}
	if o := v.Override; o != nil {
		fmt.Fprintf(&b, "overridden by %s: %s\n", v.overriders(), oneLine(o.Reason))
	}
	fmt.Fprintf(&b, "policy: %s\n", policyText(v))
	return b.String()
}

func conclusionIcon(c Conclusion) string {
	switch c {
	case Success:
		return "✅"
	case ActionRequired:
		return "⏳"
	}
	return "❌"
}

func policyText(v *Verdict) string {
	out := v.Policy.String()
	if !v.Policy.Builtin && v.Policy.Path != "" && v.Policy.SHA != "" {
		out += " (" + shortSHA(v.Policy.SHA) + ")"
	}
	return out
}

func signalsText(sigs []detect.Signal) string {
	if len(sigs) == 0 {
		return ""
	}
	parts := make([]string, 0, len(sigs))
	for _, s := range sigs {
		parts = append(parts, fmt.Sprintf("%s %s (%s)", s.Kind, clip(oneLine(s.Match), 60), s.Strength))
	}
	return ": " + strings.Join(parts, "; ")
}

func atJoin(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = "@" + l
	}
	return strings.Join(out, ", ")
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// md escapes text for a Markdown line or table cell.
func md(s string) string {
	s = oneLine(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// code renders s as an inline code span, whatever backticks it holds.
func code(s string) string {
	s = oneLine(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// CouldNotEvaluateTitle begins the title of the failing verdict written when
// a pull request's facts could not be gathered (CouldNotEvaluate).
const CouldNotEvaluateTitle = "Could not evaluate: "

// InProgress returns the title and summary of the check run shown while a
// pull request is evaluated; again says a pass it showed is withdrawn.
func InProgress(again bool) (title, summary string) {
	if again {
		return "Evaluating again", "Countersign is evaluating this pull request again; the pass it showed is withdrawn until then."
	}
	return "Evaluating", "Countersign is gathering the facts of this pull request."
}

// CouldNotEvaluate is the failing verdict on pull request number of repo at
// head when its facts could not be gathered, reason saying why.
func CouldNotEvaluate(repo string, number int, head, reason string) *Verdict {
	return &Verdict{
		Conclusion:     Failure,
		Incomplete:     true,
		Title:          clipRunes(CouldNotEvaluateTitle+reason, MaxTitleRunes),
		Repo:           repo,
		Number:         number,
		HeadSHA:        head,
		Agents:         []string{},
		Commits:        []CommitVerdict{},
		ProtectedFiles: []ProtectedFile{},
		Requirements:   []Requirement{},
		Errors:         []string{"could not evaluate: " + reason + "; Countersign will try again"},
	}
}

// overriders names who overrode: the override's author, or everyone whose
// override it took.
func (v *Verdict) overriders() string {
	if len(v.OverriddenBy) == 0 && v.Override != nil {
		return "@" + v.Override.Login
	}
	return atJoinAnd(v.OverriddenBy)
}

// ownersPerFile is how many of its owners must approve a file with code
// owners: one, and one more per person no account was matched to.
func (v *Verdict) ownersPerFile() int {
	return 1 + len(v.UnresolvedOperators) + len(v.UnresolvedAuthors)
}

// unresolvedText says, one sentence per person, which operators and commit
// authors no GitHub account could be matched to and what that costs.
func (v *Verdict) unresolvedText() []string {
	if len(v.UnresolvedOperators)+len(v.UnresolvedAuthors) == 0 {
		return nil
	}
	names := make([]string, 0, len(v.Requirements))
	owned := false
	for _, r := range v.Requirements {
		names = append(names, r.Name)
		owned = owned || len(r.Eligible.CodeOwners) > 0
	}
	cost := ""
	switch len(names) {
	case 0:
	case 1:
		cost = ", so " + names[0] + " needs one more independent approval"
	default:
		cost = ", so " + joinAnd(names) + " each need one more independent approval"
	}
	if owned {
		// She may be the owner who approved a file: someone else must too.
		cost += ", and each file with code owners one more owner's approval"
	}
	var out []string
	say := func(role string, ids []detect.Identity) {
		for _, o := range ids {
			who := o.Email
			if who == "" {
				who = o.Name
			}
			out = append(out, role+" "+who+" could not be matched to a GitHub account"+cost)
		}
	}
	say("operator", v.UnresolvedOperators)
	say("commit author", v.UnresolvedAuthors)
	return out
}
