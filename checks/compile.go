package checks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
)

// Compiled is a policy made ready to judge changes: its protected-path rules
// with their globs compiled into one matcher, and its agent detector. It
// answers every question the adapters ask of a policy (which facts to fetch,
// who is not independent, how a commit is judged) so that they never read
// the policy's settings themselves. A Compiled is immutable and safe for
// concurrent use; compile a policy once and keep it as long as the policy
// file is unchanged (adapters memoise it per file content).
type Compiled struct {
	p     *config.Policy
	rules []*Rule
	all   *matcher // rule i's paths tag 2i, ignore tag 2i+1
	det   *detect.Detector

	codeOwners bool
	teams      []string
}

// Compile prepares a policy for evaluation. The policy must not be changed
// afterwards. It fails when the policy's agent detector cannot be built (a
// policy that config.Parse accepted always compiles; one built in code may
// not); callers then fail closed.
func Compile(p *config.Policy) (*Compiled, error) {
	if p == nil {
		return nil, errors.New("no policy")
	}
	det, err := detect.New(DetectOptions(p.Agents))
	if err != nil {
		return nil, fmt.Errorf("agent detection is unavailable for this policy: %w", err)
	}
	c := &Compiled{p: p, det: det}
	c.rules, c.all = buildRules(p)
	c.codeOwners = p.Review.Agent.Approvers.CodeOwners || p.Review.Human.Approvers.CodeOwners
	add := func(ts []string) {
		for _, t := range ts {
			if t = normTeam(t); t != "" && !containsString(c.teams, t) {
				c.teams = append(c.teams, t)
			}
		}
	}
	add(p.Review.Agent.Approvers.Teams)
	add(p.Review.Human.Approvers.Teams)
	for _, r := range c.rules {
		c.codeOwners = c.codeOwners || r.Approvers.CodeOwners
		add(r.Approvers.Teams)
	}
	add(p.Overrides.Teams)
	return c, nil
}

// Policy returns the policy that was compiled; do not modify it.
func (c *Compiled) Policy() *config.Policy { return c.p }

// Source says where the compiled policy was read from.
func (c *Compiled) Source() config.Source { return c.p.Source }

// Rules returns the effective protected-path rules: one per preset enabled
// by ProtectedPaths.Presets, named after it, with default approvers, then
// the maintainers' rules with their presets' globs merged into Paths and
// Ignore. The rules are shared: do not modify them.
func (c *Compiled) Rules() []*Rule { return c.rules }

// Detector returns the agent detector the policy configures.
func (c *Compiled) Detector() *detect.Detector { return c.det }

// NeedsComments reports whether judging a change needs its issue comments:
// the policy counts `/countersign approve` or lets someone override.
func (c *Compiled) NeedsComments() bool {
	return c.p.Commands.ApproveEnabled() || c.p.Overrides.Allowed()
}

// UsesCodeOwners reports whether any requirement of the policy names code
// owners, so that judging a change needs the base branch's CODEOWNERS.
func (c *Compiled) UsesCodeOwners() bool { return c.codeOwners }

// NamedTeams returns the "org/slug" teams (lower case) the policy names
// anywhere an approver or overrider can come from.
func (c *Compiled) NamedTeams() []string { return append([]string(nil), c.teams...) }

// Teams returns the teams whose members judging a change needs to know: the
// teams the policy names and, when it uses code owners, the teams that
// CODEOWNERS makes owners of the changed files (their paths and previous
// paths). Lower case "org/slug", without duplicates.
func (c *Compiled) Teams(rs codeowners.Ruleset, files []File) []string {
	out := c.NamedTeams()
	if c.codeOwners {
		for _, t := range OwnerTeams(rs, files) {
			if !containsString(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// OwnerTeams returns the "org/slug" teams (lower case) that CODEOWNERS makes
// owners of the given files (their paths and previous paths).
func OwnerTeams(rs codeowners.Ruleset, files []File) []string {
	if rs == nil {
		return nil
	}
	var out []string
	for _, f := range files {
		for _, p := range []string{f.Path, f.PreviousPath} {
			if p == "" {
				continue
			}
			rule, err := rs.Match(p)
			if err != nil || rule == nil {
				continue
			}
			for _, o := range rule.Owners {
				if o.Type != codeowners.TeamOwner {
					continue
				}
				if t := normTeam(o.Value); t != "" && !containsString(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// normTeam lower-cases an "org/slug" team name and drops a leading "@"; it
// returns "" for a name that is not of that form.
func normTeam(t string) string {
	t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "@"))
	org, slug, ok := strings.Cut(t, "/")
	if !ok || org == "" || slug == "" || strings.Contains(slug, "/") {
		return ""
	}
	return t
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
