package evaluator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
)

// Fence orders the check-run writes of several replicas, so that none
// publishes an older verdict over a newer one (bot/fence keeps it in Redis).
type Fence interface {
	// Begin returns a token greater than every earlier one for key, on any replica.
	Begin(ctx context.Context, key string) (int64, error)
	// Publish runs write under key's lock unless an evaluation with a
	// greater token has published; then it returns fence.ErrSuperseded. It
	// returns an error wrapping fence.ErrReevaluate when the write may have
	// landed after a newer evaluation's.
	Publish(ctx context.Context, key string, token int64, write func(context.Context) error) error
}

type fenceTokenKey struct{}

// beginFence takes the evaluation's token before any fact is read. Without
// one (the fence's store is down), the evaluation may still publish a
// verdict that blocks the merge, never a pass.
func (e *Evaluator) beginFence(ctx context.Context, job server.Job, log *slog.Logger) context.Context {
	if e.opt.Fence == nil {
		return ctx
	}
	token, err := e.opt.Fence.Begin(ctx, job.Key())
	if err != nil {
		log.Warn("fence: no token; this evaluation will not publish a pass", "err", err)
		token = 0
	}
	return context.WithValue(ctx, fenceTokenKey{}, token)
}

// errNoFence refuses to publish a pass without the fence.
var errNoFence = errors.New("the replicas' fence (Redis) is unavailable; a pass is not published without it")

// errSuperseded says a verdict was not written because a newer evaluation
// of the pull request has already published: the check run does not show
// it, so nothing (the details page) may record it as shown.
var errSuperseded = errors.New("a newer evaluation has already published")

// fencedWrite runs write, through the fence when there is one. A verdict
// superseded by a newer evaluation's is not written: errSuperseded. A
// write that may have landed after a newer one returns an error wrapping
// server.ErrEvaluateAgain.
func (e *Evaluator) fencedWrite(ctx context.Context, job server.Job, conclusion string, log *slog.Logger, write func(context.Context) error) error {
	if e.opt.Fence == nil {
		return write(ctx)
	}
	token, _ := ctx.Value(fenceTokenKey{}).(int64)
	if token == 0 {
		if conclusion == string(checks.Success) {
			return errNoFence
		}
		return write(ctx) // a verdict that blocks may always be written
	}
	err := e.opt.Fence.Publish(ctx, job.Key(), token, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return writeError{err}
		}
		return nil
	})
	var werr writeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fence.ErrReevaluate):
		// The write may have landed after a newer evaluation's (GitHub's
		// write cannot be conditional): the check run may show this older
		// verdict, so the queue runs a new evaluation, whose write comes
		// last. Never written again unfenced: that would land later still.
		log.Warn("fence: this verdict may have landed after a newer one; the pull request is evaluated again", "token", token, "err", err)
		return fmt.Errorf("%w: %w", server.ErrEvaluateAgain, err)
	case errors.Is(err, fence.ErrSuperseded):
		log.Info("fence: a newer evaluation has already published; this verdict is not written", "token", token)
		return errSuperseded
	case errors.As(err, &werr):
		return werr.err // GitHub refused the write
	case conclusion != string(checks.Success) && ctx.Err() == nil:
		// The fence's store failed, not GitHub: a blocking verdict is still safe to write.
		log.Warn("fence: unavailable; writing the blocking verdict without it", "err", err)
		return write(ctx)
	}
	return err
}

// writeError marks an error of the write itself (GitHub), as opposed to the fence's store.
type writeError struct{ err error }

func (w writeError) Error() string { return w.err.Error() }
func (w writeError) Unwrap() error { return w.err }
