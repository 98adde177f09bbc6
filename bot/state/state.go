// Package state holds the mutable records the app keeps between
// evaluations, each in a small typed store: what is known of the check run
// on a head, when a pull request last moved to its head, and which comments
// an edit voided. They are kept apart from the cache of immutable per-commit
// facts (bot/pull.Cache), so that no file listing ever evicts them.
//
// Every method takes a context and returns an error, and no record needs
// to outlive a bounded time (each type says how long it matters), so an
// implementation in Redis (with a TTL per key) is a swap for the in-memory
// one here. Repositories are named "owner/name" and compared without regard
// to case, as GitHub does.
package state

import (
	"context"
	"time"
)

// CheckRun is what is known of the `countersign` check run on one head.
type CheckRun struct {
	// ID is the check run's id; 0 means none is known (look it up, or create one).
	ID int64 `json:"id"`
	// StartedAt is when the check run started: when Countersign first saw the head.
	StartedAt time.Time `json:"started_at"`
	// Status and Conclusion are what the last write set.
	Status     string `json:"status"`
	Conclusion string `json:"conclusion,omitempty"`
	// Digest is a hash of the last write's conclusion and text, so an
	// identical verdict is not written again; zero when unknown.
	Digest [32]byte `json:"digest"`
	// Writes counts the verdicts published on the head, by the evaluation
	// of any pull request at it: a pass judged before another evaluation
	// published is judged again rather than written over that verdict.
	Writes int64 `json:"writes,omitempty"`
}

// CheckRuns records the check run of each head. A record may be lost at
// any time (it is then looked up on GitHub again); it matters while the
// head is the head of an open pull request.
type CheckRuns interface {
	// CheckRun returns the record of repo's head, and false when there is none.
	CheckRun(ctx context.Context, repo, head string) (CheckRun, bool, error)
	// PutCheckRun records the check run of repo's head, replacing any record.
	PutCheckRun(ctx context.Context, repo, head string, r CheckRun) error
}

// HeadMove is when a pull request last moved to a head, as Countersign
// observed it: the receipt of the delivery that moved it there, or, when no
// such delivery was seen, the pull request's updated_at at its first evaluation there.
type HeadMove struct {
	// Head is the head commit's SHA.
	Head string `json:"head"`
	// At is when the pull request moved to it.
	At time.Time `json:"at"`
}

// BaseMove is a pull request's base branch and when it last changed to it,
// as Countersign observed it: the receipt of the pull_request.edited
// delivery that changed it (changes.base), or, when the base was found
// changed with no such delivery seen, the pull request's updated_at at that
// evaluation. The record of a pull request opened at its base has a zero At.
type BaseMove struct {
	// Base is the base branch's name.
	Base string `json:"base"`
	// At is when the base changed to it; zero when it is the base the pull request was opened with.
	At time.Time `json:"at,omitzero"`
}

// HeadMoves records when each pull request last moved to its head, and
// what its base is and when it last changed. A lost head move is safe: the
// evaluator then takes the pull request's updated_at, which makes earlier
// commands stale, never valid; a lost base move is read again from GitHub's
// issue events, at the cost of one call. A head move matters while the pull
// request stays at that head, a base move while it is open.
type HeadMoves interface {
	// HeadMove returns the record of repo's pull request number, and false when there is none.
	HeadMove(ctx context.Context, repo string, number int) (HeadMove, bool, error)
	// PutHeadMove records where and when repo's pull request number last moved.
	PutHeadMove(ctx context.Context, repo string, number int, m HeadMove) error
	// BaseMove returns the base record of repo's pull request number, and false when there is none.
	BaseMove(ctx context.Context, repo string, number int) (BaseMove, bool, error)
	// PutBaseMove records repo's pull request number's base and when it last changed, replacing any record.
	PutBaseMove(ctx context.Context, repo string, number int, m BaseMove) error
}

