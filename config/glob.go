package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// Glob semantics (docs/policy.md, "Globs"):
//
//   - a glob is matched against the repository-relative path, as git writes it
//     ("dir/sub/file.ext", no leading slash);
//   - `*` matches within one path segment, `**` as a whole segment matches
//     any number of segments (zero included), `?`, `[abc]` and `{a,b}` as in
//     doublestar;
//   - a glob without a slash matches the base name at any depth
//     (`*.tf` is `**/*.tf`), as in .gitignore;
//   - a trailing slash means the directory and everything under it
//     (`migrations/` is `**/migrations/**`, `/.circleci/` is `.circleci/**`);
//   - a leading slash anchors the glob at the repository root; a glob with a
//     slash anywhere but the end is anchored anyway.

// NormalizeGlob returns the doublestar pattern a policy glob means.
func NormalizeGlob(glob string) string {
	dir := strings.HasSuffix(glob, "/")
	g := strings.TrimRight(glob, "/")
	anchored := strings.Contains(g, "/")
	g = strings.TrimLeft(g, "/")
	if !anchored {
		g = "**/" + g
	}
	if dir {
		g += "/**"
	}
	return g
}

// CheckGlob returns why glob is not a valid policy glob, or nil.
func CheckGlob(glob string) error {
	switch {
	case strings.Trim(glob, "/ ") == "":
		return fmt.Errorf("empty glob")
	case strings.HasPrefix(glob, "./"):
		return fmt.Errorf("glob %q starts with ./; globs are relative to the repository root already, write %q", glob, strings.TrimPrefix(glob, "./"))
	case glob == ".." || strings.HasPrefix(glob, "../") || strings.Contains(glob, "/../") || strings.HasSuffix(glob, "/.."):
		return fmt.Errorf("glob %q leaves the repository with ..", glob)
	case strings.ContainsAny(glob, "\n\r\x00"):
		return fmt.Errorf("glob %q contains a line break or NUL", glob)
	case !utf8.ValidString(glob):
		return fmt.Errorf("glob %q is not valid UTF-8", glob)
	}
	if !doublestar.ValidatePattern(NormalizeGlob(glob)) {
		return fmt.Errorf("invalid glob %q: unbalanced [ ] or { }, or a trailing \\", glob)
	}
	return nil
}

// MatchGlob reports whether path matches one policy glob. It is the
// reference the compiled matchers agree with; it is slow.
func MatchGlob(glob, path string) bool {
	ok, err := doublestar.Match(NormalizeGlob(glob), path)
	return err == nil && ok
}

