package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// redisReplicas starts n servers sharing one real Redis, each with its own
// fake backend, as n replicas behind one load balancer.
func redisReplicas(t *testing.T, n int) ([]*testServer, *fence.Redis) {
	t.Helper()
	url := fencetest.StartRedis(t)
	var out []*testServer
	var first *fence.Redis
	for range n {
		f, err := fence.Dial(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if first == nil {
			first = f
		}
		out = append(out, newTestServer(t, newFakeBackend(), Options{Redis: f.Client(), Locker: f,
			CoalesceDelay: 50 * time.Millisecond, DrainTimeout: 5 * time.Second}))
	}
	return out, first
}

func evaluations(rs []*testServer, key string) int {
	n := 0
	for _, r := range rs {
		n += r.fb.count(key)
	}
	return n
}

// A delivery that reaches two replicas (a load balancer that duplicates, or
// GitHub's redelivery landing elsewhere) is accepted once and evaluated once.
func TestRedisDuplicateDeliveryEvaluatedOnce(t *testing.T) {
	rs, _ := redisReplicas(t, 2)
	body := prEvent(t, "opened", "acme/widgets", 7, "aaa")
	if rec := rs[0].deliver(t, "pull_request", "d-1", body); rec.Code != http.StatusAccepted {
		t.Fatalf("first replica: %d %s", rec.Code, rec.Body)
	}
	if rec := rs[1].deliver(t, "pull_request", "d-1", body); rec.Code != http.StatusOK {
		t.Fatalf("second replica, same delivery: %d %s, want 200 duplicate", rec.Code, rec.Body)
	}
	waitFor(t, "the evaluation", func() bool { return evaluations(rs, "acme/widgets#7") == 1 })
	time.Sleep(300 * time.Millisecond)
	if n := evaluations(rs, "acme/widgets#7"); n != 1 {
		t.Fatalf("evaluated %d times across the replicas, want 1", n)
	}
}

// A burst of deliveries for one pull request, spread over the replicas, is
// coalesced, and two evaluations of one pull request never overlap on the
// cluster; the last one runs after the last delivery.
func TestRedisBurstCoalescedAndSerialized(t *testing.T) {
	rs, _ := redisReplicas(t, 3)
	var inside, most atomic.Int32
	for _, r := range rs {
		r.fb.work = func() {
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			inside.Add(-1)
		}
	}
	for i := range 30 {
		body := prEvent(t, "synchronize", "acme/widgets", 9, "sha"+itoa(int64(i)))
		if rec := rs[i%3].deliver(t, "pull_request", "burst-"+itoa(int64(i)), body); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	waitFor(t, "the last head to be evaluated", func() bool {
		for _, r := range rs {
			for _, j := range r.fb.jobs() {
				if j.HeadSHA == "sha29" {
					return true
				}
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	if n := evaluations(rs, "acme/widgets#9"); n > 5 {
		t.Errorf("30 deliveries within a burst ran %d evaluations, want them coalesced", n)
	}
	if most.Load() != 1 {
		t.Errorf("%d evaluations of one pull request ran at once across the replicas, want 1", most.Load())
	}
}

// Without Redis, a delivery cannot be recorded or queued: it is refused with
// 503 so GitHub records it as failed and redelivery repairs it.
func TestRedisUnreachableRefuses503(t *testing.T) {
	rs, f := redisReplicas(t, 1)
	// Redis goes away under the running replica. Stopping the server, not
	// closing the replica's client: a client closed under a running asynq
	// server closes asynq's cancellation channel, which asynq v0.26 reads as
	// a nil message and panics on (a shutdown order serve never takes).
	_ = f.Client().ShutdownNoSave(context.Background()).Err()
	rec := rs[0].deliver(t, "pull_request", "d-down", prEvent(t, "opened", "acme/widgets", 3, "bbb"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("Redis down: %d %s, want 503", rec.Code, rec.Body)
	}
}

// A draining replica answers /readyz 503 but keeps accepting deliveries,
// which another replica evaluates.
func TestRedisDrainingReplicaKeepsAccepting(t *testing.T) {
	rs, _ := redisReplicas(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rs[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if rec := rs[0].getOps("/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz of a draining replica: %d", rec.Code)
	}
	rec := rs[0].deliver(t, "pull_request", "d-drain", prEvent(t, "opened", "acme/widgets", 4, "ccc"))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("delivery to a draining replica: %d %s, want 202", rec.Code, rec.Body)
	}
	waitFor(t, "the other replica to evaluate it", func() bool { return rs[1].fb.count("acme/widgets#4") == 1 })
	if rs[0].fb.count("acme/widgets#4") != 0 {
		t.Fatal("the drained replica ran work after its drain")
	}
}

// Periodic work (the sweep, redelivery) runs on one replica per interval,
// and each failed delivery is redelivered by one replica, once.
func TestRedisSingletons(t *testing.T) {
	rs, _ := redisReplicas(t, 3)
	ctx := context.Background()
	won := 0
	for _, r := range rs {
		if r.claim(ctx, "sweep", time.Hour) {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d replicas claimed the same interval's sweep, want 1", won)
	}
	redelivered := 0
	for range 2 {
		for _, r := range rs {
			if ok, err := r.snaps.claimRedelivery(ctx, "guid-1", time.Now()); err != nil {
				t.Fatal(err)
			} else if ok {
				redelivered++
			}
		}
	}
	if redelivered != 1 {
		t.Fatalf("a failed delivery was redelivered %d times across the replicas, want 1", redelivered)
	}
	// Its snapshot is distrusted on every replica.
	snap := prSnapshot(t, prEvent(t, "opened", "acme/widgets", 5, "ddd"))
	j := rs[2].snaps.admitJob(ctx, Job{Owner: "acme", Repo: "widgets", Number: 5, DeliveryID: "guid-1", Snapshot: snap})
	if j.Snapshot != nil {
		t.Fatal("the snapshot of a redelivered delivery was trusted by another replica")
	}
}

// The snapshot admission table is shared: an older snapshot arriving at
// one replica after a newer one arrived at another is not trusted.
func TestRedisSnapshotAdmissionShared(t *testing.T) {
	rs, _ := redisReplicas(t, 2)
	ctx := context.Background()
	newer := prSnapshot(t, prEvent(t, "synchronize", "acme/widgets", 6, "new"))
	older := prSnapshot(t, prEvent(t, "opened", "acme/widgets", 6, "old"))
	older.UpdatedAt = &github.Timestamp{Time: newer.GetUpdatedAt().Add(-time.Minute)}
	if j := rs[0].snaps.admitJob(ctx, Job{Owner: "acme", Repo: "widgets", Number: 6, Snapshot: newer}); j.Snapshot == nil {
		t.Fatal("the newest snapshot was not trusted")
	}
	if j := rs[1].snaps.admitJob(ctx, Job{Owner: "acme", Repo: "widgets", Number: 6, Snapshot: older}); j.Snapshot != nil {
		t.Fatal("another replica trusted an older snapshot after a newer one")
	}
}

func prSnapshot(t *testing.T, body []byte) *github.PullRequest {
	t.Helper()
	var e github.PullRequestEvent
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	pr := e.GetPullRequest()
	pr.Base = &github.PullRequestBranch{SHA: github.String("base0"), Ref: github.String("main")}
	if pr.UpdatedAt == nil {
		pr.UpdatedAt = &github.Timestamp{Time: time.Now().Add(time.Hour)}
	}
	return pr
}

// Every kind of work a delivery can queue is described as data, so it
// can be queued in Redis and run by another replica.
func TestEveryTaskRoundTripsThroughItsSpec(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	j := Job{Installation: 1, Owner: "acme", Repo: "web", Number: 3, HeadSHA: "abc", Reason: "r", DeliveryID: "d"}
	tasks := []task{
		ts.evalTaskAdmitted(j),
		ts.repoTask("r", "d", 1, "acme", "web"),
		ts.installationTask("r", "d", 1, "acme"),
	}
	for _, tk := range tasks {
		b, err := json.Marshal(tk.spec)
		if err != nil {
			t.Fatal(err)
		}
		var sp taskSpec
		if err := json.Unmarshal(b, &sp); err != nil {
			t.Fatal(err)
		}
		got, err := ts.fromSpec(sp)
		if err != nil {
			t.Fatalf("%s: %v", tk.key, err)
		}
		if got.key != tk.key || got.kind != tk.kind {
			t.Errorf("%s/%s came back as %s/%s", tk.key, tk.kind, got.key, got.kind)
		}
	}
	if _, err := ts.fromSpec(taskSpec{}); err == nil {
		t.Error("a task without an op was accepted")
	}
}

// With Redis, work waiting in the shared queue (here, held back by the
// coalescing delay) keeps the server from being idle: Idle is what the
// sandbox and the load test settle on, and a verdict still due must not be
// read as final.
func TestRedisQueuedWorkIsNotIdle(t *testing.T) {
	url := fencetest.StartRedis(t)
	f, err := fence.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r := newTestServer(t, newFakeBackend(), Options{Redis: f.Client(), Locker: f,
		CoalesceDelay: 3 * time.Second, DrainTimeout: 5 * time.Second})
	if rec := r.deliver(t, "pull_request", "d-idle", prEvent(t, "opened", "acme/widgets", 5, "ddd")); rec.Code != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	if r.Idle() {
		t.Fatal("Idle() with an evaluation waiting in the Redis queue, want not idle")
	}
	waitFor(t, "the evaluation", func() bool { return r.fb.count("acme/widgets#5") == 1 })
	waitFor(t, "idle after the evaluation", r.Idle)
}

// Work given up after its last attempt on one replica (GitHub down longer
// than the retries) is kept in Redis, and the next sweep, on whichever
// replica runs it, queues it again once: nothing accepted is lost to an
// outage.
func TestRedisWorkGivenUpIsReplayedOnce(t *testing.T) {
	rs, _ := redisReplicas(t, 3)
	const key = "acme/widgets#7"
	for _, r := range rs {
		r.fb.mu.Lock()
		r.fb.fail[key] = fastRetry().Attempts
		r.fb.mu.Unlock()
	}
	if rec := rs[0].deliver(t, "pull_request", "d-7", prEvent(t, "opened", "acme/widgets", 7, "aaa")); rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	waitFor(t, "the work to be given up", func() bool {
		n := 0
		for _, r := range rs {
			n += int(testutil.ToFloat64(r.m.parked))
		}
		return n == 1
	})
	tried := evaluations(rs, key)
	for _, r := range rs {
		r.fb.mu.Lock()
		r.fb.fail[key] = 0
		r.fb.mu.Unlock()
	}
	rs[1].replayParked(context.Background())
	rs[2].replayParked(context.Background())
	waitFor(t, "the replayed evaluation", func() bool { return evaluations(rs, key) == tried+1 })
	time.Sleep(300 * time.Millisecond)
	if n := evaluations(rs, key) - tried; n != 1 {
		t.Fatalf("the work given up ran %d times after two replicas replayed it, want once", n)
	}
}

// A queue whose sequence key was lost (eviction, a failover) while the
// latest-queued record survived still runs new work for the pull request:
// a new task's number is above the latest queued, so it is not dropped as
// superseded by a number the lost counter had handed out.
func TestRedisQueueSeqLostStillRunsNewWork(t *testing.T) {
	rs, f := redisReplicas(t, 1)
	ctx := context.Background()
	for i := range 3 {
		body := prEvent(t, "synchronize", "acme/widgets", 8, "old"+itoa(int64(i)))
		if rec := rs[0].deliver(t, "pull_request", "seq-"+itoa(int64(i)), body); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	waitFor(t, "the burst to be evaluated", func() bool { return rs[0].fb.count("acme/widgets#8") >= 1 })
	waitFor(t, "the queue to settle", rs[0].Idle)
	if err := f.Client().Set(ctx, latestKey("acme/widgets#8"), 50, redisKeyTTL).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.Client().Del(ctx, seqKey("acme/widgets#8")).Err(); err != nil {
		t.Fatal(err)
	}
	before := rs[0].fb.count("acme/widgets#8")
	if rec := rs[0].deliver(t, "pull_request", "seq-new", prEvent(t, "synchronize", "acme/widgets", 8, "new")); rec.Code != http.StatusAccepted {
		t.Fatalf("delivery after the loss: %d %s", rec.Code, rec.Body)
	}
	waitFor(t, "the work queued after the loss to run", func() bool {
		for _, j := range rs[0].fb.jobs() {
			if j.HeadSHA == "new" {
				return true
			}
		}
		return false
	})
	if n := rs[0].fb.count("acme/widgets#8"); n != before+1 {
		t.Errorf("%d evaluations after the loss, want 1", n-before)
	}
}

// An evaluation whose check-run write may have landed after a newer
// evaluation's (the fence's lock lapsed during the write) is followed by a
// new evaluation of the pull request, from fresh facts (no snapshot), even
// though newer work was queued meanwhile: a retry of the old task would be
// dropped as superseded by that work, which already ran, and the older
// verdict would stand.
func TestRedisStaleWriteRunsANewEvaluation(t *testing.T) {
	rs, f := redisReplicas(t, 1)
	r := rs[0]
	ctx := context.Background()
	const key = "acme/widgets#12"
	r.fb.stale[key] = 1
	var once atomic.Bool
	r.fb.work = func() {
		if once.CompareAndSwap(false, true) {
			// Newer work for the pull request was queued, and ran on
			// another replica, while this evaluation's write stalled.
			f.Client().Set(ctx, latestKey(key), 1000, redisKeyTTL)
		}
	}
	// A delivery whose pull request the intake admits as a snapshot.
	var ev github.PullRequestEvent
	if err := json.Unmarshal(prEvent(t, "synchronize", "acme/widgets", 12, "aaa"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.PullRequest = prSnapshot(t, prEvent(t, "synchronize", "acme/widgets", 12, "aaa"))
	if rec := r.deliver(t, "pull_request", "stale-1", mustJSON(t, &ev)); rec.Code != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", rec.Code, rec.Body)
	}
	waitFor(t, "a new evaluation after the stale write", func() bool { return r.fb.count(key) >= 2 })
	waitFor(t, "the queue to settle", r.Idle)
	jobs := r.fb.jobs()
	if len(jobs) != 2 {
		t.Fatalf("%d evaluations, want the stale one and one more: %+v", len(jobs), jobs)
	}
	if jobs[0].Snapshot == nil {
		t.Fatal("the delivery's evaluation had no snapshot; the test no longer shows that the new one drops it")
	}
	if jobs[1].Snapshot != nil {
		t.Error("the new evaluation reused the delivery's snapshot; it must read fresh facts")
	}
}