// EditedComments records comments that an issue_comment.edited delivery
// named. GitHub's timestamps have one second of precision, so a comment
// edited within the second it was written shows no change in updated_at;
// this record is then the only evidence that its command is void. Losing a
// record could let such a comment count again, so an implementation keeps
// them for at least as long as a pull request stays open (the in-memory
// store never drops one).
type EditedComments interface {
	// MarkEdited records that repo's comment id was edited at at; when an
	// edit is already recorded, the first record is kept (SET NX in Redis).
	MarkEdited(ctx context.Context, repo string, id int64, at time.Time) error
	// EditedAt returns when repo's comment id was edited, and false when no edit was recorded.
	EditedAt(ctx context.Context, repo string, id int64) (time.Time, bool, error)
}

// Reliance is whose standing a pull request's last verdict read: the
// logins whose repository permission and team membership it looked up (the
// approvers it counted or refused, blocking reviewers, overriders). Team
// membership is read only for those logins, so a change of anyone's
// permission or teams matters to the verdict only if their login is here.
type Reliance struct {
	// Head is the head the verdict judged.
	Head string `json:"head"`
	// Pending is true from the start of an evaluation of Head until its
	// verdict is published: what it reads is not known yet.
	Pending bool `json:"pending,omitempty"`
	// Logins are the lower-case logins whose standing was read.
	Logins []string `json:"logins,omitempty"`
}

// Reliances records whose standing each pull request's last verdict read,
// so that a change of someone's permission or team membership re-evaluates
// only the pull requests it can change. A lost record is safe: a pull
// request without one is re-evaluated on any such change. It matters while
// the pull request stays at that head.
type Reliances interface {
	// Reliance returns the record of repo's pull request number, and false when there is none.
	Reliance(ctx context.Context, repo string, number int) (Reliance, bool, error)
	// PutReliance records whose standing repo's pull request number's verdict read, replacing any record.
	PutReliance(ctx context.Context, repo string, number int, r Reliance) error
}

// RateLimit is what GitHub last said of an installation's primary (core)
// rate limit, as any replica observed it.
type RateLimit struct {
	// Remaining and Limit are X-RateLimit-Remaining and X-RateLimit-Limit.
	Remaining int `json:"remaining"`
	Limit     int `json:"limit"`
	// Reset is when the window resets (X-RateLimit-Reset, whole seconds).
	Reset time.Time `json:"reset"`
	// At is when the response came.
	At time.Time `json:"at"`
}

// RateLimits records the rate-limit state of each installation, so that
// every replica spends against the one budget GitHub keeps per
// installation. A record matters until its window resets; a lost record
// reads as unknown, as before any call.
type RateLimits interface {
	// RateLimit returns the record of installation, and false when there is none.
	RateLimit(ctx context.Context, installation int64) (RateLimit, bool, error)
	// NoteRateLimit merges an observation into installation's record: one
	// of a later window replaces it, one of the same window is kept only
	// when fewer calls remain (GitHub only counts down within a window, so
	// the lowest count seen is the newest), an older window's is ignored.
	NoteRateLimit(ctx context.Context, installation int64, r RateLimit) error
}

// Merge returns the record that NoteRateLimit keeps when r is observed
// while old is recorded (known false: none).
func Merge(old RateLimit, known bool, r RateLimit) RateLimit {
	switch {
	case !known, r.Reset.Unix() > old.Reset.Unix():
		return r
	case r.Reset.Unix() == old.Reset.Unix() && r.Remaining < old.Remaining:
		return r
	}
	return old
}

// Stores are the typed stores of one app; every field must be set.
type Stores struct {
	// CheckRuns holds what is known of the check run on each head.
	CheckRuns CheckRuns
	// HeadMoves holds when each pull request last moved to its head.
	HeadMoves HeadMoves
	// EditedComments holds the comments an edit voided.
	EditedComments EditedComments
	// Reliances holds whose standing each pull request's verdict read.
	Reliances Reliances
	// RateLimits holds each installation's rate-limit state (read by the
	// GitHub client, bot/ghapp).
	RateLimits RateLimits
}

// NewMemoryStores returns Stores kept in this process's memory.
func NewMemoryStores() Stores {
	return Stores{CheckRuns: NewMemoryCheckRuns(0), HeadMoves: NewMemoryHeadMoves(0), EditedComments: NewMemoryEditedComments(), Reliances: NewMemoryReliances(0),
		RateLimits: NewMemoryRateLimits()}
}
