package server

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Job asks for one pull request to be evaluated at its current state.
type Job struct {
	// Installation is the GitHub App installation id the event came from.
	Installation int64
	// Owner and Repo name the repository.
	Owner, Repo string
	// Number is the pull request number.
	Number int
	// HeadSHA is the head the triggering event saw; the backend re-reads the
	// PR and judges its current head, so this is advisory.
	HeadSHA string
	// Reason says what triggered the evaluation, such as "pull_request.synchronize".
	Reason string
	// DeliveryID is the X-GitHub-Delivery of the triggering webhook, for logs.
	DeliveryID string
	// Snapshot is the pull request as the triggering delivery carried it. The
	// intake sets it only when the delivery is the newest seen for the pull
	// request and happened after this process started (never for a delivery
	// it redelivered itself), so the backend may use it instead of reading
	// the pull request again; nil means read it.
	Snapshot *github.PullRequest
}

// Key identifies the pull request a job is for; jobs with the same key are
// serialized and coalesced.
func (j Job) Key() string {
	return j.Owner + "/" + j.Repo + "#" + strconv.Itoa(j.Number)
}

// ErrEvaluateAgain, wrapped in the error Evaluate returns, says the check
// run may show a verdict older than the newest facts (its write may have
// landed after a newer evaluation's): the queue then runs a new evaluation
// of the pull request, from fresh facts, which no work queued before it
// supersedes.
var ErrEvaluateAgain = errors.New("the check run may show an older verdict; evaluating again")

// Backend is what the server needs from GitHub: evaluating a pull request and
// publishing its check run, and listing what an installation-wide event
// covers. The evaluator package implements it against GitHub (or the simulator).
type Backend interface {
	// Evaluate gathers the facts of the job's pull request, runs the policy
	// engine and publishes the countersign check run. A returned error means
	// the verdict could not be published as computed; the backend has already
	// written a failing (never passing) check when it could.
	Evaluate(ctx context.Context, job Job) error
	// OpenPullRequests lists a repository's open pull requests as jobs.
	OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]Job, error)
	// InstallationRepos lists the "owner/name" repositories an installation covers.
	InstallationRepos(ctx context.Context, installation int64) ([]string, error)
}

// MoveRecorder is implemented by a Backend that binds approvals and comment
// commands to the head and the base they were given for. The intake calls
// RecordMove, before answering 202, for every accepted delivery that moves a
// pull request to a head (pull_request opened, synchronize, reopened), and
// RecordBaseMove for every one that sets its base (pull_request opened, and
// edited with changes.base: a retarget), with the later of the delivery's
// receipt and the pull request's updated_at it carries; an error refuses
// the delivery with 503, so GitHub records it as failed.
type MoveRecorder interface {
	// RecordMove records that repo ("owner/name")'s pull request number
	// moved to head no later than at.
	RecordMove(ctx context.Context, repo string, number int, head string, at time.Time) error
	// RecordBaseMove records that repo ("owner/name")'s pull request number
	// has base as its base branch since at; a zero at means it was opened with it.
	RecordBaseMove(ctx context.Context, repo string, number int, base string, at time.Time) error
}

// Standing is a change of people's standing on GitHub: a repository
// permission, a team's members, an organization's members, or a team's
// access or existence.
type Standing struct {
	// Logins are the (lower-case) logins whose permission or team membership changed.
	Logins []string `json:"logins,omitempty"`
	// Anyone means the standing of people the event does not name changed
	// (a team's access to repositories, its name or parent, its deletion):
	// every verdict that read anyone's standing may change.
	Anyone bool `json:"anyone,omitempty"`
}

// key distinguishes the fan-outs of different changes in the work queue,
// so that one change never coalesces another away; "" for nil.
func (s *Standing) key() string {
	switch {
	case s == nil:
		return ""
	case s.Anyone:
		return ":standing:*"
	}
	logins := slices.Clone(s.Logins)
	slices.Sort(logins)
	return ":standing:" + strings.Join(logins, ",")
}

// StandingFilter is a Backend that records whose standing each pull
// request's verdict read, so that a change of standing re-evaluates only the
// pull requests it may change. A backend without it has every open pull
// request of the affected repositories evaluated again.
type StandingFilter interface {
	// ReadsStanding reports whether the job's pull request, at job.HeadSHA,
	// must be evaluated again after change: true when its last verdict read
	// the standing of someone change names, and whenever that is not known.
	ReadsStanding(ctx context.Context, job Job, change Standing) (bool, error)
}
