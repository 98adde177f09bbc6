package checks

import (
	"slices"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// Rule is an effective protected-path rule: a top-level preset or a
// maintainer's rule, with its globs expanded and compiled.
type Rule struct {
	config.PathRule
	// FromPreset is true for a rule made from ProtectedPaths.Presets.
	FromPreset bool

	m *matcher // include patterns tag 0, ignore patterns tag 1
}

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
func compileRule(r *config.PathRule) *matcher {
	pats, tags := ruleGlobs(r, 0)
	return newMatcher(pats, tags)
}

// ruleGlobs returns the rule's normalized patterns tagged base (paths) and
// base+1 (ignore). Invalid globs are left out: config.Parse rejects them.
func ruleGlobs(r *config.PathRule, base int) (pats []string, tags []int) {
	for _, g := range r.Paths {
		if config.CheckGlob(g) == nil {
			pats, tags = append(pats, config.NormalizeGlob(g)), append(tags, base)
		}
	}
	for _, g := range r.Ignore {
		if config.CheckGlob(g) == nil {
			pats, tags = append(pats, config.NormalizeGlob(g)), append(tags, base+1)
		}
	}
	return pats, tags
}

// buildRules returns the effective protected-path rules of a policy and one
// matcher over all of them (rule i's paths tag 2i, ignore tag 2i+1): one
// rule per preset enabled by ProtectedPaths.Presets, named after it, with
// default approvers, then the maintainers' rules with their presets' globs
// merged into Paths and Ignore, then the presets protected whatever the
// policy says (config.Policy.AlwaysPresets: the policy file's own).
func buildRules(p *config.Policy) ([]*Rule, *matcher) {
	var rules []*Rule
	presetRule := func(name string) {
		pr, _ := config.LookupPreset(name)
		rules = append(rules, &Rule{
			PathRule:   config.PathRule{Name: pr.Name, Presets: []string{pr.Name}, Paths: pr.Paths, Ignore: pr.Ignore},
			FromPreset: true,
		})
	}
	for _, name := range p.ProtectedPaths.EnabledPresets() {
		presetRule(name)
	}
	for _, pr := range p.ProtectedPaths.Rules {
		r := pr
		r.Presets = slices.Clone(pr.Presets)
		r.Paths = nil
		r.Ignore = slices.Clone(pr.Ignore)
		for _, name := range config.ExpandPresets(pr.Presets) {
			preset, _ := config.LookupPreset(name)
			r.Paths = append(r.Paths, preset.Paths...)
			r.Ignore = append(r.Ignore, preset.Ignore...)
		}
		r.Paths = append(r.Paths, pr.Paths...)
		r.Approvers.Teams = slices.Clone(pr.Approvers.Teams)
		r.Approvers.Users = slices.Clone(pr.Approvers.Users)
		rules = append(rules, &Rule{PathRule: r})
	}
	// Last, the presets protected whatever the policy says (its own file).
	for _, name := range p.AlwaysPresets() {
		presetRule(name)
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

// DetectOptions converts a policy's agents section to detection options.
func DetectOptions(a config.Agents) detect.Options {
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
