package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

// Work given up is kept for the sweep without the delivery's copy of the
// pull request (stale by then: the replay reads it afresh), the same work
// given up twice is replayed once, and interactions and the sweep's own
// listings are not kept.
func TestGivenUpWorkIsParkedForTheSweep(t *testing.T) {
	fb := newFakeBackend()
	ts := newTestServer(t, fb, Options{})
	ctx := context.Background()
	j := Job{Installation: 1, Owner: "acme", Repo: "widgets", Number: 7, HeadSHA: "aaa", Reason: "pull_request.opened",
		Snapshot: &github.PullRequest{Number: github.Int(7)}}
	ev := ts.evalTaskAdmitted(j)
	ts.parkGivenUp(ctx, ev, slog.Default())
	ts.parkGivenUp(ctx, ev, slog.Default())
	ts.parkGivenUp(ctx, ts.repoTaskFor("membership.removed", "d-1", 1, "acme", "widgets", &Standing{Logins: []string{"bob"}}), slog.Default())
	ts.parkGivenUp(ctx, ts.commandTask(nil, CommandJob{}), slog.Default())
	ts.parkGivenUp(ctx, ts.sweepRepoTask(nil, 1, "acme", "widgets", 0.1), slog.Default())

	specs, err := ts.parked.takeParked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, sp := range specs {
		ops[sp.Op]++
		if sp.Op == opEvaluate && sp.Job.Snapshot != nil {
			t.Error("an evaluation was kept with the delivery's stale copy of the pull request")
		}
		if sp.Parked.IsZero() {
			t.Errorf("%s kept without when it was first given up", sp.Op)
		}
	}
	if ops[opEvaluate] != 1 || ops[opRepo] != 1 || len(specs) != 2 {
		t.Errorf("kept %v, want one evaluation and one fan-out", ops)
	}
	if again, _ := ts.parked.takeParked(ctx); len(again) != 0 {
		t.Errorf("taken twice: %d", len(again))
	}

	// Work first given up longer ago than GitHub's redelivery window is dropped.
	old := j
	stale := ts.evalTaskAdmitted(old)
	stale.spec.Parked = time.Now().Add(-parkedTTL - time.Hour)
	ts.parkGivenUp(ctx, stale, slog.Default())
	if specs, _ := ts.parked.takeParked(ctx); len(specs) != 0 {
		t.Errorf("work given up %s ago was kept again", time.Since(stale.spec.Parked).Round(time.Hour))
	}
}

// Without Redis, the command ledger remembers each comment version's
// commands and whether they asked for a re-evaluation, until they expire.
func TestMemoryCommandLedger(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	m := newMemoryCommands(time.Hour, 10, func() time.Time { return now })
	ctx := context.Background()
	m.markCarriedOut(ctx, "acme/widgets:1:created:5", true)
	m.markCarriedOut(ctx, "acme/widgets:2:created:5", false)
	for _, c := range []struct {
		key              string
		done, reevaluate bool
	}{
		{"acme/widgets:1:created:5", true, true},
		{"acme/widgets:2:created:5", true, false},
		{"acme/widgets:1:edited:6", false, false},
	} {
		if done, re, _ := m.carriedOut(ctx, c.key); done != c.done || re != c.reevaluate {
			t.Errorf("%s: carried out %v, re-evaluate %v; want %v, %v", c.key, done, re, c.done, c.reevaluate)
		}
	}
	now = now.Add(2 * time.Hour)
	if done, _, _ := m.carriedOut(ctx, "acme/widgets:1:created:5"); done {
		t.Error("an entry older than the ledger's TTL is still remembered")
	}
}
