// Package config defines Countersign's policy file, `.github/countersign.yml`:
// its schema, strict decoding with positioned errors, the built-in default,
// and the protected-path presets that ship with the binary.
//
// Policy values are plain data. Optional settings are pointers or empty
// slices so that "unset" can be told from "set to the zero value"; the
// getters on each type apply the documented defaults, and they are the only
// place defaults live.
package config

import "strings"

// FileName is the path of the policy file inside a repository.
const FileName = ".github/countersign.yml"

// OrgRepo is the name of the organization repository whose policy file is
// inherited by repositories that have none of their own.
const OrgRepo = ".github"

// Permission levels a reviewer can hold on a repository, lowest first.
const (
	PermissionRead     = "read"
	PermissionTriage   = "triage"
	PermissionWrite    = "write"
	PermissionMaintain = "maintain"
	PermissionAdmin    = "admin"
)

// Values of PathRule.AppliesTo.
const (
	AppliesToAll   = "all"
	AppliesToAgent = "agent"
)

// PresetAll names every built-in preset at once in ProtectedPaths.Presets.
const PresetAll = "all"

// Presets protected whatever protected_paths.presets says.
const (
	// PresetCountersign is the preset of the policy file, which always protects itself.
	PresetCountersign = "countersign"
	// PresetCodeOwners is the preset of CODEOWNERS, always protected when code owners approve.
	PresetCodeOwners = "codeowners"
)

// Policy is the decoded policy file.
type Policy struct {
	// Agents configures agent detection.
	Agents Agents `yaml:"agents" json:"agents"`
	// Review sets how many independent human approvals a change needs.
	Review Review `yaml:"review" json:"review"`
	// ProtectedPaths lists the paths whose changes need an approver from an owning team.
	ProtectedPaths ProtectedPaths `yaml:"protected_paths" json:"protected_paths"`
	// Commands configures `/countersign` comment commands.
	Commands Commands `yaml:"commands" json:"commands"`
	// Overrides names who may override the check.
	Overrides Overrides `yaml:"overrides" json:"overrides"`
	// Landing configures the landing record written on pushes to protected branches.
	Landing Landing `yaml:"landing" json:"landing"`
	// Deployments configures the deploy gate (a custom deployment protection rule).
	Deployments Deployments `yaml:"deployments" json:"deployments"`

	// Source records where the policy was read from; it is not decoded.
	Source Source `yaml:"-" json:"source"`
}

// Source records where a policy came from.
type Source struct {
	// Repo is the repository the file was read from ("owner/name"), empty for local files.
	Repo string `json:"repo,omitempty"`
	// Path is the file path inside the repository or on disk.
	Path string `json:"path,omitempty"`
	// Ref is the branch or revision the file was read at.
	Ref string `json:"ref,omitempty"`
	// SHA is the commit the file was read at, when known.
	SHA string `json:"sha,omitempty"`
	// Blob is the file's git blob id, when known: what a check run's marker
	// records, so that a sweep can tell the file changed since.
	Blob string `json:"-"`
	// Builtin is true when no file was found and the built-in default applies.
	Builtin bool `json:"builtin,omitempty"`
	// Note says, in one sentence, why this source applies when that is not
	// plain (the organization's policy repository could not be seen).
	Note string `json:"note,omitempty"`
}

// String describes the source in words, such as
// "acme/infra:.github/countersign.yml at main", or the built-in default and
// why it applies. The commit is left to the caller.
func (s Source) String() string {
	if s.Builtin {
		if s.Note != "" {
			return "built-in default policy (" + s.Note + ")"
		}
		return "built-in default policy (no " + FileName + " found)"
	}
	if s.Path == "" {
		return "unknown policy source"
	}
	out := s.Path
	if s.Repo != "" {
		out = s.Repo + ":" + out
	}
	if s.Ref != "" {
		out += " at " + s.Ref
	}
	return out
}

// Agents configures agent detection.
type Agents struct {
	// Builtin turns the built-in agent catalogue on or off; default true.
	Builtin *bool `yaml:"builtin" json:"builtin,omitempty"`
	// Disable lists built-in agent ids to switch off, such as "aider".
	Disable []string `yaml:"disable" json:"disable,omitempty"`
	// Custom declares agents of the maintainers' own.
	Custom []AgentDef `yaml:"custom" json:"custom,omitempty"`
	// Automation declares extra automation bots, which are bots but not AI agents.
	Automation []BotDef `yaml:"automation" json:"automation,omitempty"`
	// Disclosure configures how a PR body discloses AI use without trailers.
	Disclosure Disclosure `yaml:"disclosure" json:"disclosure"`
}

// BuiltinEnabled reports whether the built-in agent catalogue is on.
func (a Agents) BuiltinEnabled() bool { return a.Builtin == nil || *a.Builtin }

