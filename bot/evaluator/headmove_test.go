package evaluator

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
)

const (
	headA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	headB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// prAt is a pull request at head, last updated at updated.
func prAt(head string, updated time.Time) *pull.PR {
	pr := &pull.PR{UpdatedAt: updated}
	pr.HeadSHA = head
	return pr
}

// counts says whether a comment written at created (GitHub's precision: a
// second) applies to the head, as pull.Gather decides it from since.
func counts(since, created time.Time) bool {
	return !since.IsZero() && created.Truncate(time.Second).After(since)
}

// TestCommandsBindToTheMoveNotTheFirstRun: a `/countersign approve` written
// after the delivery that moved the pull request to its head was received,
// but before Countersign's first check run on that head started (the queue's
// coalescing delay, a slow GitHub), applies to the head. It used to be
// excluded as stale: commands were bound to the later of the move and the
// first run's start.
func TestCommandsBindToTheMoveNotTheFirstRun(t *testing.T) {
	ctx := context.Background()
	e := New(Options{})
	job := server.Job{Owner: "acme", Repo: "infra", Number: 7, Reason: "pull_request.synchronize"}
	received := time.Date(2026, 12, 2, 12, 0, 0, 400e6, time.UTC)
	if err := e.RecordMove(ctx, job.Owner+"/"+job.Repo, job.Number, headA, received); err != nil {
		t.Fatal(err)
	}
	pr := prAt(headA, received.Truncate(time.Second))
	firstRun := received.Add(1800 * time.Millisecond) // 12:00:02.2
	since, err := e.commandsSince(ctx, job, pr, firstRun)
	if err != nil {
		t.Fatal(err)
	}
	approval := time.Date(2026, 12, 2, 12, 0, 1, 900e6, time.UTC) // after the move, before the run
	if !counts(since, approval) {
		t.Errorf("an approval written at %v, after the move to the head was received at %v, is stale (bound to %v)", approval, received, since)
	}
	if before := received.Add(-200 * time.Millisecond); counts(since, before) {
		t.Errorf("an approval written at %v, before the move received at %v, counts (bound to %v)", before, received, since)
	}

	// The intake may not have told (a move before the app was installed): no
	// run on the head yet means every comment is stale, as before.
	e2 := New(Options{})
	if since, err := e2.commandsSince(ctx, job, pr, time.Time{}); err != nil || !since.IsZero() {
		t.Errorf("no recorded move and no run: bound to %v (%v), want zero (every comment stale)", since, err)
	}
}

// TestCommandsRebindOnAReturnToAHead: A → B → A (a force-push away and
// back). An approval written at A before the move to B never counts on B
// nor on the returned A, on any replica (the records are shared), and after
// every replica restarted (a Redis store outlives them; an in-memory store
// lost with the process falls back to updated_at, later still).
func TestCommandsRebindOnAReturnToAHead(t *testing.T) {
	ctx := context.Background()
	stores := state.NewMemoryStores() // what replicas share through Redis
	replica := func() *Evaluator { return New(Options{Stores: stores}) }
	job := server.Job{Owner: "acme", Repo: "infra", Number: 7}
	full := job.Owner + "/" + job.Repo
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	firstRunOnA := t0.Add(500 * time.Millisecond)
	oldApproval := t0.Add(5 * time.Second)

	r1, r2, r3 := replica(), replica(), replica()
	if err := r1.RecordMove(ctx, full, 7, headA, t0.Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	since, err := r1.commandsSince(ctx, job, prAt(headA, t0), firstRunOnA)
	if err != nil || !counts(since, oldApproval) {
		t.Fatalf("at A, an approval written at A does not count (bound to %v, %v)", since, err)
	}
	if err := r2.RecordMove(ctx, full, 7, headB, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := r3.RecordMove(ctx, full, 7, headA, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Evaluator{"replica 1": r1, "replica 2": r2, "replica 3": r3, "a restarted replica": replica()} {
		since, err := r.commandsSince(ctx, job, prAt(headB, t0.Add(10*time.Second)), t0.Add(11*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if counts(since, oldApproval) {
			t.Errorf("%s: the approval written at A counts at B (bound to %v)", name, since)
		}
		since, err = r.commandsSince(ctx, job, prAt(headA, t0.Add(20*time.Second)), firstRunOnA)
		if err != nil {
			t.Fatal(err)
		}
		if counts(since, oldApproval) {
			t.Errorf("%s: the approval written at A before the move away counts on the returned A (bound to %v)", name, since)
		}
		if fresh := t0.Add(21 * time.Second); !counts(since, fresh) {
			t.Errorf("%s: an approval written after the return to A is stale (bound to %v)", name, since)
		}
	}

	// An in-memory replica that lost its records does not know when the
	// pull request moved: it takes updated_at, never earlier than the move.
	lost := New(Options{})
	since, err = lost.commandsSince(ctx, job, prAt(headA, t0.Add(20*time.Second)), firstRunOnA)
	if err != nil || counts(since, oldApproval) {
		t.Errorf("without records, the old approval counts on the returned A (bound to %v, %v)", since, err)
	}
}
