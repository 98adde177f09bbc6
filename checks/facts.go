// Package checks is Countersign's policy engine: a pure function from a
// policy and the facts of a pull request to a verdict. It does no I/O; the
// GitHub server, the go-git commands and the simulator only gather facts for
// it and publish what it returns.
package checks

import (
	"time"

	"github.com/countersign/countersign/checks/detect"
	"github.com/hmarr/codeowners"
)

// File statuses, as GitHub's pull-request files API names them.
const (
	StatusAdded     = "added"
	StatusModified  = "modified"
	StatusRemoved   = "removed"
	StatusRenamed   = "renamed"
	StatusCopied    = "copied"
	StatusChanged   = "changed"
	StatusUnchanged = "unchanged"
)

// Review states, as GitHub's REST API writes them (upper case).
const (
	ReviewApproved         = "APPROVED"
	ReviewChangesRequested = "CHANGES_REQUESTED"
	ReviewCommented        = "COMMENTED"
	ReviewDismissed        = "DISMISSED"
	ReviewPending          = "PENDING"
)

// Sources of an approval.
const (
	SourceReview  = "review"  // a pull-request review
	SourceComment = "comment" // a `/countersign approve` comment
)

// Facts is everything the engine knows of one pull request at one head.
type Facts struct {
	// Repo is "owner/name".
	Repo string `json:"repo"`
	// PR is the pull request.
	PR PullRequest `json:"pr"`
	// Commits are the PR's commits, oldest first.
	Commits []detect.Commit `json:"commits"`
	// Files are the changed files between the merge base and the head.
	Files []File `json:"files"`
	// Reviews are the PR's reviews and comment approvals, in submission order.
	Reviews []Review `json:"reviews,omitempty"`
	// Reviewers holds the permission and team memberships of each login that
	// reviewed, approved, commented a command or overrode, keyed by lower-case login.
	Reviewers map[string]Reviewer `json:"reviewers,omitempty"`
	// Overrides are `/countersign override` commands, in order.
	Overrides []Override `json:"overrides,omitempty"`
	// CodeOwners is the base branch's CODEOWNERS, parsed; nil when there is none.
	CodeOwners codeowners.Ruleset `json:"-"`
	// CodeOwnersBlob is the git blob id of the CODEOWNERS file read,
	// NoCodeOwners when there was none, "" when not known.
	CodeOwnersBlob string `json:"-"`
	// CommitFiles holds, for the commits Compiled.CommitFilesNeeded asked
	// for, the paths each changed against its first parent (both paths of a
	// rename), keyed by SHA; nil when none were gathered.
	CommitFiles map[string][]string `json:"commit_files,omitempty"`
	// Incomplete, when not empty, says why the facts could not all be gathered;
	// the engine then fails closed.
	Incomplete string `json:"incomplete,omitempty"`
	// Local is true when the facts come from a local clone, which has no reviews.
	Local bool `json:"local,omitempty"`
	// Addresses maps lower-case e-mail addresses to the GitHub login GitHub
	// ties each to (GraphQL Commit.authors' user), for the addresses the
	// other facts left unmatched; nil when nobody asked GitHub.
	Addresses map[string]string `json:"addresses,omitempty"`
}

// PullRequest is the pull request part of the facts.
type PullRequest struct {
	detect.PullRequest
	// HeadSHA is the commit the verdict is for.
	HeadSHA string `json:"head_sha"`
	// BaseRef and BaseSHA are the base branch and the commit it pointed at.
	BaseRef string `json:"base_ref"`
	BaseSHA string `json:"base_sha"`
	// BaseChangedAt is when the pull request's base last changed to BaseRef
	// (it was retargeted), as Countersign knows it; zero when it never
	// changed. An approval or override made at or before it judged another
	// diff and is stale.
	BaseChangedAt time.Time `json:"base_changed_at,omitzero"`
	// Draft is true for a draft PR.
	Draft bool `json:"draft,omitempty"`
	// URL is the PR's web address, when known.
	URL string `json:"url,omitempty"`
}

// File is a changed file.
type File struct {
	// Path is the file's path at the head (for a removed file, its old path).
	Path string `json:"path"`
	// PreviousPath is the path before a rename or copy.
	PreviousPath string `json:"previous_path,omitempty"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Additions and Deletions count changed lines.
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
}

// Review is a review or a comment approval.
type Review struct {
	// ID is the review or comment id.
	ID int64 `json:"id"`
	// Login is the reviewer.
	Login string `json:"login"`
	// UserType is "User" or "Bot".
	UserType string `json:"user_type"`
	// State is one of the Review* constants.
	State string `json:"state"`
	// CommitSHA is the commit the review was made on.
	CommitSHA string `json:"commit_sha"`
	// SubmittedAt is when the review was submitted.
	SubmittedAt time.Time `json:"submitted_at"`
	// Source is SourceReview or SourceComment.
	Source string `json:"source"`
	// EditedAt, for a comment approval, is when the comment was last edited
	// after it was written; zero when it never was. The engine decides what
	// an edited approval means (it does not count).
	EditedAt time.Time `json:"edited_at,omitzero"`
}

// Reviewer is what is known of a reviewer's standing in the repository.
type Reviewer struct {
	// Login is the reviewer's login.
	Login string `json:"login"`
	// Permission is their repository permission (read, triage, write, maintain, admin).
	Permission string `json:"permission"`
	// Teams are the "org/slug" teams they belong to, lower case.
	Teams []string `json:"teams,omitempty"`
	// Type is "User" or "Bot".
	Type string `json:"type,omitempty"`
}

// Override is a `/countersign override <reason>` command.
type Override struct {
	// ID is the comment id.
	ID int64 `json:"id"`
	// Login is who asked for the override.
	Login string `json:"login"`
	// UserType is "User" or "Bot".
	UserType string `json:"user_type"`
	// Reason is the text after the command.
	Reason string `json:"reason"`
	// CommitSHA is the head when the override was made.
	CommitSHA string `json:"commit_sha"`
	// At is when it was made.
	At time.Time `json:"at"`
	// EditedAt is when the comment was last edited after it was written;
	// zero when it never was. An edited override is not in force.
	EditedAt time.Time `json:"edited_at,omitzero"`
}