// Disclosure configures PR-body AI disclosures: a disclosure line such as
// "AI disclosure: …" or a ticked checkbox such as "- [x] AI was used". An
// unticked box never counts.
type Disclosure struct {
	// Builtin turns the built-in disclosure patterns on or off; default true.
	Builtin *bool `yaml:"builtin" json:"builtin,omitempty"`
	// Lines are regular expressions matched against each whole PR-body line.
	Lines []string `yaml:"lines" json:"lines,omitempty"`
	// Checkboxes are regular expressions matched against a ticked checkbox's label.
	Checkboxes []string `yaml:"checkboxes" json:"checkboxes,omitempty"`
}

// BuiltinEnabled reports whether the built-in disclosure patterns are on.
func (d Disclosure) BuiltinEnabled() bool { return d.Builtin == nil || *d.Builtin }

// AgentDef is an agent declared in the policy file. Every list is optional but
// at least one fingerprint must be given.
type AgentDef struct {
	// ID is the stable agent id, lower case, such as "acme-agent".
	ID string `yaml:"id" json:"id"`
	// Name is the display name; defaults to the id.
	Name string `yaml:"name" json:"name,omitempty"`
	// Logins are GitHub logins the agent acts as, matched case-insensitively.
	Logins []string `yaml:"logins" json:"logins,omitempty"`
	// Emails are commit author, committer or co-author addresses; `*` is a wildcard.
	Emails []string `yaml:"emails" json:"emails,omitempty"`
	// Trailers are regular expressions matched against whole trailer lines ("Key: value").
	Trailers []string `yaml:"trailers" json:"trailers,omitempty"`
	// Branches are regular expressions matched against the whole head branch name.
	Branches []string `yaml:"branches" json:"branches,omitempty"`
	// Markers are literal strings that mark a PR body or commit message as the agent's when they stand on a line of their own.
	Markers []string `yaml:"markers" json:"markers,omitempty"`
}

// DisplayName returns Name, or the ID when no name is set.
func (d AgentDef) DisplayName() string {
	if d.Name != "" {
		return d.Name
	}
	return d.ID
}

// BotDef declares an automation bot: a bot that is not an AI agent.
type BotDef struct {
	// ID is the stable bot id, such as "release-robot".
	ID string `yaml:"id" json:"id"`
	// Logins are GitHub logins the bot acts as.
	Logins []string `yaml:"logins" json:"logins,omitempty"`
	// Emails are commit addresses the bot uses; `*` is a wildcard.
	Emails []string `yaml:"emails" json:"emails,omitempty"`
}

// Review sets the independent-review requirements.
type Review struct {
	// Agent is the requirement for agent-authored changes; default 1 approval with write permission.
	Agent Requirement `yaml:"agent" json:"agent"`
	// Human is the requirement for human changes; default 0 approvals.
	Human Requirement `yaml:"human" json:"human"`
	// DismissStale makes a new push void earlier approvals; default true.
	DismissStale *bool `yaml:"dismiss_stale" json:"dismiss_stale,omitempty"`
}

// DismissStaleApprovals reports whether only approvals of the current head count.
func (r Review) DismissStaleApprovals() bool { return r.DismissStale == nil || *r.DismissStale }

// AgentApprovals returns the approvals an agent-authored change needs.
func (r Review) AgentApprovals() int { return r.Agent.ApprovalsOr(1) }

// HumanApprovals returns the approvals a human change needs.
func (r Review) HumanApprovals() int { return r.Human.ApprovalsOr(0) }

// Requirement says how many approvals are needed and who may give them.
type Requirement struct {
	// Approvals is the number of independent approvals needed.
	Approvals *int `yaml:"approvals" json:"approvals,omitempty"`
	// Approvers restricts who counts; by default anyone with write permission.
	Approvers Approvers `yaml:"approvers" json:"approvers"`
}

// ApprovalsOr returns Approvals, or def when it is unset.
func (r Requirement) ApprovalsOr(def int) int {
	if r.Approvals == nil {
		return def
	}
	return *r.Approvals
}

// Approvers names who may approve. A reviewer is eligible when they hold
// Permission (default write) and, if any teams, users or code owners are named,
// also belong to one of them.
type Approvers struct {
	// Teams are "org/slug" team names.
	Teams []string `yaml:"teams" json:"teams,omitempty"`
	// Users are GitHub logins.
	Users []string `yaml:"users" json:"users,omitempty"`
	// CodeOwners adds the CODEOWNERS owners (on the base branch) of the matched files.
	CodeOwners bool `yaml:"codeowners" json:"codeowners,omitempty"`
	// Permission is the minimum repository permission; default write.
	Permission string `yaml:"permission" json:"permission,omitempty"`
}

// MinPermission returns the minimum repository permission an approver needs.
func (a Approvers) MinPermission() string {
	if a.Permission == "" {
		return PermissionWrite
	}
	return a.Permission
}

