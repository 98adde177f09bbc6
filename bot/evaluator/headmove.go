package evaluator

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
)

var _ server.MoveRecorder = (*Evaluator)(nil)

// RecordMove records that repo's pull request number moved to head no
// later than at (server.MoveRecorder): the intake calls it, before
// answering 202, for each delivery that moves a pull request to a head
// (opened, synchronize, reopened). The latest move wins, so a force-push
// away and back rebinds the head's commands to the return.
func (e *Evaluator) RecordMove(ctx context.Context, repo string, number int, head string, at time.Time) error {
	if err := e.stores.HeadMoves.PutHeadMove(ctx, repo, number, state.HeadMove{Head: head, At: at}); err != nil {
		return fmt.Errorf("writing the head-move record: %w", err)
	}
	return nil
}

// headMovedAt returns when the pull request last moved to its current head,
// and whether the store held it for that head: a `/countersign` comment written before
// then was written for another head (possibly the same head before a
// force-push away and back) and is stale.
//
// It is what the HeadMoves store holds for the current head: the receipt of
// the latest delivery that moved the pull request there (RecordMove, shared
// by every replica through Redis). When the store has the pull request at
// another head, or not at all (a move before the app was installed, an
// in-memory store lost with its process, deliveries out of order), it
// cannot tell when the head last moved and takes the pull request's
// updated_at, which is never earlier than the last push: conservative, since
// every later change (a comment too) moves it, so a command written before
// that evaluation must be written again. That time is then recorded.
func (e *Evaluator) headMovedAt(ctx context.Context, job server.Job, pr *pull.PR) (time.Time, bool, error) {
	full := job.Owner + "/" + job.Repo
	hm, known, err := e.stores.HeadMoves.HeadMove(ctx, full, job.Number)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading the head-move record: %w", err)
	}
	if known && hm.Head == pr.HeadSHA && !hm.At.IsZero() {
		return hm.At, true, nil
	}
	at := pr.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	if err := e.stores.HeadMoves.PutHeadMove(ctx, full, job.Number, state.HeadMove{Head: pr.HeadSHA, At: at}); err != nil {
		return time.Time{}, false, fmt.Errorf("writing the head-move record: %w", err)
	}
	return at, false, nil
}

// commandsSince is the time after which a comment applies to the current
// head. When the store holds a move to the current head (a delivery's
// receipt, or the updated_at an earlier evaluation fell back to), it is that
// time: the earliest at which the head is known for certain, never a
// commit's date (which its author chooses). Otherwise it is the later of
// when Countersign first saw the head (its check run's start; zero makes
// every comment stale) and the pull request's updated_at (headMovedAt).
func (e *Evaluator) commandsSince(ctx context.Context, job server.Job, pr *pull.PR, runStart time.Time) (time.Time, error) {
	moved, told, err := e.headMovedAt(ctx, job, pr)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case told:
		return moved, nil
	case runStart.IsZero():
		return time.Time{}, nil
	case moved.After(runStart):
		return moved, nil
	}
	return runStart, nil
}
