package config

import (
	"fmt"
	"github.com/bmatcuk/doublestar/v4"
	"regexp"
	"slices"
	"strings"

	"github.com/countersign/countersign/checks/detect"
)

var (
	// loginRe is a GitHub login: letters, digits and hyphens, not starting
	// with a hyphen, at most 39 characters; apps end in "[bot]".
	loginRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$`)
	// teamRe is "org/team-slug".
	teamRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// idRe is an agent or automation id.
	idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// presetAliases maps names people reach for to the preset they mean.
var presetAliases = map[string]string{
	"k8s": "kubernetes", "tf": "terraform", "opentofu": "terraform", "tofu": "terraform", "terragrunt": "terraform",
	"actions": "github-actions", "workflows": "github-actions", "gha": "github-actions",
	"compose": "docker", "docker-compose": "docker", "dockerfile": "docker", "containers": "docker",
	"cfn": "cloudformation", "sam": "cloudformation", "database": "migrations", "db": "migrations",
	"gitlab": "ci", "jenkins": "ci", "circleci": "ci", "codeowner": "codeowners",
}

var permissions = []string{PermissionRead, PermissionTriage, PermissionWrite, PermissionMaintain, PermissionAdmin}

// validate checks what the types cannot say: formats, references and
// required combinations.
func (d *decoder) validate(p *Policy) {
	d.validateAgents(&p.Agents)
	d.validateRequirement(&p.Review.Agent, "review.agent")
	d.validateRequirement(&p.Review.Human, "review.human")
	d.validatePaths(&p.ProtectedPaths)
	d.validateTeams(p.Overrides.Teams, "overrides.teams")
	d.validateLogins(p.Overrides.Users, "overrides.users")
	d.validateNameGlobs(p.Landing.Branches, "landing.branches", "branch")
	switch p.Landing.Alert {
	case "", AlertIssue, AlertNone:
	default:
		d.errorPath("landing.alert", "unknown alert %q; use %q or %q", p.Landing.Alert, AlertIssue, AlertNone)
	}
	d.validateNameGlobs(p.Deployments.Environments, "deployments.environments", "environment")
}

// validateNameGlobs checks globs of branch or environment names.
func (d *decoder) validateNameGlobs(globs []string, path, what string) {
	for i, g := range globs {
		at := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case strings.TrimSpace(g) == "":
			d.errorPath(at, "empty %s glob", what)
		case what == "branch" && strings.HasPrefix(g, "refs/"):
			d.errorPath(at, "branch glob %q names a ref; write the branch name alone, such as %q", g, strings.TrimPrefix(g, "refs/heads/"))
		case !doublestar.ValidatePattern(g):
			d.errorPath(at, "invalid %s glob %q: unbalanced [ ] or { }, or a trailing \\", what, g)
		}
	}
}

func (d *decoder) validateAgents(a *Agents) {
	for i, id := range a.Disable {
		path := fmt.Sprintf("agents.disable[%d]", i)
		if !detect.Known(id) {
			d.errorPath(path, "%q is not a built-in agent%s", id, knownAgentsHint(id))
		}
	}
	ids := map[string]string{}
	for i, c := range a.Custom {
		path := fmt.Sprintf("agents.custom[%d]", i)
		d.validateID(c.ID, path, ids)
		if c.ID != "" && detect.Known(c.ID) {
			d.errorPath(path+".id", "%q is the id of a built-in agent; choose another id (to replace the built-in one, also list it under agents.disable)", c.ID)
		}
		if len(c.Logins)+len(c.Emails)+len(c.Trailers)+len(c.Branches)+len(c.Markers) == 0 {
			d.errorPath(path, "agent %q has no fingerprint; give at least one of logins, emails, trailers, branches or markers", c.ID)
		}
		d.validateLogins(c.Logins, path+".logins")
		d.validateEmails(c.Emails, path+".emails")
		d.validateRegexps(c.Trailers, path+".trailers")
		d.validateRegexps(c.Branches, path+".branches")
		for j, m := range c.Markers {
			if strings.TrimSpace(m) == "" || strings.ContainsAny(m, "\r\n") {
				d.errorPath(fmt.Sprintf("%s.markers[%d]", path, j), "a marker must be one non-empty line")
			}
		}
	}
	d.validateRegexps(a.Disclosure.Lines, "agents.disclosure.lines")
	d.validateRegexps(a.Disclosure.Checkboxes, "agents.disclosure.checkboxes")
	for i, b := range a.Automation {
		path := fmt.Sprintf("agents.automation[%d]", i)
		d.validateID(b.ID, path, ids)
		if len(b.Logins)+len(b.Emails) == 0 {
			d.errorPath(path, "automation bot %q has no fingerprint; give logins or emails", b.ID)
		}
		d.validateLogins(b.Logins, path+".logins")
		d.validateEmails(b.Emails, path+".emails")
	}
}

func knownAgentsHint(id string) string {
	var ids []string
	for _, a := range detect.Catalogue() {
		ids = append(ids, a.ID)
	}
	if len(ids) == 0 {
		return ""
	}
	for _, known := range ids {
		if strings.HasPrefix(known, strings.ToLower(id)+"-") {
			return fmt.Sprintf("; did you mean %q?", known)
		}
	}
	if s := suggest(id, ids); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return "; built-in agents are " + strings.Join(ids, ", ")
}

func (d *decoder) validateID(id, path string, seen map[string]string) {
	switch {
	case id == "":
		d.errorPath(path, "missing id")
	case !idRe.MatchString(id):
		d.errorPath(path+".id", "id %q must be lower-case letters, digits, '.', '_' or '-', such as \"acme-agent\"", id)
	case seen[id] != "":
		d.errorPath(path+".id", "id %q is already used by %s", id, seen[id])
	default:
		seen[id] = path
	}
}

func (d *decoder) validateLogins(logins []string, path string) {
	for i, l := range logins {
		if !loginRe.MatchString(l) {
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "%q is not a GitHub login (letters, digits and hyphens, at most 39, optionally ending in [bot]; no @)", l)
		}
	}
}

func (d *decoder) validateTeams(teams []string, path string) {
	for i, t := range teams {
		if !teamRe.MatchString(t) {
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "%q is not a team; write it as org/team-slug, such as \"acme/platform\"", t)
		}
	}
}

func (d *decoder) validateEmails(emails []string, path string) {
	for i, e := range emails {
		if strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n<>") {
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "%q is not an address; write name@host, with * as a wildcard (\"*@agent.example.com\")", e)
		}
	}
}

func (d *decoder) validateRegexps(res []string, path string) {
	for i, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "invalid regular expression %q: %s", re, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
}

func (d *decoder) validateRequirement(r *Requirement, path string) {
	d.validateCount(r.Approvals, path+".approvals")
	d.validateApprovers(&r.Approvers, path+".approvers")
}

func (d *decoder) validateCount(n *int, path string) {
	if n != nil && *n < 0 {
		d.errorPath(path, "must be 0 or more, got %d", *n)
	}
}

func (d *decoder) validateApprovers(a *Approvers, path string) {
	d.validateTeams(a.Teams, path+".teams")
	d.validateLogins(a.Users, path+".users")
	if a.Permission != "" && !slices.Contains(permissions, a.Permission) {
		d.errorPath(path+".permission", "unknown permission %q; use one of %s", a.Permission, strings.Join(permissions, ", "))
	}
}

func (d *decoder) validatePresetNames(names []string, path string) {
	for i, n := range names {
		if _, ok := LookupPreset(n); !ok && n != PresetAll {
			msg := fmt.Sprintf("unknown preset %q", n)
			if s, ok := presetAliases[strings.ToLower(n)]; ok {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if s := suggest(n, PresetNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "%s; presets are %s, or %s for every one", msg, strings.Join(PresetNames(), ", "), PresetAll)
		}
	}
}

func (d *decoder) validateGlobs(globs []string, path string) {
	for i, g := range globs {
		if err := CheckGlob(g); err != nil {
			d.errorPath(fmt.Sprintf("%s[%d]", path, i), "%s", err)
		}
	}
}

func (d *decoder) validatePaths(pp *ProtectedPaths) {
	d.validatePresetNames(pp.Presets, "protected_paths.presets")
	enabled := pp.EnabledPresets()
	names := map[string]int{}
	for i := range pp.Rules {
		r := &pp.Rules[i]
		path := fmt.Sprintf("protected_paths.rules[%d]", i)
		switch first, dup := names[r.Name]; {
		case strings.TrimSpace(r.Name) == "":
			d.errorPath(path+".name", "every rule needs a name; it identifies the rule in check results")
		case dup:
			d.errorPath(path+".name", "duplicate rule name %q (also protected_paths.rules[%d]); rule names must be unique", r.Name, first)
		case slices.Contains(enabled, r.Name):
			d.errorPath(path+".name", "rule name %q is taken by the %s preset, which protected_paths.presets enables as a rule of its own; choose another name", r.Name, r.Name)
		default:
			names[r.Name] = i
		}
		d.validatePresetNames(r.Presets, path+".presets")
		d.validateGlobs(r.Paths, path+".paths")
		d.validateGlobs(r.Ignore, path+".ignore")
		if len(r.Paths) == 0 && len(r.Presets) == 0 {
			d.errorPath(path, "rule %q protects nothing; give paths, presets or both", r.Name)
		}
		if r.AppliesTo != "" && r.AppliesTo != AppliesToAll && r.AppliesTo != AppliesToAgent {
			d.errorPath(path+".applies_to", "unknown value %q; use %q (every change) or %q (agent-authored changes only)", r.AppliesTo, AppliesToAll, AppliesToAgent)
		}
		d.validateCount(r.Approvals, path+".approvals")
		d.validateCount(r.DeletionApprovals, path+".deletion_approvals")
		d.validateApprovers(&r.Approvers, path+".approvers")
	}
}
