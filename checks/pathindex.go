package checks

import (
	"strings"

	"github.com/countersign/countersign/config"
)

// pathIndex narrows the protected-path rules a changed file could match, so
// that a 3,000-file pull request against 200 globs costs a few map look-ups
// per file instead of 600,000 glob matches. It is only a filter: every
// candidate it returns is confirmed with config.Rule.Match, and it is built to
// be conservative (it may return rules that do not match, never omit one that
// could). Keys are ASCII-lower-cased so that a case-insensitive matcher is
// covered too.
//
// A glob is filed under one key:
//   - first: the first path segment, when the glob starts with a literal
//     "segment/" (such globs are anchored at the repository root);
//   - name: a literal last segment ("Dockerfile", "infra"), looked up against
//     every segment of the path, so directory-style matching is covered;
//   - ext: the extension after the last literal dot of the last segment
//     ("*.tf" → "tf"), looked up against every segment's extension;
//   - always: anything else (leading "**" with braces, escapes, non-ASCII…).
type pathIndex struct {
	rules  []*config.Rule
	first  map[string][]int32
	name   map[string][]int32
	ext    map[string][]int32
	always []int32
	stamp  []int32 // per rule: the last file number it was a candidate for
	cand   []int32 // scratch: candidates of the current file
	buf    [256]byte
}

func newPathIndex(rules []*config.Rule) *pathIndex {
	ix := &pathIndex{
		rules: rules,
		first: map[string][]int32{},
		name:  map[string][]int32{},
		ext:   map[string][]int32{},
		stamp: make([]int32, len(rules)),
	}
	for i, r := range rules {
		ri := int32(i)
		globs := r.Paths
		always := len(globs) == 0
		for _, name := range r.Presets {
			pr, ok := config.LookupPreset(name)
			if !ok {
				always = true
				continue
			}
			if len(pr.Paths) == 0 {
				always = true
			}
			ix.addGlobs(ri, pr.Paths)
		}
		if always {
			ix.always = append(ix.always, ri)
			continue
		}
		ix.addGlobs(ri, globs)
	}
	return ix
}

func (ix *pathIndex) addGlobs(ri int32, globs []string) {
	for _, g := range globs {
		kind, key := globKey(g)
		var m map[string][]int32
		switch kind {
		case keyFirst:
			m = ix.first
		case keyName:
			m = ix.name
		case keyExt:
			m = ix.ext
		default:
			if n := len(ix.always); n == 0 || ix.always[n-1] != ri {
				ix.always = append(ix.always, ri)
			}
			continue
		}
		list := m[key]
		if n := len(list); n > 0 && list[n-1] == ri {
			continue
		}
		m[key] = append(list, ri)
	}
}

const (
	keyAlways = iota
	keyFirst
	keyName
	keyExt
)

// globKey files a glob under the key every path it matches must have.
func globKey(g string) (kind int, key string) {
	g = strings.TrimSpace(g)
	for strings.HasPrefix(g, "./") {
		g = g[2:]
	}
	g = strings.TrimLeft(g, "/")
	g = strings.TrimRight(g, "/")
	if g == "" || strings.ContainsAny(g, "\\!") || !isASCII(g) {
		return keyAlways, ""
	}
	g = strings.ToLower(g)
	lit := g
	if m := strings.IndexAny(g, "*?[]{}"); m >= 0 {
		lit = g[:m]
	}
	if i := strings.IndexByte(lit, '/'); i > 0 {
		return keyFirst, lit[:i]
	}
	if strings.ContainsAny(g, "{}") {
		return keyAlways, ""
	}
	seg := g[strings.LastIndexByte(g, '/')+1:]
	if seg == "" || strings.Contains(seg, "**") {
		return keyAlways, ""
	}
	last := strings.LastIndexAny(seg, "*?[]")
	if last < 0 {
		return keyName, seg
	}
	tail := seg[last+1:]
	if dot := strings.LastIndexByte(tail, '.'); dot >= 0 && dot < len(tail)-1 {
		return keyExt, tail[dot+1:]
	}
	return keyAlways, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// candidates returns the rules that could match path or prev (either may be
// empty). stamp must be unique per call. The result is reused by the next call.
func (ix *pathIndex) candidates(stamp int32, path, prev string) []int32 {
	ix.cand = ix.cand[:0]
	for _, ri := range ix.always {
		ix.take(stamp, ri)
	}
	ix.lookup(stamp, path)
	if prev != "" {
		ix.lookup(stamp, prev)
	}
	return ix.cand
}

func (ix *pathIndex) take(stamp, ri int32) {
	if ix.stamp[ri] == stamp {
		return
	}
	ix.stamp[ri] = stamp
	ix.cand = append(ix.cand, ri)
}

func (ix *pathIndex) takeAll(stamp int32, list []int32) {
	for _, ri := range list {
		ix.take(stamp, ri)
	}
}

func (ix *pathIndex) lookup(stamp int32, path string) {
	first := true
	for len(path) > 0 {
		seg := path
		rest := ""
		if i := strings.IndexByte(path, '/'); i >= 0 {
			seg, rest = path[:i], path[i+1:]
		}
		path = rest
		if seg == "" || seg == "." {
			continue
		}
		key := ix.lower(seg)
		if first {
			ix.takeAll(stamp, ix.first[string(key)])
			first = false
		}
		ix.takeAll(stamp, ix.name[string(key)])
		if dot := lastDot(key); dot >= 0 && dot < len(key)-1 {
			ix.takeAll(stamp, ix.ext[string(key[dot+1:])])
		}
	}
}

func lastDot(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '.' {
			return i
		}
	}
	return -1
}

// lower ASCII-lower-cases s into the index's scratch buffer (a fresh slice
// only for segments longer than the buffer).
func (ix *pathIndex) lower(s string) []byte {
	var b []byte
	if len(s) <= len(ix.buf) {
		b = ix.buf[:len(s)]
	} else {
		b = make([]byte, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}
