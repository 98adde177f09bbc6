package checks

import (
	"slices"
	"strings"
	"testing"
)

// lineCommands is the line-based command finder ParseCommands replaced,
// kept as the reference its fuzz target compares with: a line of its own
// after at most three spaces, outside ``` or ~~~ fences, HTML comments
// opened at a line's start and lines starting with ">".
func lineCommands(body string) []Command {
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

// TestParseCommandsAsGitHubRenders: the bodies of the issue where the line
// rules counted a command GitHub shows as a quote, as code or not at all.
func TestParseCommandsAsGitHubRenders(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []int // lines of the commands found
	}{
		{"lazy block-quote continuation", "> I said earlier:\n/countersign approve", nil},
		{"lazy continuation after a quoted command", "> please\n/countersign override it is fine", nil},
		{"fence opened on a list-item line", "- ```\n  /countersign approve\n  ```", nil},
		{"fence opened on an ordered list item", "1. ~~~\n   /countersign approve\n", nil},
		{"html comment opened mid-line", "Thanks! <!--\n/countersign approve\n-->", nil},
		{"code span across lines", "see `x\n/countersign approve`", nil},
		{"html block", "<details>\n/countersign approve\n</details>", nil},
		{"list item", "- /countersign approve", nil},
		{"heading", "# /countersign approve", nil},
		{"setext heading", "/countersign approve\n---", nil},
		{"after a quote, a paragraph of its own", "> earlier\n\n/countersign approve", []int{3}},
		{"after a list, a paragraph of its own", "- a\n\n/countersign approve", []int{3}},
		{"after a closed html comment", "Hi <!-- x -->\n/countersign approve", []int{2}},
		{"indented continuation line", "LGTM\n    /countersign approve", nil},
		{"an empty html comment closes on its line", "<!-->\n/countersign approve", []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, c := range ParseCommands(tc.body) {
				got = append(got, c.Line)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("commands on lines %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseCommandsAgainstLineRules: every command found is a command line
// by the old line rules; without HTML or fences GitHub's rendering only
// ever takes commands away from what they found; and for a body of plain
// paragraphs both agree.
func FuzzParseCommandsAgainstLineRules(f *testing.F) {
	for _, s := range []string{
		"/countersign approve", "LGTM\n/countersign approve", "> x\n/countersign approve",
		"- ```\n  /countersign approve", "a <!--\n/countersign approve\n-->", "```\n/countersign approve\n```\n/countersign recheck",
		"<!--\n/countersign approve\n-->\n/countersign explain", "   /COUNTERSIGN explain\r\n", "x\n\n/countersign override why\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		type key struct {
			line       int
			verb, args string
		}
		old := map[key]bool{}
		for _, c := range lineCommands(body) {
			old[key{c.Line, c.Verb, c.Args}] = true
		}
		got := ParseCommands(body)
		for _, c := range got {
			// Every command is a command line by the old rules on its own.
			line := strings.Split(body, "\n")[c.Line-1]
			if alone := lineCommands(line); len(alone) != 1 || alone[0].Verb != c.Verb || alone[0].Args != c.Args {
				t.Fatalf("%q: command %+v on a line the line rules do not take for one", body, c)
			}
			// Without HTML or fences (where the line rules hid too much:
			// "<!-->" is a whole comment), nothing is found that they missed.
			if !strings.ContainsAny(body, "<`~") && !old[key{c.Line, c.Verb, c.Args}] {
				t.Fatalf("%q: command %+v found that the line rules did not find", body, c)
			}
		}
		if plain(body) && len(got) != len(old) {
			t.Fatalf("%q: plain paragraphs give %d commands, the line rules %d", body, len(got), len(old))
		}
	})
}

// plain reports whether body is paragraphs of letters, digits, spaces and
// command lines, where Markdown adds nothing.
func plain(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		for _, r := range strings.TrimPrefix(line, CommandPrefix) {
			if !(r == ' ' || r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
				return false
			}
		}
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "-") || (strings.Contains(line, CommandPrefix) && !strings.HasPrefix(line, CommandPrefix)) {
			return false
		}
	}
	return true
}
