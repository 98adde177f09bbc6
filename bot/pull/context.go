// Package pull gathers the facts of one pull request for the policy engine,
// in the manner of palantir/policy-bot's pull.Context: every fact is fetched
// lazily, at most once per evaluation, and what cannot change (the policy at
// a base commit, the commits and files of a base/head pair) is cached across
// evaluations.
package pull

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
)

// Listing limits of GitHub's pull-request API.
const (
	// MaxListedFiles is the most files GitHub lists for a pull request.
	MaxListedFiles = 3000
	// MaxListedCommits is the most commits GitHub lists for a pull request.
	MaxListedCommits = 250
)

// PR is what is known of the pull request itself.
type PR struct {
	checks.PullRequest
	// Owner and Repo name the base repository.
	Owner, Repo string
	// State is "open" or "closed"; Merged is true once merged.
	State  string
	Merged bool
	// ChangedFiles and Commits are GitHub's counts, which may exceed what it
	// lists; CountsKnown is false when the source (a review delivery's
	// snapshot) did not carry them.
	ChangedFiles, Commits int
	CountsKnown           bool
	// UpdatedAt is when GitHub last updated the pull request.
	UpdatedAt time.Time
	// CloneURL is the base repository's HTTPS clone URL.
	CloneURL string
}

// FullName returns "owner/repo".
func (p *PR) FullName() string { return p.Owner + "/" + p.Repo }

// Comment is an issue comment on the pull request.
type Comment struct {
	// ID is the comment id.
	ID int64
	// Login and UserType ("User" or "Bot") say who wrote it.
	Login, UserType string
	// Body is the comment text.
	Body string
	// CreatedAt is when it was written.
	CreatedAt time.Time
	// EditedAt is when it was edited after it was written; zero when it never was.
	EditedAt time.Time
}

// EditMarks knows of comment edits that GitHub's timestamps do not show;
// state.EditedComments has this method.
type EditMarks interface {
	// EditedAt returns when repo's comment id was edited, and false when no edit was recorded.
	EditedAt(ctx context.Context, repo string, id int64) (time.Time, bool, error)
}

// Context is the facts of one pull request. Each method fetches lazily and
// memoises its answer (error included) for the life of the Context, which is
// one evaluation: no call is repeated within it.
type Context interface {
	// Repo returns "owner/name" and Number the pull request number.
	Repo() string
	Number() int
	// PR returns the pull request as it is now.
	PR(ctx context.Context) (*PR, error)
	// Files returns every changed file; an *IncompleteError when they cannot all be known.
	Files(ctx context.Context) ([]checks.File, error)
	// Commits returns every commit, oldest first; an *IncompleteError when they cannot all be known.
	Commits(ctx context.Context) ([]detect.Commit, error)
	// CommitFiles returns the paths each of the given commits changed
	// against its first parent, by SHA; a commit left out is unknown.
	CommitFiles(ctx context.Context, shas []string) (map[string][]string, error)
	// Reviews returns the pull request's reviews in submission order.
	Reviews(ctx context.Context) ([]checks.Review, error)
	// Comments returns the pull request's issue comments, oldest first.
	Comments(ctx context.Context) ([]Comment, error)
	// Reviewer returns a login's repository permission and membership of the
	// teams the policy (and, when it uses them, the code owners) name.
	Reviewer(ctx context.Context, login string) (checks.Reviewer, error)
	// Policy returns the policy that governs the pull request: the base
	// branch's file at the branch's current tip (not the pull request's
	// base.sha, which GitHub leaves behind when the branch moves; never the
	// head's), else the owner's .github repository's, else the built-in
	// default. An invalid file gives a *PolicyError.
	Policy(ctx context.Context) (*config.Policy, error)
	// Compiled returns Policy compiled (checks.Compile), which answers what
	// else to fetch; a policy that does not compile gives a *PolicyError.
	Compiled(ctx context.Context) (*checks.Compiled, error)
	// CodeOwners returns the base branch's CODEOWNERS at the same commit as
	// the policy, and its git blob id; nil and checks.NoCodeOwners when
	// there is none, "" for the blob when it is not known.
	CodeOwners(ctx context.Context) (codeowners.Ruleset, string, error)
	// Addresses returns the login GitHub ties each address among the
	// authors and co-authors (Co-authored-by trailers) of the given commits
	// to, keyed by lower-case address (checks.Facts.Addresses). It is
	// asked at most once per evaluation, and only about commits naming an
	// address the other facts leave unmatched.
	Addresses(ctx context.Context, shas []string) (map[string]string, error)
}

// IncompleteError says why the facts cannot all be gathered. The engine
// then fails closed; a partial list is never judged as if it were whole.
type IncompleteError struct {
	// Reason is a sentence fit for the check run.
	Reason string
	// Transient is true when trying again later may succeed.
	Transient bool
}

// Error returns the reason.
func (e *IncompleteError) Error() string { return e.Reason }

// PolicyError is a policy file that cannot be used (policyfile.Error).
type PolicyError = policyfile.Error

// ErrChanged means the pull request moved while it was being read; reading
// it again will see a consistent state.
var ErrChanged = errors.New("the pull request changed while it was being read")

func incompletef(transient bool, format string, args ...any) *IncompleteError {
	return &IncompleteError{Reason: fmt.Sprintf(format, args...), Transient: transient}
}
