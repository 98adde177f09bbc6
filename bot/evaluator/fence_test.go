package evaluator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
)

// lateFence runs the write, then reports that it may have landed after a
// newer evaluation's (the lock lapsed during it).
type lateFence struct{}

func (lateFence) Begin(context.Context, string) (int64, error) { return 1, nil }
func (lateFence) Publish(ctx context.Context, key string, token int64, write func(context.Context) error) error {
	if err := write(ctx); err != nil {
		return err
	}
	return fmt.Errorf("%w (the lock expired during the write)", fence.ErrReevaluate)
}

// TestLateWriteAsksForANewEvaluation: a verdict the fence says may have
// landed after a newer one, pass or block, asks the queue for a new
// evaluation (server.ErrEvaluateAgain) and is not written a second time
// without the fence, which would land later still.
func TestLateWriteAsksForANewEvaluation(t *testing.T) {
	e := New(Options{Fence: lateFence{}})
	job := server.Job{Owner: "acme", Repo: "infra", Number: 1}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []checks.Conclusion{checks.Success, checks.Failure, checks.ActionRequired} {
		ctx := e.beginFence(context.Background(), job, log)
		writes := 0
		err := e.fencedWrite(ctx, job, string(c), log, func(context.Context) error { writes++; return nil })
		if !errors.Is(err, server.ErrEvaluateAgain) {
			t.Errorf("%s: %v, want server.ErrEvaluateAgain", c, err)
		}
		if writes != 1 {
			t.Errorf("%s: written %d times, want once", c, writes)
		}
	}
}
