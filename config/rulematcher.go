package config

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
func (p *Policy) RuleMatcher() *RuleMatcher {
	rules := p.Rules()
	all := p.compiled().all
	return &RuleMatcher{rules: rules, all: all, hits: make(tagSet, max(all.words(), 1))}
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
