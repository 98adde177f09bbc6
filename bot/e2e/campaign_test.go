package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/loadtest"
)

// TestFaultCampaigns runs the load test's fault campaigns at a small size:
// the server, evaluator and app client against the simulator, a random mix
// of pushes, reviews by eligible and ineligible users, comments and check
// reruns, under each fault. Once the fault ends and one sweep has run, every
// open pull request's check must say what the engine says of its final
// state, and over the whole history no head that needed an approval may
// have been marked success before it had one. `countersign loadtest
// --faults NAME` runs the same campaigns at any size.
func TestFaultCampaigns(t *testing.T) {
	if testing.Short() {
		t.Skip("fault campaigns take a few seconds each")
	}
	for _, tc := range []struct {
		faults string
		// injected says whether the campaign's fault actually happened.
		injected func(r *loadtest.Report) bool
	}{
		{"none", func(r *loadtest.Report) bool { return true }},
		{"5xx", func(r *loadtest.Report) bool { return r.Load.CallsByStatus["500"] > 0 }},
		{"ratelimit", func(r *loadtest.Report) bool {
			return r.Load.CallsByStatus["403"]+r.Load.CallsByStatus["429"] > 0
		}},
		{"latency", func(r *loadtest.Report) bool { return r.Load.SlowEvaluations > 0 }},
		{"drop", func(r *loadtest.Report) bool { return r.Load.DroppedBySim > 0 }},
		{"dupreorder", func(r *loadtest.Report) bool { return r.Load.Duplicated > 0 && r.Load.Reordered > 0 }},
		{"restart", func(r *loadtest.Report) bool { return r.Load.Restarts == 1 && r.Load.Refused > 0 }},
	} {
		t.Run(tc.faults, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := loadtest.Run(ctx, loadtest.Options{
				Repos: 2, PRs: 8, Rate: 40, Duration: 2 * time.Second, Workers: 4, Drivers: 2,
				Seed: 7, Faults: tc.faults, SettleTimeout: time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			var table strings.Builder
			rep.WriteTable(&table)
			t.Logf("\n%s", table.String())
			if !tc.injected(rep) {
				t.Errorf("the %s campaign injected nothing", tc.faults)
			}
			if rep.Load.Deliveries == 0 || rep.BeforeSweep.PullRequests < 8 {
				t.Errorf("the campaign drove nothing: %d deliveries, %d pull requests", rep.Load.Deliveries, rep.BeforeSweep.PullRequests)
			}
			for _, v := range rep.Violations {
				t.Errorf("passed without the approval it needed: %s", v)
			}
			final := rep.BeforeSweep
			if rep.AfterSweep != nil {
				final = *rep.AfterSweep
			}
			if final.MismatchCount > 0 {
				t.Errorf("%d of %d pull requests do not show the engine's verdict on their final state after one sweep:\n%s",
					final.MismatchCount, final.PullRequests, strings.Join(final.Mismatches, "\n"))
			}
			for _, p := range rep.Problems {
				t.Error(p)
			}
		})
	}
}
