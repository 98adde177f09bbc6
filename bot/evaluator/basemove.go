package evaluator

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/google/go-github/v62/github"
)

// RecordBaseMove records that repo's pull request number has base as its
// base branch since at, zero for the base it was opened with
// (server.MoveRecorder): the intake calls it, before answering 202, for
// pull_request.opened and for pull_request.edited with changes.base. The
// latest record wins.
func (e *Evaluator) RecordBaseMove(ctx context.Context, repo string, number int, base string, at time.Time) error {
	if err := e.stores.HeadMoves.PutBaseMove(ctx, repo, number, state.BaseMove{Base: base, At: at}); err != nil {
		return fmt.Errorf("writing the base-move record: %w", err)
	}
	return nil
}

// baseChangedAt returns when the pull request's base last changed to its
// current base, zero when it is the base the pull request was opened with:
// a review, `/countersign approve` or override made at or before then
// judged the diff against another base and is stale
// (checks.PullRequest.BaseChangedAt).
//
// It is what the HeadMoves store holds for the current base: the receipt of
// the retarget delivery (RecordBaseMove, shared by every replica through
// Redis), or no time for the base the pull request was opened with; this
// common path asks GitHub nothing. When the store holds another base, or
// none (a retarget whose delivery was lost, a pull request opened before the
// app or the store was there, a record lost with an in-memory store), the
// store cannot place the last base change, and GitHub's issue events are
// read for it (lastBaseChange): the time of the last base_ref_changed, or
// none when the base never changed. When the store holds another base and
// GitHub lists no change, the pull request's updated_at is taken, which is
// never earlier than the last retarget: every approval before this
// evaluation must be given again. What was found is recorded, so the next
// evaluation asks nothing. A pull request read from a delivery's snapshot
// older than the record (at the base it had before) takes the record's time
// and records nothing.
func (e *Evaluator) baseChangedAt(ctx context.Context, client *github.Client, job server.Job, pr *pull.PR) (time.Time, error) {
	full := job.Owner + "/" + job.Repo
	bm, known, err := e.stores.HeadMoves.BaseMove(ctx, full, job.Number)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the base-move record: %w", err)
	}
	if known && bm.Base == pr.BaseRef {
		return bm.At, nil
	}
	if known && bm.At.After(pr.UpdatedAt) {
		return bm.At, nil
	}
	at, found, err := lastBaseChange(ctx, client, job.Owner, job.Repo, job.Number)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading when the base last changed: %s", ghapp.Reason(err))
	}
	if !found && known {
		at = pr.UpdatedAt
		if at.IsZero() {
			at = time.Now()
		}
	}
	if err := e.stores.HeadMoves.PutBaseMove(ctx, full, job.Number, state.BaseMove{Base: pr.BaseRef, At: at}); err != nil {
		return time.Time{}, fmt.Errorf("writing the base-move record: %w", err)
	}
	return at, nil
}

// lastBaseChange returns the time of a pull request's last base_ref_changed
// issue event, and false when GitHub lists none (its base never changed).
func lastBaseChange(ctx context.Context, client *github.Client, owner, repo string, number int) (time.Time, bool, error) {
	var last time.Time
	found := false
	opt := &github.ListOptions{PerPage: 100}
	for {
		evs, resp, err := client.Issues.ListIssueEvents(ctx, owner, repo, number, opt)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, ev := range evs {
			if ev.GetEvent() == "base_ref_changed" && !ev.GetCreatedAt().Time.Before(last) {
				last, found = ev.GetCreatedAt().Time, true
			}
		}
		if resp.NextPage == 0 {
			return last, found, nil
		}
		opt.Page = resp.NextPage
	}
}

// gatherOptions are the times that bind approvals and commands to the pull
// request's head and base (commandsSince, baseChangedAt); runStart is when
// Countersign first saw the head.
func (e *Evaluator) gatherOptions(ctx context.Context, client *github.Client, job server.Job, pr *pull.PR, runStart time.Time) (pull.GatherOptions, error) {
	since, err := e.commandsSince(ctx, job, pr, runStart)
	if err != nil {
		return pull.GatherOptions{}, err
	}
	base, err := e.baseChangedAt(ctx, client, job, pr)
	if err != nil {
		return pull.GatherOptions{}, err
	}
	return pull.GatherOptions{HeadSeenAt: since, BaseChangedAt: base}, nil
}
