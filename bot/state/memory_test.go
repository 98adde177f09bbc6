package state_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/state"
	"github.com/countersign/countersign/bot/state/statetest"
)

func TestMemoryStores(t *testing.T) {
	statetest.Run(t, state.NewMemoryStores())
}

// The bounded stores drop their least recently used records; a lost
// check-run or head-move record is looked up again or read conservatively.
func TestMemoryStoresAreBounded(t *testing.T) {
	ctx := context.Background()
	runs, moves := state.NewMemoryCheckRuns(4), state.NewMemoryHeadMoves(4)
	for i := range 5 {
		_ = runs.PutCheckRun(ctx, "acme/web", fmt.Sprint(i), state.CheckRun{ID: int64(i + 1)})
		_ = moves.PutHeadMove(ctx, "acme/web", i, state.HeadMove{Head: fmt.Sprint(i), At: time.Unix(int64(i), 0)})
	}
	if _, ok, _ := runs.CheckRun(ctx, "acme/web", "0"); ok {
		t.Error("the check-run store kept more than its bound")
	}
	if _, ok, _ := moves.HeadMove(ctx, "acme/web", 0); ok {
		t.Error("the head-move store kept more than its bound")
	}
	if r, ok, _ := runs.CheckRun(ctx, "acme/web", "4"); !ok || r.ID != 5 {
		t.Errorf("the newest record was lost: %+v %v", r, ok)
	}
}