// Restricted reports whether only named teams, users or code owners count.
func (a Approvers) Restricted() bool {
	return len(a.Teams) > 0 || len(a.Users) > 0 || a.CodeOwners
}

// ProtectedPaths lists presets and rules for protected paths.
type ProtectedPaths struct {
	// Presets names built-in presets that apply as rules with default approvers;
	// unset means every preset ("all"), an empty list means none.
	Presets []string `yaml:"presets" json:"presets"`
	// Rules are the maintainers' own protected-path rules.
	Rules []PathRule `yaml:"rules" json:"rules,omitempty"`
}

// PathRule protects a set of paths.
type PathRule struct {
	// Name identifies the rule in verdicts; required.
	Name string `yaml:"name" json:"name"`
	// Presets adds the globs of these built-in presets to Paths.
	Presets []string `yaml:"presets" json:"presets,omitempty"`
	// Paths are globs with `**`; a glob without a slash matches a base name at any depth.
	Paths []string `yaml:"paths" json:"paths,omitempty"`
	// Ignore are globs of paths the rule leaves alone.
	Ignore []string `yaml:"ignore" json:"ignore,omitempty"`
	// AppliesTo is "all" (every change, the default) or "agent" (agent-authored changes only).
	AppliesTo string `yaml:"applies_to" json:"applies_to,omitempty"`
	// Approvals is the number of approvals needed; default 1.
	Approvals *int `yaml:"approvals" json:"approvals,omitempty"`
	// DeletionApprovals is the number of extra approvals needed when a matched file is deleted or renamed away; default 0.
	DeletionApprovals *int `yaml:"deletion_approvals" json:"deletion_approvals,omitempty"`
	// Approvers names who may approve; by default anyone with write permission.
	Approvers Approvers `yaml:"approvers" json:"approvers"`
}

// Scope returns AppliesTo with its default applied.
func (r PathRule) Scope() string {
	if r.AppliesTo == "" {
		return AppliesToAll
	}
	return r.AppliesTo
}

// NeededApprovals returns the approvals the rule needs, with default 1.
func (r PathRule) NeededApprovals() int {
	if r.Approvals == nil {
		return 1
	}
	return *r.Approvals
}

// ExtraDeletionApprovals returns the extra approvals a deletion needs, with default 0.
func (r PathRule) ExtraDeletionApprovals() int {
	if r.DeletionApprovals == nil {
		return 0
	}
	return *r.DeletionApprovals
}

// Commands configures `/countersign` comment commands.
type Commands struct {
	// Approve makes `/countersign approve` comments count as approvals; default false.
	Approve *bool `yaml:"approve" json:"approve,omitempty"`
}

// ApproveEnabled reports whether `/countersign approve` counts as an approval.
func (c Commands) ApproveEnabled() bool { return c.Approve != nil && *c.Approve }

// Overrides names who may override the check with `/countersign override <reason>`.
type Overrides struct {
	// Teams are "org/slug" team names.
	Teams []string `yaml:"teams" json:"teams,omitempty"`
	// Users are GitHub logins.
	Users []string `yaml:"users" json:"users,omitempty"`
}

// Allowed reports whether anyone at all may override.
func (o Overrides) Allowed() bool { return len(o.Teams) > 0 || len(o.Users) > 0 }

// SameLogin reports whether two GitHub logins are the same account name;
// GitHub logins are case-insensitive.
func SameLogin(a, b string) bool { return a != "" && strings.EqualFold(a, b) }

// PermissionRank orders permission levels: read 1 … admin 5; unknown 0.
func PermissionRank(p string) int {
	switch strings.ToLower(p) {
	case PermissionRead, "pull":
		return 1
	case PermissionTriage:
		return 2
	case PermissionWrite, "push":
		return 3
	case PermissionMaintain:
		return 4
	case PermissionAdmin:
		return 5
	}
	return 0
}

// Values of Landing.Alert.
const (
	AlertIssue = "issue"
	AlertNone  = "none"
)

// Landing configures the `countersign/landing` record of what reached a
// protected branch.
type Landing struct {
	// Branches are globs of branch names protected besides the default
	// branch, such as "release/*"; `*` does not cross a slash, `**` does.
	Branches []string `yaml:"branches" json:"branches,omitempty"`
	// Alert is "issue" (the default: open a `countersign:bypass` issue for a
	// change that landed without countersignature) or "none".
	Alert string `yaml:"alert" json:"alert,omitempty"`
}

// AlertMode returns Alert with its default, "issue", applied.
func (l Landing) AlertMode() string {
	if l.Alert == "" {
		return AlertIssue
	}
	return l.Alert
}

// Deployments configures which deployment environments the deploy gate judges.
type Deployments struct {
	// Environments are globs of environment names the gate judges; others
	// are approved with a comment saying so. Empty: the gate judges none.
	Environments []string `yaml:"environments" json:"environments,omitempty"`
}
