package detect

import (
	"fmt"
	"regexp"
	"strings"
)

// Disclosure without trailers: communities that ban AI trailers
// (Kubernetes since 2026-04-10, and many AGENTS.md files) ask for a line in
// the PR description or a ticked "AI was used" checkbox instead.

// disclosureName is the agent name a disclosure reports; a disclosure says AI
// was used, rarely reliably which tool.
const disclosureName = "AI use disclosed in the PR body"

// Built-in disclosure patterns. A line is "<AI key>: <answer>" with an
// affirmative answer; a checkbox is ticked and its label says AI was used.
var (
	builtinDisclosureKey = regexp.MustCompile(`(?i)^(?:ai|genai|gen ai|generative ai|llm)[ -]?(?:assistance|assisted|disclosure|usage|use|used|generated|tools?(?: used)?)$`)
	builtinCheckboxes    = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(?:ai|llm|genai|generative ai|copilot|chatgpt|claude|codex|cursor|gemini)\b.*\b(?:used|use|assisted|assistance|generated|created|written|wrote|helped|tools?)\b`),
		regexp.MustCompile(`(?i)\b(?:assisted|generated|created|written|co-written|drafted)\b.*\b(?:by|with|using)\b.*\b(?:ai|llm|genai|generative ai)\b`),
	}
	// negation marks a ticked box or an answer that says no AI was used.
	negation = regexp.MustCompile(`(?i)(?:^|\W)(?:no|not|none|never|without|n/a|na|nope|false|don't|didn't|doesn't|did not|does not|was not|wasn't)(?:\W|$)`)
	// session links of GitHub-hosted agents in a PR body.
	agentLogsURLRe = regexp.MustCompile(`^<?https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/(?:copilot/)?sessions/[0-9A-Za-z-]{8,}>?$`)
)

// disclosure is a detector's compiled disclosure configuration.
type disclosure struct {
	builtin    bool
	lines      []*regexp.Regexp
	checkboxes []*regexp.Regexp
}

func (ds *disclosure) compile(o DisclosureOptions) error {
	ds.builtin = !o.NoBuiltin
	for _, p := range o.Lines {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("detect: disclosure line %q: %v", p, err)
		}
		ds.lines = append(ds.lines, re)
	}
	for _, p := range o.Checkboxes {
		re, err := regexp.Compile(p)
		if err != nil {
			return fmt.Errorf("detect: disclosure checkbox %q: %v", p, err)
		}
		ds.checkboxes = append(ds.checkboxes, re)
	}
	return nil
}

func (ds *disclosure) on() bool { return ds.builtin || len(ds.lines)+len(ds.checkboxes) > 0 }

// checkbox splits a task-list item "- [x] label" into its tick and label.
func checkbox(t string) (ticked bool, label string, ok bool) {
	i := 0
	switch {
	case len(t) > 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ':
		i = 2
	default:
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == 0 || i+1 >= len(t) || (t[i] != '.' && t[i] != ')') || t[i+1] != ' ' {
			return false, "", false
		}
		i += 2
	}
	for i < len(t) && t[i] == ' ' {
		i++
	}
	if len(t) < i+3 || t[i] != '[' || t[i+2] != ']' {
		return false, "", false
	}
	switch t[i+1] {
	case 'x', 'X':
		ticked = true
	case ' ':
	default:
		return false, "", false
	}
	return ticked, strings.TrimSpace(t[i+3:]), true
}

// line examines one PR-body line (trimmed, outside code and quotes) for a
// disclosure; it returns true when the line was one.
func (ds *disclosure) line(st *state, t string) bool {
	if ticked, label, ok := checkbox(t); ok {
		if !ticked || label == "" {
			return true // an unticked box, or the template's bare box
		}
		for _, re := range ds.checkboxes {
			if re.MatchString(label) {
				st.add(found{Signal: Signal{Kind: SignalDisclosure, Match: t, Agent: OtherAgent, Strength: Medium}, name: disclosureName})
				return true
			}
		}
		if ds.builtin && !negation.MatchString(label) {
			for _, re := range builtinCheckboxes {
				if re.MatchString(label) {
					st.add(found{Signal: Signal{Kind: SignalDisclosure, Match: t, Agent: OtherAgent, Strength: Medium}, name: disclosureName})
					return true
				}
			}
		}
		return true
	}
	for _, re := range ds.lines {
		if re.MatchString(t) {
			st.add(found{Signal: Signal{Kind: SignalDisclosure, Match: t, Agent: OtherAgent, Strength: Medium}, name: disclosureName})
			return true
		}
	}
	if !ds.builtin {
		return false
	}
	c := t[0] | 0x20
	if c != 'a' && c != 'g' && c != 'l' && c != '*' && c != '_' {
		return false
	}
	colon := strings.IndexByte(t, ':')
	if colon <= 0 {
		return false
	}
	key := strings.TrimSpace(strings.Trim(t[:colon], "*_ "))
	if !builtinDisclosureKey.MatchString(key) {
		return false
	}
	answer := strings.TrimSpace(strings.Trim(t[colon+1:], "*_ "))
	if answerAffirmative(answer) {
		st.add(found{Signal: Signal{Kind: SignalDisclosure, Match: t, Agent: OtherAgent, Strength: Medium}, name: disclosureName})
	}
	return true
}

// answerAffirmative reports whether a disclosure answer says AI was used: not
// empty, not a template placeholder (an HTML comment, a bracketed hint), not
// a question, not a negation.
func answerAffirmative(a string) bool {
	for {
		i := strings.Index(a, "<!--")
		if i < 0 {
			break
		}
		j := strings.Index(a[i:], "-->")
		if j < 0 {
			a = a[:i]
			break
		}
		a = a[:i] + a[i+j+3:]
	}
	a = strings.TrimSpace(a)
	if a == "" || a[0] == '<' || a[0] == '[' || a[0] == '(' || a[0] == '_' || a[0] == '-' {
		return false
	}
	if strings.Contains(a, "?") || negation.MatchString(a) {
		return false
	}
	return true
}

// indexFold returns the index of the first ASCII case-insensitive occurrence
// of sub (lower case) in s, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

// firstLine returns a message's first line.
func firstLine(s string) string {
	l, _ := nextLine(s)
	return strings.TrimSpace(l)
}

// releaseSubject matches a release version bump's subject.
var releaseSubject = regexp.MustCompile(`(?i)^(?:(?:chore|build|ci)\(release\)!?:|(?:chore|build|ci)(?:\([^)]*\))?!?:\s*(?:release|bump (?:the )?version|version bump)\b|release:?\s+v?\d|bump version\b|v?\d+\.\d+\.\d+\S*$)`)

// releaseBump returns the automation id when the commit is a release bump
// pushed under an agent product's bot that also acts as a release robot
// (gemini-cli[bot]); "" otherwise.
func (d *Detector) releaseBump(c Commit) string {
	// Release robots in the catalogue are App bots: skip the work unless
	// an identity carries a "[bot]" suffix.
	if d.release == nil || strings.IndexByte(c.AuthorEmail, '[') < 0 && strings.IndexByte(c.AuthorLogin, '[') < 0 {
		return ""
	}
	login := c.AuthorLogin
	if l := LoginFromEmail(c.AuthorEmail); l != "" {
		login = l
	}
	id, ok := d.release[lowerASCII(strings.TrimSpace(login))]
	if !ok || !releaseSubject.MatchString(firstLine(c.Message)) {
		return ""
	}
	return id
}

// squashBody reads the folded messages of a squash merge: a paragraph made of
// trailers only, other than the final trailer block, contributes its
// declaration and session trailers (Assisted-by, Generated-by, Claude-Session,
// Agent-Logs-Url, …), which are real signals of the squashed commits. Other
// folded trailers (Signed-off-by, Co-authored-by) are not read there: GitHub
// repeats co-authors in the final block.
func (d *Detector) squashBody(st *state, msg string) {
	var paras [][2]int // paragraph start and end offsets
	start, inPara := 0, false
	for pos := 0; pos < len(msg); {
		ln, rest := nextLine(msg[pos:])
		next := len(msg) - len(rest)
		if isBlank(ln) {
			if inPara {
				paras = append(paras, [2]int{start, pos})
			}
			inPara = false
		} else if !inPara {
			start, inPara = pos, true
		}
		pos = next
	}
	if inPara {
		paras = append(paras, [2]int{start, len(msg)})
	}
	// Not the subject, not the final block (read as trailers already).
	for i := 1; i < len(paras)-1; i++ {
		d.squashParagraph(st, msg[paras[i][0]:paras[i][1]])
	}
}

func (d *Detector) squashParagraph(st *state, para string) {
	for r := para; r != ""; {
		var ln string
		ln, r = nextLine(r)
		if _, _, ok := splitTrailer(ln); !ok {
			return
		}
	}
	for r := para; r != ""; {
		var ln string
		ln, r = nextLine(r)
		key, value, _ := splitTrailer(ln)
		var buf [128]byte
		switch trailerKeys[string(lowerBytes(&buf, key))] {
		case keyDeclared, keyClaudeSession, keyAgentLogs, keyCopilotSession, keyAmpThread:
			d.trailer(st, SignalTrailer, key, value, ln)
		}
	}
}
