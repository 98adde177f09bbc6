package app

import (
	"context"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// Settle waits until the simulator has sent every webhook it queued, the
// app is idle (idle is App.Idle, or server.IdleIn over another process's
// metrics), and no webhook was queued meanwhile — the app's own writes
// announce themselves as webhooks too — or until ctx is done. It is the one
// meaning of "wait until idle" for the sandbox, the load test and the tests.
func Settle(ctx context.Context, sim *githubsim.Sim, idle func() bool) error {
	for {
		if err := sim.WaitDeliveries(ctx); err != nil {
			return err
		}
		n := len(sim.Deliveries())
		if idle() {
			if err := sim.WaitDeliveries(ctx); err != nil {
				return err
			}
			if len(sim.Deliveries()) == n && idle() {
				return nil
			}
			continue
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
