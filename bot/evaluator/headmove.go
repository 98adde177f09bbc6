package evaluator

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
)

// headMovedAt returns when the pull request last moved to its current head:
// a `/countersign` comment written before then was written for another head
// (possibly the same head before a force-push away and back) and is stale.
//
// It is the updated_at of a pull_request.opened or synchronize delivery that
// carries the current head, else what the HeadMoves store recorded when the
// pull request was first observed at this head. When the store has it at
// another head, or not at all (a restart of an in-memory store, an evicted
// record), it cannot tell when the head last moved and takes the pull
// request's updated_at, which is never earlier than the last push:
// conservative, since every later change (a comment too) moves it, so a
// command written before the first evaluation after a restart must be
// written again. With an in-memory store the record is per process:
// replicas that did not observe an intermediate head rely on the
// synchronize delivery's timestamp.
func (e *Evaluator) headMovedAt(ctx context.Context, job server.Job, pr *pull.PR) (time.Time, error) {
	full := job.Owner + "/" + job.Repo
	var at time.Time
	if s := job.Snapshot; s != nil && s.GetHead().GetSHA() == pr.HeadSHA &&
		(job.Reason == "pull_request.synchronize" || job.Reason == "pull_request.opened") {
		at = s.GetUpdatedAt().Time
	}
	hm, known, err := e.stores.HeadMoves.HeadMove(ctx, full, job.Number)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the head-move record: %w", err)
	}
	switch {
	case known && hm.Head == pr.HeadSHA:
		if hm.At.After(at) {
			at = hm.At
		}
	case at.IsZero():
		at = pr.UpdatedAt
		if at.IsZero() {
			at = time.Now()
		}
	}
	if !known || hm.Head != pr.HeadSHA || !hm.At.Equal(at) {
		if err := e.stores.HeadMoves.PutHeadMove(ctx, full, job.Number, state.HeadMove{Head: pr.HeadSHA, At: at}); err != nil {
			return time.Time{}, fmt.Errorf("writing the head-move record: %w", err)
		}
	}
	return at, nil
}

// commandsSince is the time after which a comment applies to the current
// head: the later of when Countersign first saw the head (its check run's
// start; zero makes every comment stale) and when the pull request last
// moved to it.
func (e *Evaluator) commandsSince(ctx context.Context, job server.Job, pr *pull.PR, runStart time.Time) (time.Time, error) {
	if runStart.IsZero() {
		return time.Time{}, nil
	}
	moved, err := e.headMovedAt(ctx, job, pr)
	if err != nil {
		return time.Time{}, err
	}
	if moved.After(runStart) {
		return moved, nil
	}
	return runStart, nil
}
