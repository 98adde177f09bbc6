package checks

import (
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/countersign/countersign/config"
)

// The policy's glob semantics are config.NormalizeGlob's (docs/policy.md,
// "Globs"); this file compiles many normalized globs into one matcher.

// MatchGlob reports whether path matches one policy glob. It is the
// reference the compiled matchers agree with; it is slow.
func MatchGlob(glob, path string) bool {
	ok, err := doublestar.Match(config.NormalizeGlob(glob), path)
	return err == nil && ok
}

const globMeta = `*?[]{}\`

// entry kinds: shortcuts that need no doublestar call.
const (
	kindExact     = iota // literal path
	kindBaseLit          // **/L: the path is L or ends in /L
	kindBaseAffix        // **/P*S: the base name starts with P and ends in S
	kindUnder            // P/**: the path is P or starts with P/
	kindAnyDir           // **/D/**: some segment is D
	kindGeneric          // prefilter, then doublestar
	kindOpaque           // doublestar alone
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
// tried: by a literal segment every match has (its last, an inner or its
// first segment), by the base name's extension or first byte, or (rarely)
// always.
type matcher struct {
	entries []entry
	segment bucket // keyed by a segment (any, first or last) the path must have
	ext     bucket // keyed by the extension the base name must have
	// baseStart is keyed by the first byte of the base name.
	baseStart bucket
	always    []int32
	ntags     int
}

// bucket maps keys to entry indexes. A bit set of key shapes (length,
// first and last byte) turns most misses away before the map is hashed.
type bucket struct {
	shapes [64]uint64
	m      map[string][]int32
}

func shape(key string) uint {
	if key == "" {
		return 0
	}
	return (uint(len(key))*131 + uint(key[0])*31 + uint(key[len(key)-1])) & 4095
}

func (b *bucket) add(key string, i int32) {
	if b.m == nil {
		b.m = map[string][]int32{}
	}
	b.m[key] = append(b.m[key], i)
	h := shape(key)
	b.shapes[h>>6] |= 1 << (h & 63)
}

func (b *bucket) get(key string) []int32 {
	if b.m == nil {
		return nil
	}
	h := shape(key)
	if b.shapes[h>>6]&(1<<(h&63)) == 0 {
		return nil
	}
	return b.m[key]
}

// newMatcher compiles doublestar patterns; tags[i] is reported for
// patterns[i]. Patterns must be valid (doublestar.ValidatePattern).
func newMatcher(patterns []string, tags []int) *matcher {
	m := &matcher{}
	for i, pat := range patterns {
		m.ntags = max(m.ntags, tags[i]+1)
		for _, p := range expandBraces(pat) {
			m.addPattern(p, tags[i])
		}
	}
	return m
}

// maxExpansions bounds how many patterns one glob's braces expand to.
const maxExpansions = 64

// expandBraces returns the patterns that plain {a,b} alternatives stand
// for, so each can be bucketed by its own literals; doublestar matches such
// a pattern exactly when it matches one of them. Patterns with escapes,
// brackets, other braces or too many alternatives are returned as they are.
func expandBraces(p string) []string {
	if strings.ContainsAny(p, `\[`) || !strings.Contains(p, "{") || !utf8.ValidString(p) {
		return []string{p}
	}
	out := []string{p}
	for i := 0; i < len(out); {
		q := out[i]
		open := strings.IndexByte(q, '{')
		if open < 0 {
			i++
			continue
		}
		depth, close := 0, -1
		var commas []int
	scan:
		for j := open; j < len(q); j++ {
			switch q[j] {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					close = j
					break scan
				}
			case ',':
				if depth == 1 {
					commas = append(commas, j)
				}
			}
		}
		if close < 0 || len(out)+len(commas) > maxExpansions {
			return []string{p}
		}
		var alts []string
		start := open + 1
		for _, c := range append(commas, close) {
			alt := q[start:c]
			if alt == "" || strings.ContainsAny(alt, globMeta+"/") {
				// Only plain alternatives ({yml,yaml}) are expanded:
				// doublestar has its own ways with empty ones, nested
				// braces and slashes or stars inside them.
				return []string{p}
			}
			alts = append(alts, q[:open]+q[start:c]+q[close+1:])
			start = c + 1
		}
		out = append(out[:i], append(alts, out[i+1:]...)...)
	}
	return out
}

// innerSegment returns a literal segment of p, other than its first and
// last, that every matching path has as a whole segment, or "". Patterns
// with brackets, braces or escapes have none, since those can hide a slash.
func innerSegment(p string) string {
	if strings.ContainsAny(p, `[]{}\`) {
		return ""
	}
	segs := strings.Split(p, "/")
	if len(segs) < 3 {
		return ""
	}
	best := ""
	for _, s := range segs[1 : len(segs)-1] {
		if s != "" && !strings.ContainsAny(s, globMeta) && len(s) > len(best) {
			best = s
		}
	}
	return best
}

func (m *matcher) addPattern(p string, tag int) {
	{
		e := compileEntry(p, tag)
		idx := int32(len(m.entries))
		m.entries = append(m.entries, e)
		switch e.kind {
		case kindExact:
			m.segment.add(lastSegment(e.lit), idx)
		case kindBaseLit:
			m.segment.add(lastSegment(e.lit), idx)
		case kindBaseAffix:
			switch {
			case strings.Contains(e.suffix, "."):
				m.ext.add(extension(e.suffix), idx)
			case e.prefix != "":
				m.baseStart.add(e.prefix[:1], idx)
			default:
				m.always = append(m.always, idx)
			}
		case kindUnder:
			m.segment.add(firstSegment(e.lit), idx)
		case kindAnyDir:
			m.segment.add(e.lit, idx)
		case kindOpaque:
			m.always = append(m.always, idx)
		default:
			last := lastSegment(p)
			switch {
			case last != "" && !strings.ContainsAny(last, globMeta):
				m.segment.add(last, idx)
			case innerSegment(p) != "":
				m.segment.add(innerSegment(p), idx)
			case strings.Contains(p, "/") && !strings.ContainsAny(firstSegment(p), globMeta):
				m.segment.add(firstSegment(p), idx)
			case strings.Contains(e.suffix, ".") && !strings.Contains(e.suffix, "/"):
				m.ext.add(extension(e.suffix), idx)
			default:
				m.always = append(m.always, idx)
			}
		}
	}
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
		if pre, suf, ok := strings.Cut(rest, "*"); ok && pre+suf != "" && !strings.ContainsAny(pre+suf, globMeta+"/") {
			e.kind, e.prefix, e.suffix = kindBaseAffix, pre, suf
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
	// A slash next to any special character is dropped too: {**} acts as **.
	first := strings.IndexAny(p, globMeta)
	e.prefix = strings.TrimSuffix(p[:first], "/")
	last := strings.LastIndexAny(p, globMeta)
	e.suffix = strings.TrimPrefix(p[last+1:], "/")
	if strings.HasSuffix(p, "/") {
		// doublestar lets a trailing "*/" match without the slash in
		// places; policy globs never end in a slash once normalized.
		e.suffix = ""
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
	case kindBaseAffix:
		return len(base) >= len(e.prefix)+len(e.suffix) && strings.HasPrefix(base, e.prefix) && strings.HasSuffix(base, e.suffix)
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
	if m.ext.m != nil {
		if x := extension(base); x != "" {
			if idx := m.ext.get(x); idx != nil {
				m.visit(idx, path, base, hits)
			}
		}
	}
	if m.baseStart.m != nil && base != "" {
		if idx := m.baseStart.get(base[:1]); idx != nil {
			m.visit(idx, path, base, hits)
		}
	}
	if m.segment.m != nil {
		rest := path
		for {
			i := strings.IndexByte(rest, '/')
			seg := rest
			if i >= 0 {
				seg = rest[:i]
			}
			if idx := m.segment.get(seg); idx != nil {
				m.visit(idx, path, base, hits)
			}
			if i < 0 {
				break
			}
			rest = rest[i+1:]
		}
	}
	if m.always != nil {
		m.visit(m.always, path, base, hits)
	}
}

// words returns how many uint64 a tagSet for m needs.
func (m *matcher) words() int { return (m.ntags + 63) / 64 }
