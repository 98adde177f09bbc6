package checks

import (
	"strings"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// CheckName is the name of the check run Countersign publishes. Users put it
// into branch protection, so it never changes.
const CheckName = "countersign"

// Conclusion is a verdict's outcome, named as GitHub's check-run conclusions.
// Countersign never concludes neutral or skipped: GitHub treats those as passing.
type Conclusion string

// Conclusions the engine gives.
const (
	// Success: nothing is missing, the change may merge.
	Success Conclusion = "success"
	// ActionRequired: approvals are missing or changes were requested.
	ActionRequired Conclusion = "action_required"
	// Failure: the policy is invalid, the facts are incomplete, or a disqualifying state holds.
	Failure Conclusion = "failure"
)

// Exclusion reasons: why a review did not count.
const (
	ExcludedBot         = "bot"                     // reviewer is a bot
	ExcludedAIReview    = "ai_review"               // reviewer is an AI code reviewer (Copilot code review, CodeRabbit, …)
	ExcludedAuthor      = "pr_author"               // reviewer opened the PR
	ExcludedCommitter   = "commit_author"           // reviewer wrote commits in the PR
	ExcludedOperator    = "operator"                // reviewer delegated the work to the agent
	ExcludedStale       = "stale"                   // approval of an earlier head
	ExcludedPermission  = "insufficient_permission" // permission below the minimum
	ExcludedNotMember   = "not_eligible"            // not in the named teams, users or code owners
	ExcludedUnknown     = "unknown_reviewer"        // permission could not be established
	ExcludedSuperseded  = "superseded"              // a later review by the same reviewer replaced it
	ExcludedCommentOff  = "comment_approvals_off"   // `/countersign approve` is not enabled
	ExcludedNoReason    = "override_without_reason" // override with no reason
	ExcludedNotAllowed  = "override_not_allowed"    // override by someone not allowed
	ExcludedDismissed   = "dismissed"               // the review was dismissed
	ExcludedEdited      = "edited"                  // the command's comment was edited after it was written
	ExcludedUnconfirmed = "override_unconfirmed"    // an override waiting for more people while someone who took part is unresolved
)

// Verdict is the engine's answer for one pull request at one head.
type Verdict struct {
	// Conclusion is success, action_required or failure.
	Conclusion Conclusion `json:"conclusion"`
	// Title is one line saying what is missing, or that nothing is.
	Title string `json:"title"`
	// Repo, PR number and HeadSHA identify what was judged.
	Repo    string `json:"repo,omitempty"`
	Number  int    `json:"number,omitempty"`
	HeadSHA string `json:"head_sha,omitempty"`
	// AgentAuthored is true when the PR or any of its commits was written by an agent.
	AgentAuthored bool `json:"agent_authored"`
	// Agents lists the agent ids found, sorted.
	Agents []string `json:"agents"`
	// PR is the detection on the pull request itself.
	PR *detect.Detection `json:"pr,omitempty"`
	// Commits is the detection on each commit, in the facts' order.
	Commits []CommitVerdict `json:"commits"`
	// Operators are the humans who delegated the work, who cannot approve it.
	Operators []detect.Identity `json:"operators,omitempty"`
	// UnresolvedOperators are the operators known only by address or name
	// that no GitHub account could be matched to; each one asks every
	// requirement for one more independent approval.
	UnresolvedOperators []detect.Identity `json:"unresolved_operators,omitempty"`
	// UnresolvedAuthors are the authors and committers of human and
	// automation commits known only by an address no GitHub account could
	// be matched to (not judged on a local clone); each one asks every
	// requirement for one more independent approval.
	UnresolvedAuthors []detect.Identity `json:"unresolved_authors,omitempty"`
	// ProtectedFiles are the changed files that matched a protected-path rule.
	ProtectedFiles []ProtectedFile `json:"protected_files"`
	// Requirements are the approvals the change needs, met or not.
	Requirements []Requirement `json:"requirements"`
	// Blocking are standing "changes requested" reviews from eligible reviewers.
	Blocking []Block `json:"blocking,omitempty"`
	// Excluded lists every review or command that did not count, and why.
	Excluded []Exclusion `json:"excluded,omitempty"`
	// Override is the override in force, if any.
	Override *Override `json:"override,omitempty"`
	// OverriddenBy lists, sorted, everyone whose override is part of the
	// one in force: one login, or more while someone who took part is
	// unresolved (an override then needs one more person per unresolved one).
	OverriddenBy []string `json:"overridden_by,omitempty"`
	// Policy says which policy applied.
	Policy config.Source `json:"policy"`
	// CodeOwners says which CODEOWNERS file the verdict read when the policy
	// has code owners approve: its blob id, NoCodeOwners when there was
	// none, UnknownCodeOwners when the facts do not say; "" when the policy
	// does not use code owners. The check run's marker records it.
	CodeOwners string `json:"-"`
	// Errors explains a failure: an invalid policy or incomplete facts.
	Errors []string `json:"errors,omitempty"`
	// Incomplete is true when the facts could not all be gathered, so the
	// verdict is a failure to be tried again, not a judgment.
	Incomplete bool `json:"-"`
	// Local is true for a verdict on a local clone, where reviews are unknown.
	Local bool `json:"local,omitempty"`
}

// CommitVerdict is the authorship of one commit.
type CommitVerdict struct {
	// SHA is the commit id.
	SHA string `json:"sha"`
	// Subject is the first line of the message.
	Subject string `json:"subject,omitempty"`
	// Agent is the agent id, or nil for a commit no agent wrote.
	Agent *string `json:"agent"`
	// Automation is the automation bot id if a bot wrote it, else "". It is
	// always present in the JSON, as the documented verdict format lists it.
	Automation string `json:"automation"`
	// Signals are the detection signals.
	Signals []detect.Signal `json:"signals"`
	// Operator is the human who delegated the commit, if known.
	Operator *detect.Identity `json:"operator"`
}

// ProtectedFile is a changed file matched by a protected-path rule.
type ProtectedFile struct {
	// Path is the file's path; PreviousPath is set for a rename.
	Path         string `json:"path"`
	PreviousPath string `json:"previous_path,omitempty"`
	// Status is the file's change status.
	Status string `json:"status"`
	// Rule is the name of the rule that matched.
	Rule string `json:"rule"`
	// Deleted is true when the file was deleted or renamed out of the rule's paths.
	Deleted bool `json:"deleted,omitempty"`
	// Agents names the agents whose commits changed the file, when known;
	// empty when only commits no agent wrote changed it.
	Agents []string `json:"agents,omitempty"`
}

// Requirement is one approval requirement with its state.
type Requirement struct {
	// Name identifies it: "agent-review", "human-review" or "path:<rule>".
	Name string `json:"name"`
	// Reason says why it applies, such as "infra/main.tf changed by Claude Code".
	Reason string `json:"reason"`
	// Needed and Have count approvals.
	Needed int `json:"needed"`
	Have   int `json:"have"`
	// Met is true when Have >= Needed.
	Met bool `json:"met"`
	// SatisfiedBy are the logins whose approvals counted.
	SatisfiedBy []string `json:"satisfied_by,omitempty"`
	// Eligible describes who could approve: teams, users, code owners and the minimum permission.
	Eligible Eligibility `json:"eligible"`
	// Files are the protected files behind a path requirement (possibly shortened).
	Files []string `json:"files,omitempty"`
	// Uncovered are the files of a code-owner requirement that none of their owners has approved yet.
	Uncovered []string `json:"uncovered,omitempty"`
}

// Eligibility describes who can satisfy a requirement.
type Eligibility struct {
	// Teams are "org/slug" teams.
	Teams []string `json:"teams,omitempty"`
	// Users are logins.
	Users []string `json:"users,omitempty"`
	// CodeOwners are the code owners of the files ("@org/team" or "@user"), when the rule uses them.
	CodeOwners []string `json:"codeowners,omitempty"`
	// Permission is the minimum repository permission.
	Permission string `json:"permission"`
}

// String says who can approve in words, such as "@acme/sre with write
// permission" or "anyone with write permission".
func (el Eligibility) String() string {
	var names []string
	for _, t := range el.Teams {
		names = append(names, "@"+t)
	}
	for _, u := range el.Users {
		names = append(names, "@"+u)
	}
	if len(el.CodeOwners) > 0 {
		names = append(names, "code owners ("+strings.Join(el.CodeOwners, ", ")+")")
	}
	perm := el.Permission
	if perm == "" {
		perm = config.PermissionWrite
	}
	if len(names) == 0 {
		return "anyone with " + perm + " permission"
	}
	return strings.Join(names, ", ") + " with " + perm + " permission"
}

// Block is a standing "changes requested" review.
type Block struct {
	// Login is the reviewer; ReviewID the review.
	Login    string `json:"login"`
	ReviewID int64  `json:"review_id"`
}

// Exclusion is a review or command that did not count.
type Exclusion struct {
	// Login is who gave it.
	Login string `json:"login"`
	// ID is the review or comment id.
	ID int64 `json:"id,omitempty"`
	// Source is SourceReview, SourceComment, or "override".
	Source string `json:"source"`
	// Reason is one of the Excluded* constants.
	Reason string `json:"reason"`
	// Detail explains it in words, such as "approved 1a2b3c4, head is 5d6e7f8".
	Detail string `json:"detail,omitempty"`
}