const globMeta = `*?[]{}\`

// entry kinds: shortcuts that need no doublestar call.
const (
	kindExact      = iota // literal path
	kindBaseLit           // **/L: the path is L or ends in /L
	kindBaseSuffix        // **/*S: the base name ends in S
	kindUnder             // P/**: the path is P or starts with P/
	kindAnyDir            // **/D/**: some segment is D
	kindGeneric           // prefilter, then doublestar
	kindOpaque            // doublestar alone
)

// entry is one compiled doublestar pattern.
type entry struct {
	pattern string
	tag     int
	kind    int
	lit     string // the literal of the shortcut kinds
	// prefix, suffix and inner are literals every matching path has
	// (kindGeneric only); they spare most doublestar calls.
	prefix, suffix string
	inner          []string
}

// matcher tests a path against many tagged patterns at once. Each pattern
// sits in one bucket chosen so that only patterns that can match a path are
// tried: by exact path, by base name, by extension, by first segment, by any
// segment, or (rarely) always.
type matcher struct {
	entries []entry
	exact   map[string][]int32
	base    map[string][]int32
	ext     map[string][]int32
	first   map[string][]int32
	anyDir  map[string][]int32
	always  []int32
	ntags   int
}

func (m *matcher) add(bucket *map[string][]int32, key string, i int32) {
	if *bucket == nil {
		*bucket = map[string][]int32{}
	}
	(*bucket)[key] = append((*bucket)[key], i)
}

// newMatcher compiles doublestar patterns; tags[i] is reported for
// patterns[i]. Patterns must be valid (doublestar.ValidatePattern).
func newMatcher(patterns []string, tags []int) *matcher {
	m := &matcher{}
	for i, p := range patterns {
		e := compileEntry(p, tags[i])
		m.ntags = max(m.ntags, tags[i]+1)
		idx := int32(len(m.entries))
		m.entries = append(m.entries, e)
		switch e.kind {
		case kindExact:
			m.add(&m.exact, e.lit, idx)
		case kindBaseLit:
			m.add(&m.base, lastSegment(e.lit), idx)
		case kindBaseSuffix:
			if x := extension(e.lit); x != "" {
				m.add(&m.ext, x, idx)
			} else {
				m.always = append(m.always, idx)
			}
		case kindUnder:
			m.add(&m.first, firstSegment(e.lit), idx)
		case kindAnyDir:
			m.add(&m.anyDir, e.lit, idx)
		case kindOpaque:
			m.always = append(m.always, idx)
		default:
			last := lastSegment(p)
			switch {
			case last != "" && !strings.ContainsAny(last, globMeta):
				m.add(&m.base, last, idx)
			case strings.Contains(e.suffix, ".") && !strings.Contains(e.suffix, "/"):
				m.add(&m.ext, extension(e.suffix), idx)
			case strings.Contains(p, "/") && !strings.ContainsAny(firstSegment(p), globMeta):
				m.add(&m.first, firstSegment(p), idx)
			default:
				m.always = append(m.always, idx)
			}
		}
	}
	return m
}

func compileEntry(p string, tag int) entry {
	e := entry{pattern: p, tag: tag, kind: kindGeneric}
	if !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) {
		// doublestar compares runes, and every invalid byte of a path reads
		// as U+FFFD: only doublestar itself can answer.
		e.kind = kindOpaque
		return e
	}
	if !strings.ContainsAny(p, globMeta) {
		e.kind, e.lit = kindExact, p
		return e
	}
	if rest, ok := strings.CutPrefix(p, "**/"); ok {
		if rest != "" && !strings.ContainsAny(rest, globMeta) {
			e.kind, e.lit = kindBaseLit, rest
			return e
		}
		if s, ok := strings.CutPrefix(rest, "*"); ok && s != "" && !strings.ContainsAny(s, globMeta+"/") {
			e.kind, e.lit = kindBaseSuffix, s
			return e
		}
		if d, ok := strings.CutSuffix(rest, "/**"); ok && d != "" && !strings.ContainsAny(d, globMeta+"/") {
			e.kind, e.lit = kindAnyDir, d
			return e
		}
	}
	if d, ok := strings.CutSuffix(p, "/**"); ok && d != "" && !strings.ContainsAny(d, globMeta) {
		e.kind, e.lit = kindUnder, d
		return e
	}
	// Literals every match must contain. A slash next to ** is dropped,
	// because ** may match nothing ("a/**" matches "a").
	first := strings.IndexAny(p, globMeta)
	e.prefix = p[:first]
	if strings.HasPrefix(p[first:], "**") {
		e.prefix = strings.TrimSuffix(e.prefix, "/")
	}
	last := strings.LastIndexAny(p, globMeta)
	e.suffix = p[last+1:]
	if last >= 1 && p[last] == '*' && p[last-1] == '*' {
		e.suffix = strings.TrimPrefix(e.suffix, "/")
	}
	if !strings.ContainsAny(p, `[]{}\`) {
		// Only * and ? are special: the runs between them are literal.
		for _, run := range strings.FieldsFunc(p[first:last+1], func(r rune) bool { return r == '*' || r == '?' }) {
			if run = strings.Trim(run, "/"); run != "" {
				e.inner = append(e.inner, run)
			}
		}
	}
	return e
}

// match reports whether path matches the entry; base is path's last segment.
func (e *entry) match(path, base string) bool {
	switch e.kind {
	case kindExact:
		return path == e.lit
	case kindBaseLit:
		return path == e.lit || (strings.HasSuffix(path, e.lit) && path[len(path)-len(e.lit)-1] == '/')
	case kindBaseSuffix:
		return strings.HasSuffix(base, e.lit)
	case kindUnder:
		return path == e.lit || (strings.HasPrefix(path, e.lit) && len(path) > len(e.lit) && path[len(e.lit)] == '/')
	case kindAnyDir:
		return hasSegment(path, e.lit)
	}
	if !strings.HasPrefix(path, e.prefix) || !strings.HasSuffix(path, e.suffix) {
		return false
	}
	for _, s := range e.inner {
		if !strings.Contains(path, s) {
			return false
		}
	}
	ok, err := doublestar.Match(e.pattern, path)
	return err == nil && ok
}

func hasSegment(path, seg string) bool {
	for path != "" {
		i := strings.IndexByte(path, '/')
		if i < 0 {
			return path == seg
		}
		if path[:i] == seg {
			return true
		}
		path = path[i+1:]
	}
	return false
}

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

func firstSegment(p string) string {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// extension returns the base name's suffix from its last dot, or "".
func extension(base string) string {
	if i := strings.LastIndexByte(base, '.'); i >= 0 {
		return base[i:]
	}
	return ""
}

// tagSet is a set of small integers.
type tagSet []uint64

func (s tagSet) has(t int) bool { return s[t>>6]&(1<<(t&63)) != 0 }
func (s tagSet) set(t int)      { s[t>>6] |= 1 << (t & 63) }

// visit tries every candidate in idx, setting the tags of those that match.
func (m *matcher) visit(idx []int32, path, base string, hits tagSet) {
	for _, i := range idx {
		e := &m.entries[i]
		if !hits.has(e.tag) && e.match(path, base) {
			hits.set(e.tag)
		}
	}
}

// match sets in hits the tags of every pattern path matches. hits must hold
// at least ntags bits.
func (m *matcher) match(path string, hits tagSet) {
	base := lastSegment(path)
	if m.exact != nil {
		m.visit(m.exact[path], path, base, hits)
	}
	if m.base != nil {
		m.visit(m.base[base], path, base, hits)
	}
	if m.ext != nil {
		if x := extension(base); x != "" {
			m.visit(m.ext[x], path, base, hits)
		}
	}
	if m.first != nil {
		m.visit(m.first[firstSegment(path)], path, base, hits)
	}
	if m.anyDir != nil {
		rest := path
		for {
			i := strings.IndexByte(rest, '/')
			if i < 0 {
				m.visit(m.anyDir[rest], path, base, hits)
				break
			}
			m.visit(m.anyDir[rest[:i]], path, base, hits)
			rest = rest[i+1:]
		}
	}
	m.visit(m.always, path, base, hits)
}

// words returns how many uint64 a tagSet for m needs.
func (m *matcher) words() int { return (m.ntags + 63) / 64 }
