package detect

import "strings"

// ParseTrailers returns the trailers of a commit message's trailer block: the
// last paragraph, when every line of it is a "Key: value" trailer (continuation
// lines allowed), as git interpret-trailers reads it.
//
// Like git, it also accepts a last paragraph in which at least one line is a
// git-generated "Signed-off-by:" or "(cherry picked from commit" line and at
// least a quarter of the lines are trailers; the other lines are then skipped.
// The first paragraph is the subject and never a trailer block. A squash-merge
// message's folded block that starts with a "---------" line is read without
// that line. Keys are returned as written; compare them case-insensitively.
func ParseTrailers(message string) []Trailer {
	var out []Trailer
	forEachTrailer(message, func(key, value, line string) {
		out = append(out, Trailer{Key: key, Value: value, Line: line})
	})
	return out
}

// forEachTrailer calls fn for every trailer of message's trailer block.
// Key, value and line are substrings of message unless a continuation line
// had to be folded into the value.
func forEachTrailer(message string, fn func(key, value, line string)) {
	block := trailerBlock(message)
	if block == "" {
		return
	}
	// Validate: all lines trailers (or continuations), or git's 25% rule.
	trailers, others, gitGenerated := 0, 0, false
	for rest, first := block, true; rest != ""; first = false {
		var ln string
		ln, rest = nextLine(rest)
		if isContinuation(ln) {
			if first {
				return
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
	if trailers == 0 || others > 0 && (!gitGenerated || trailers*3 < others) {
		return
	}
	// Emit, folding continuation lines into the preceding trailer.
	var key, value string
	lineStart, lineEnd := -1, -1
	flush := func() {
		if lineStart >= 0 {
			fn(key, value, block[lineStart:lineEnd])
		}
		lineStart = -1
	}
	for rest := block; rest != ""; {
		offset := len(block) - len(rest)
		var ln string
		ln, rest = nextLine(rest)
		if isContinuation(ln) {
			if lineStart >= 0 {
				if v := strings.TrimSpace(ln); v != "" {
					if value == "" {
						value = v
					} else {
						value = value + " " + v
					}
				}
				lineEnd = offset + len(ln)
			}
			continue
		}
		flush()
		if k, v, ok := splitTrailer(ln); ok {
			key, value, lineStart, lineEnd = k, v, offset, offset+len(ln)
		}
	}
	flush()
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
