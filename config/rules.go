package config

import (
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/countersign/countersign/checks/detect"
)

// Match reports whether path (repository-relative, as git writes it) is
// protected by the rule: it matches one of Paths and none of Ignore.
func (r *Rule) Match(path string) bool {
	m := r.m
	if m == nil {
		m = compileRule(&r.PathRule)
	}
	var hits [1]uint64
	m.match(path, hits[:])
	return hits[0] == 1
}

// compileRule compiles a rule's globs: Paths tag 0, Ignore tag 1.
func compileRule(r *PathRule) *matcher {
	pats, tags := ruleGlobs(r, 0)
	return newMatcher(pats, tags)
}

// ruleGlobs returns the rule's normalized patterns tagged base (paths) and
// base+1 (ignore). Invalid globs are left out: Parse rejects them.
func ruleGlobs(r *PathRule, base int) (pats []string, tags []int) {
	for _, g := range r.Paths {
		if CheckGlob(g) == nil {
			pats, tags = append(pats, NormalizeGlob(g)), append(tags, base)
		}
	}
	for _, g := range r.Ignore {
		if CheckGlob(g) == nil {
			pats, tags = append(pats, NormalizeGlob(g)), append(tags, base+1)
		}
	}
	return pats, tags
}

// compiled is what a Policy computes once: its rules, one matcher over all
// of them, and its detector.
type compiled struct {
	rulesOnce sync.Once
	rules     []*Rule
	all       *matcher // rule i's paths tag 2i, ignore tag 2i+1

	detOnce sync.Once
	det     *detect.Detector
	detErr  error
}

// cache maps a *Policy, weakly, to what was compiled from it, so Policy
// stays a plain copyable value and a collected policy drops its entry.
var cache sync.Map // weak.Pointer[Policy] -> *compiled

func (p *Policy) compiled() *compiled {
	key := weak.Make(p)
	if c, ok := cache.Load(key); ok {
		return c.(*compiled)
	}
	c, loaded := cache.LoadOrStore(key, &compiled{})
	if !loaded {
		runtime.AddCleanup(p, func(k weak.Pointer[Policy]) { cache.Delete(k) }, key)
	}
	return c.(*compiled)
}

// Rules returns the effective protected-path rules: one per preset enabled
// by ProtectedPaths.Presets, named after it, with default approvers, then
// the maintainers' rules with their presets' globs merged into Paths and
// Ignore. They are compiled once and cached; the policy must not be changed
// after the first call. The rules are shared: do not modify them.
func (p *Policy) Rules() []*Rule {
	c := p.compiled()
	c.rulesOnce.Do(func() { c.rules, c.all = p.buildRules() })
	return c.rules
}

// MatchRules returns the rules of Rules() that protect path, in order, or
// nil. It tries every rule's globs at once and is much faster than calling
// Match on each rule.
func (p *Policy) MatchRules(path string) []*Rule {
	rules := p.Rules()
	all := p.compiled().all
	var buf [8]uint64
	hits := tagSet(buf[:])
	if n := all.words(); n > len(buf) {
		hits = make(tagSet, n)
	}
	all.match(path, hits)
	var out []*Rule
	for i, r := range rules {
		if hits.has(2*i) && !hits.has(2*i+1) {
			out = append(out, r)
		}
	}
	return out
}

// EnabledPresets returns the names of the presets that apply as rules of
// their own: every preset when Presets is unset or names "all", none when it
// is an empty list. Unknown names are left out.
func (pp ProtectedPaths) EnabledPresets() []string {
	if pp.Presets == nil {
		return PresetNames()
	}
	return expandPresets(pp.Presets)
}

// expandPresets resolves "all" and drops duplicates and unknown names.
func expandPresets(names []string) []string {
	out := []string{}
	for _, n := range names {
		if n == PresetAll {
			for _, all := range PresetNames() {
				if !slices.Contains(out, all) {
					out = append(out, all)
				}
			}
			continue
		}
		if _, ok := LookupPreset(n); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (p *Policy) buildRules() ([]*Rule, *matcher) {
	var rules []*Rule
	for _, name := range p.ProtectedPaths.EnabledPresets() {
		pr, _ := LookupPreset(name)
		rules = append(rules, &Rule{
			PathRule:   PathRule{Name: pr.Name, Presets: []string{pr.Name}, Paths: pr.Paths, Ignore: pr.Ignore},
			FromPreset: true,
		})
	}
	for _, pr := range p.ProtectedPaths.Rules {
		r := pr
		r.Presets = slices.Clone(pr.Presets)
		r.Paths = nil
		r.Ignore = slices.Clone(pr.Ignore)
		for _, name := range expandPresets(pr.Presets) {
			preset, _ := LookupPreset(name)
			r.Paths = append(r.Paths, preset.Paths...)
			r.Ignore = append(r.Ignore, preset.Ignore...)
		}
		r.Paths = append(r.Paths, pr.Paths...)
		r.Approvers = pr.Approvers.clone()
		rules = append(rules, &Rule{PathRule: r})
	}
	var pats []string
	var tags []int
	for i, r := range rules {
		r.m = compileRule(&r.PathRule)
		ps, ts := ruleGlobs(&r.PathRule, 2*i)
		pats, tags = append(pats, ps...), append(tags, ts...)
	}
	all := newMatcher(pats, tags)
	all.ntags = max(all.ntags, 2*len(rules))
	return rules, all
}

func (a Approvers) clone() Approvers {
	a.Teams = slices.Clone(a.Teams)
	a.Users = slices.Clone(a.Users)
	return a
}

// DetectOptions converts the agents section to detection options.
func (a Agents) DetectOptions() detect.Options {
	o := detect.Options{NoBuiltin: !a.BuiltinEnabled(), Disable: slices.Clone(a.Disable)}
	for _, c := range a.Custom {
		o.Custom = append(o.Custom, detect.CustomAgent{
			ID: c.ID, Name: c.DisplayName(),
			Logins: slices.Clone(c.Logins), Emails: slices.Clone(c.Emails),
			Trailers: slices.Clone(c.Trailers), Branches: slices.Clone(c.Branches),
			Markers: slices.Clone(c.Markers),
		})
	}
	for _, b := range a.Automation {
		o.Automation = append(o.Automation, detect.CustomBot{ID: b.ID, Logins: slices.Clone(b.Logins), Emails: slices.Clone(b.Emails)})
	}
	o.Disclosure = detect.DisclosureOptions{NoBuiltin: !a.Disclosure.BuiltinEnabled(),
		Lines: slices.Clone(a.Disclosure.Lines), Checkboxes: slices.Clone(a.Disclosure.Checkboxes)}
	return o
}

// Detector returns the agent detector this policy configures, built once and
// cached. It returns nil when the detector cannot be built; DetectorErr says
// why, and callers must then fail closed.
func (p *Policy) Detector() *detect.Detector {
	d, _ := p.detector()
	return d
}

// DetectorErr returns the error building the policy's detector, or nil.
func (p *Policy) DetectorErr() error {
	_, err := p.detector()
	return err
}

func (p *Policy) detector() (*detect.Detector, error) {
	c := p.compiled()
	c.detOnce.Do(func() { c.det, c.detErr = detect.New(p.Agents.DetectOptions()) })
	return c.det, c.detErr
}
