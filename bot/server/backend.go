package server

import (
	"context"
	"strconv"
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

// MoveRecorder is implemented by a Backend that binds comment commands to
// the head they were written for. The intake calls RecordMove, before
// answering 202, for every accepted delivery that moves a pull request to a
// head (pull_request opened, synchronize, reopened), with the later of the
// delivery's receipt and the pull request's updated_at it carries; an error
// refuses the delivery with 503, so GitHub records it as failed.
type MoveRecorder interface {
	// RecordMove records that repo ("owner/name")'s pull request number
	// moved to head no later than at.
	RecordMove(ctx context.Context, repo string, number int, head string, at time.Time) error
}
