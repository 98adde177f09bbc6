package checks

import (
	"errors"
	"fmt"
	"strings"
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

// ParseCommands finds the `/countersign` commands of a comment body. A command
// is a line of its own that starts with `/countersign` (case-insensitive)
// after at most three spaces — four or more make an indented code block in
// Markdown — followed by a space or the end of the line. Lines inside fenced
// code blocks (``` or ~~~), HTML comments, and block-quoted lines (`>`) are not
// commands: they quote or hide text rather than say it. Every command found is
// returned, valid or not; an unknown verb, a missing override reason or
// unexpected arguments set Err, so the bot can answer why nothing happened.
func ParseCommands(body string) []Command {
	var out []Command
	var fence string // the opening fence while inside a fenced block
	inComment := false
	lineNo := 0
	for rest := body; len(rest) > 0 || lineNo == 0; {
		lineNo++
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		line = strings.TrimSuffix(line, "\r")
		indent := leadingSpaces(line)
		text := line[indent:]
		switch {
		case fence != "":
			if indent <= 3 && isClosingFence(text, fence) {
				fence = ""
			}
			continue
		case inComment:
			if strings.Contains(line, "-->") {
				inComment = false
			}
			continue
		}
		if indent > 3 {
			continue
		}
		if f := openingFence(text); f != "" {
			fence = f
			continue
		}
		if strings.HasPrefix(text, "<!--") {
			if !strings.Contains(text[4:], "-->") {
				inComment = true
			}
			continue
		}
		if strings.HasPrefix(text, ">") {
			continue
		}
		if c, ok := parseCommandLine(text); ok {
			c.Line = lineNo
			out = append(out, c)
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

// openingFence returns the fence that opens a fenced code block, or "".
func openingFence(s string) string {
	if len(s) < 3 || (s[0] != '`' && s[0] != '~') {
		return ""
	}
	c := s[0]
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	if n < 3 {
		return ""
	}
	if c == '`' && strings.IndexByte(s[n:], '`') >= 0 {
		return "" // a backtick fence's info string holds no backtick
	}
	return s[:n]
}

// isClosingFence reports whether s closes a block opened with fence.
func isClosingFence(s, fence string) bool {
	n := 0
	for n < len(s) && s[n] == fence[0] {
		n++
	}
	return n >= len(fence) && strings.TrimSpace(s[n:]) == ""
}

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
