package checks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	gmext "github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// CommandPrefix starts every comment command.
const CommandPrefix = "/countersign"

// Command verbs.
const (
	VerbApprove       = "approve"        // approve the change (counts when commands.approve is on)
	VerbRecheck       = "recheck"        // evaluate again
	VerbExplain       = "explain"        // answer with the verdict as text
	VerbOverride      = "override"       // override the check; needs a reason
	VerbRequestReview = "request-review" // request review from those who can approve
)

// Verbs lists the command verbs, in the order help shows them.
var Verbs = []string{VerbApprove, VerbRecheck, VerbExplain, VerbOverride, VerbRequestReview}

// Errors a parsed command can carry; the bot answers with them.
var (
	ErrNoVerb        = errors.New("missing command: try /countersign explain")
	ErrUnknownVerb   = errors.New("unknown command")
	ErrNeedsReason   = errors.New("an override needs a reason: /countersign override <reason>")
	ErrNoArgs        = errors.New("takes no arguments")
	ErrBadReviewArgs = errors.New("request-review takes @user or @org/team names")
)

// Command is one `/countersign` command found in a comment.
type Command struct {
	// Verb is one of the Verb* constants, lower case; for an unknown verb, the word as written.
	Verb string `json:"verb"`
	// Args is the rest of the line after the verb, trimmed: the reason of an
	// override, the names of a request-review.
	Args string `json:"args,omitempty"`
	// Line is the 1-based line of the comment the command is on.
	Line int `json:"line"`
	// Raw is the command line as written, trimmed.
	Raw string `json:"raw"`
	// Err says why the command cannot be carried out (unknown verb, missing
	// reason, unexpected arguments); nil for a valid command.
	Err error `json:"-"`
}

// ParseCommands finds the `/countersign` commands of a comment body, as
// GitHub renders it (CommonMark with GitHub's extensions, parsed by
// goldmark). A command is a line of a top-level paragraph that starts with
// `/countersign` (case-insensitive) after at most three spaces, followed by
// a space or the end of the line, and whose start is the paragraph's own
// text: nothing GitHub shows as a quote (lazy continuation lines included),
// list item, heading, table, code (fenced, indented, a fence opened on a
// list item, a code span) or hides (an HTML block or an HTML comment opened
// mid-line) counts. Every command found is returned, valid or not; an
// unknown verb, a missing override reason or unexpected arguments set Err,
// so the bot can answer why nothing happened.
func ParseCommands(body string) []Command {
	if !strings.Contains(strings.ToLower(body), CommandPrefix) {
		return nil
	}
	src := []byte(body)
	doc := markdown.Parser().Parse(text.NewReader(src))
	var out []Command
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		para, ok := n.(*ast.Paragraph)
		if !ok {
			continue
		}
		// Offsets where the paragraph's own text (not raw HTML, not code)
		// starts a piece: a line counts only when its text starts there.
		starts := map[int]bool{}
		for c := para.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				starts[t.Segment.Start] = true
			}
		}
		lines := para.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			lineStart := seg.Start
			for lineStart > 0 && src[lineStart-1] != '\n' {
				lineStart--
			}
			raw := strings.TrimRight(string(src[lineStart:seg.Stop]), "\r\n")
			indent := leadingSpaces(raw)
			if indent > 3 || lineStart+indent != seg.Start || !starts[seg.Start] {
				continue
			}
			if c, ok := parseCommandLine(raw[indent:]); ok {
				c.Line = 1 + strings.Count(body[:lineStart], "\n")
				out = append(out, c)
			}
		}
	}
	return out
}

func leadingSpaces(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// markdown is GitHub's flavour of CommonMark; only its parser is used.
var markdown = goldmark.New(goldmark.WithExtensions(gmext.GFM))

func parseCommandLine(text string) (Command, bool) {
	if len(text) < len(CommandPrefix) || !strings.EqualFold(text[:len(CommandPrefix)], CommandPrefix) {
		return Command{}, false
	}
	after := text[len(CommandPrefix):]
	if after != "" && after[0] != ' ' && after[0] != '\t' {
		return Command{}, false // "/countersigned" is a word, not a command
	}
	c := Command{Raw: strings.TrimSpace(text)}
	after = strings.TrimSpace(after)
	if after == "" {
		c.Err = ErrNoVerb
		return c, true
	}
	verb, args := after, ""
	if i := strings.IndexAny(after, " \t"); i >= 0 {
		verb, args = after[:i], strings.TrimSpace(after[i+1:])
	}
	c.Verb, c.Args = strings.ToLower(verb), args
	switch c.Verb {
	case VerbApprove, VerbRecheck, VerbExplain:
		if args != "" {
			c.Err = fmt.Errorf("/countersign %s %w; write any remark on another line", c.Verb, ErrNoArgs)
		}
	case VerbOverride:
		if args == "" {
			c.Err = ErrNeedsReason
		}
	case VerbRequestReview:
		for _, name := range strings.Fields(args) {
			if !strings.HasPrefix(name, "@") || len(name) < 2 {
				c.Err = fmt.Errorf("%w, not %q", ErrBadReviewArgs, name)
				break
			}
		}
	default:
		c.Verb = verb
		c.Err = fmt.Errorf("%w %q: the commands are %s", ErrUnknownVerb, verb, strings.Join(Verbs, ", "))
	}
	return c, true
}
