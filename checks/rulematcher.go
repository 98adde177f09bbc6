package checks

import "math/bits"

// RuleMatcher matches many paths against every effective rule of a policy at
// once, without allocating per path: the policy engine uses one per
// evaluation. It is not safe for concurrent use; make one per goroutine.
type RuleMatcher struct {
	rules []*Rule
	all   *matcher
	hits  tagSet
}

// RuleMatcher returns a matcher over the policy's effective rules (Rules()).
func (c *Compiled) RuleMatcher() *RuleMatcher {
	return &RuleMatcher{rules: c.rules, all: c.all, hits: make(tagSet, max(c.all.words(), 1))}
}

// AppendMatches appends to dst the indexes in Rules() of the rules that
// protect path, in order, as MatchRules finds them.
func (m *RuleMatcher) AppendMatches(dst []int, path string) []int {
	clear(m.hits)
	m.all.match(path, m.hits)
	for w, word := range m.hits {
		for word != 0 {
			t := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if t%2 == 0 && t/2 < len(m.rules) && !m.hits.has(t+1) {
				dst = append(dst, t/2)
			}
		}
	}
	return dst
}

// MatchRules returns the rules of Rules() that protect path, in order, or
// nil. It tries every rule's globs at once and is much faster than calling
// Match on each rule.
func (c *Compiled) MatchRules(path string) []*Rule {
	var buf [8]uint64
	hits := tagSet(buf[:])
	if n := c.all.words(); n > len(buf) {
		hits = make(tagSet, n)
	}
	c.all.match(path, hits)
	var out []*Rule
	for i, r := range c.rules {
		if hits.has(2*i) && !hits.has(2*i+1) {
			out = append(out, r)
		}
	}
	return out
}
