package detect

import "strings"

// ParseTrailers returns the trailers of a commit message's trailer block: the
// last paragraph, when every line of it is a "Key: value" trailer (continuation
// lines allowed), as git interpret-trailers reads it.
//
// Like git, it also accepts a last paragraph in which at least one line is a
// git-generated "Signed-off-by:" or "(cherry picked from commit" line and at
// least a quarter of the lines are trailers; the other lines are then skipped.
// The first paragraph is the subject and never a trailer block. Trailers that
// share their paragraph with agent footer lines above them (Crush, opencode)
// are read too. A squash-merge
// message's folded block that starts with a "---------" line is read without
// that line. Keys are returned as written; compare them case-insensitively.
func ParseTrailers(message string) []Trailer {
	var out []Trailer
	it := newTrailerIter(message)
	for {
		key, value, line, ok := it.next()
		if !ok {
			return out
		}
		out = append(out, Trailer{Key: key, Value: value, Line: line})
	}
}

// trailerIter walks the trailers of a message's trailer block without
// allocating, except when a continuation line is folded into a value.
type trailerIter struct {
	block string // the validated trailer block, "" when there is none
	pos   int
}

func newTrailerIter(message string) trailerIter {
	block := trailerBlock(message)
	if block == "" {
		return trailerIter{}
	}
	if validTrailerBlock(block) {
		return trailerIter{block: block}
	}
	return trailerIter{block: afterFooters(block)}
}

// afterFooters returns the trailers that follow an agent's footer lines in
// the same paragraph ("💘 Generated with Crush" directly above
// "Co-Authored-By: Crush <crush@charm.land>"), or "" when the paragraph is not
// footer lines then trailer lines. Only known footers qualify, so prose
// followed by a quoted trailer line stays a non-block.
func afterFooters(block string) string {
	footers := 0
	for rest := block; rest != ""; {
		ln, r := nextLine(rest)
		if isFooterLine(strings.TrimSpace(ln)) {
			footers++
			rest = r
			continue
		}
		if footers == 0 || !validTrailerBlock(rest) {
			return ""
		}
		return rest
	}
	return ""
}

// isFooterLine reports whether a whole line is a built-in agent footer.
func isFooterLine(t string) bool {
	for i := range builtinLinesCompiled {
		l := &builtinLinesCompiled[i]
		if l.kind == SignalFooter && hasAnyPrefix(t, l.prefixes) && (l.re == nil || l.re.MatchString(t)) {
			return true
		}
	}
	return false
}

// validTrailerBlock applies git's rule: every line a trailer (or a
// continuation), or at least one git-generated trailer and at least 25%
// trailers.
func validTrailerBlock(block string) bool {
	trailers, others, gitGenerated := 0, 0, false
	for rest, first := block, true; rest != ""; first = false {
		var ln string
		ln, rest = nextLine(rest)
		if isContinuation(ln) {
			if first {
				return false
			}
			continue
		}
		if _, _, ok := splitTrailer(ln); ok {
			trailers++
			if hasPrefixFold(ln, "signed-off-by:") {
				gitGenerated = true
			}
		} else {
			if strings.HasPrefix(ln, "(cherry picked from commit ") {
				gitGenerated = true
			}
			others++
		}
	}
	return trailers > 0 && (others == 0 || gitGenerated && trailers*3 >= others)
}

// next returns the next trailer; continuation lines are folded into its
// value and included in its line as written.
func (it *trailerIter) next() (key, value, line string, ok bool) {
	for it.pos < len(it.block) {
		start := it.pos
		ln, rest := nextLine(it.block[start:])
		it.pos = len(it.block) - len(rest)
		k, v, isTrailer := splitTrailer(ln)
		if !isTrailer {
			continue // a non-trailer line git tolerates, or a stray continuation
		}
		end := start + len(ln)
		for it.pos < len(it.block) {
			cont, rest := nextLine(it.block[it.pos:])
			if !isContinuation(cont) {
				break
			}
			if c := strings.TrimSpace(cont); c != "" {
				if v == "" {
					v = c
				} else {
					v = v + " " + c
				}
			}
			end = it.pos + len(cont)
			it.pos = len(it.block) - len(rest)
		}
		return k, v, it.block[start:end], true
	}
	return "", "", "", false
}

// trailerBlock returns the message's last paragraph when it is not the
// subject paragraph, without a leading squash-merge "---------" line.
func trailerBlock(msg string) string {
	paragraphs, inPara := 0, false
	start, end := 0, 0
	for pos := 0; pos < len(msg); {
		ln, rest := nextLine(msg[pos:])
		next := len(msg) - len(rest)
		if isBlank(ln) {
			inPara = false
		} else {
			if !inPara {
				paragraphs++
				start, inPara = pos, true
			}
			end = pos + len(ln)
		}
		pos = next
	}
	if paragraphs < 2 {
		return ""
	}
	block := msg[start:end]
	// A squash merge's folded trailers may follow a "---------" line.
	if first, rest := nextLine(block); isDashes(first) {
		block = rest
	}
	return block
}

func isBlank(l string) bool {
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case ' ', '\t', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

func isDashes(l string) bool {
	l = strings.TrimRight(l, " \t\r")
	if len(l) < 3 {
		return false
	}
	for i := 0; i < len(l); i++ {
		if l[i] != '-' {
			return false
		}
	}
	return true
}

// nextLine splits off the first line of s, without its "\n" or "\r\n".
func nextLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		line, rest = s, ""
	} else {
		line, rest = s[:i], s[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

func isContinuation(l string) bool {
	return l != "" && (l[0] == ' ' || l[0] == '\t')
}

// splitTrailer splits "Key: value" where Key is alphanumerics and dashes,
// optionally followed by blanks before the colon, as git does.
func splitTrailer(l string) (key, value string, ok bool) {
	i := 0
	for i < len(l) {
		c := l[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0 {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return "", "", false
	}
	key = l[:i]
	j := i
	for j < len(l) && (l[j] == ' ' || l[j] == '\t') {
		j++
	}
	if j >= len(l) || l[j] != ':' {
		return "", "", false
	}
	return key, strings.TrimSpace(l[j+1:]), true
}

// hasPrefixFold reports whether s starts with prefix, ASCII case-insensitively;
// prefix must be lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
