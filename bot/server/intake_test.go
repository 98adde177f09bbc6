package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/redis/go-redis/v9"
)

// failHook fails the Redis commands fail says to fail, as a Redis that
// stops answering (failover, network blip) between two commands would.
type failHook struct {
	mu   sync.Mutex
	fail func(cmd redis.Cmder) bool
}

func (h *failHook) set(f func(redis.Cmder) bool) { h.mu.Lock(); h.fail = f; h.mu.Unlock() }
func (h *failHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}
func (h *failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		f := h.fail
		h.mu.Unlock()
		if f != nil && f(cmd) {
			err := errors.New("i/o timeout (injected)")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (h *failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func hookedRedisServer(t *testing.T, fb *fakeBackend) (*testServer, *failHook) {
	t.Helper()
	url := fencetest.StartRedis(t)
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	h := &failHook{}
	c.AddHook(h)
	f, err := fence.New(fence.Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, fb, Options{Redis: c, Locker: f, CoalesceDelay: 20 * time.Millisecond, DrainTimeout: 2 * time.Second})
	return ts, h
}

func cmdName(cmd redis.Cmder) string { return strings.ToLower(cmd.Name()) }
func cmdArg(cmd redis.Cmder, i int) string {
	if a := cmd.Args(); len(a) > i {
		if s, ok := a[i].(string); ok {
			return s
		}
	}
	return ""
}

// fakeInteractions is a fakeBackend that also carries out commands.
type fakeInteractions struct {
	*fakeBackend
	commands atomic.Int32
	// onCommand runs inside Command.
	onCommand func(job CommandJob)
}

func (f *fakeInteractions) Command(ctx context.Context, job CommandJob) (bool, error) {
	f.commands.Add(1)
	if f.onCommand != nil {
		f.onCommand(job)
	}
	return true, nil // e.g. a refused approval: a reply was posted; or a recheck
}
func (f *fakeInteractions) RequestedAction(ctx context.Context, job ActionJob) (int, error) {
	return 0, nil
}
func (f *fakeInteractions) MergeGroup(ctx context.Context, job MergeGroupJob) error { return nil }

// An edited comment whose new body holds an approval is voided by its
// command task (the backend's MarkEdited), and the pull request is evaluated
// only after that: an evaluation queued beside the command task ran under
// another key, in parallel, and could count the approval before the void
// (review 2, finding 3).
func TestEditedApprovalIsEvaluatedOnlyAfterItIsVoided(t *testing.T) {
	fi := &fakeInteractions{fakeBackend: newFakeBackend()}
	voided := make(chan struct{})
	var evalBeforeVoid atomic.Int32
	fi.onCommand = func(job CommandJob) {
		if job.Edited {
			time.Sleep(100 * time.Millisecond) // GitHub/Redis latency before MarkEdited lands
			close(voided)
		}
	}
	fi.work = func() {
		select {
		case <-voided:
		default:
			evalBeforeVoid.Add(1)
		}
	}
	s, err := New(Options{Backend: fi, WebhookSecret: testSecret, Retry: fastRetry()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	ts := &testServer{Server: s, fb: fi.fakeBackend}
	rec := ts.deliver(t, "issue_comment", "e-1", commentPayload("edited", "bob", "User", "/countersign approve", true))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	waitFor(t, "the void", func() bool {
		select {
		case <-voided:
			return true
		default:
			return false
		}
	})
	time.Sleep(100 * time.Millisecond)
	if n := evalBeforeVoid.Load(); n > 0 {
		t.Errorf("%d evaluations of the pull request ran before the edited approval was voided", n)
	}
}

// A command task whose re-evaluation cannot be queued (one Redis blip) is
// retried, and the retry only queues the re-evaluation: the comment's
// commands were carried out, and replied to, once (review 2, finding 2).
func TestCommandIsCarriedOutOnceWhenItsReevaluationIsRetried(t *testing.T) {
	fi := &fakeInteractions{fakeBackend: newFakeBackend()}
	url := fencetest.StartRedis(t)
	o, _ := redis.ParseURL(url)
	c := redis.NewClient(o)
	h := &failHook{}
	c.AddHook(h)
	f, _ := fence.New(fence.Options{Client: c})
	var failed atomic.Bool
	h.set(func(cmd redis.Cmder) bool {
		// One blip: the first INCR of the pull request's queue key made
		// from inside the command task.
		if cmdName(cmd) == "incr" && strings.Contains(cmdArg(cmd, 1), "{acme/widgets#17}") && fi.commands.Load() > 0 {
			return failed.CompareAndSwap(false, true)
		}
		return false
	})
	s, err := New(Options{Backend: fi, WebhookSecret: testSecret, Redis: c, Locker: f, CoalesceDelay: 20 * time.Millisecond,
		Retry: fastRetry(), DrainTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	ts := &testServer{Server: s, fb: fi.fakeBackend}
	rec := ts.deliver(t, "issue_comment", "c-1", commentPayload("created", "bob", "User", "/countersign recheck", true))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	waitFor(t, "the re-evaluation", func() bool { return fi.count("acme/widgets#17") > 0 })
	time.Sleep(200 * time.Millisecond)
	if n := fi.commands.Load(); n != 1 {
		t.Errorf("one comment's commands were carried out %d times (each posts its reply/reaction again)", n)
	}
}

// A delivery whose work could not be queued (Redis failed after the id was
// reserved, and the release failed too) is answered 503, and its
// redelivery, which carries the same id, is processed: the reservation was
// only pending and lapsed. It was kept 72 h and the redelivery answered
// "200 duplicate" with nothing queued (review 2, finding 1).
func TestRedeliveryIsProcessedWhenTheFailedAttemptsIDStayedReserved(t *testing.T) {
	fb := newFakeBackend()
	ts, h := hookedRedisServer(t, fb)
	ts.Server.seen = redisDeliveries{rdb: ts.Server.opt.Redis, pending: 300 * time.Millisecond}
	h.set(func(cmd redis.Cmder) bool {
		switch cmdName(cmd) {
		case "incr", "eval", "evalsha": // the queue's sequence number: Redis is gone from here on
			for _, a := range cmd.Args() {
				if k, ok := a.(string); ok && strings.HasPrefix(k, redisPrefix+"q:{") && strings.HasSuffix(k, "}:seq") {
					return true
				}
			}
		case "del":
			return strings.HasPrefix(cmdArg(cmd, 1), redisPrefix+"delivery:")
		}
		return false
	})
	body := prEvent(t, "synchronize", "acme/widgets", 5, "abc")
	rec := ts.deliver(t, "pull_request", "guid-1", body)
	t.Logf("first attempt: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("the first attempt was answered %d, want 503", rec.Code)
	}
	h.set(nil)                         // Redis is back
	time.Sleep(400 * time.Millisecond) // GitHub redelivers minutes later, past the pending reservation
	rec = ts.deliver(t, "pull_request", "guid-1", body)
	t.Logf("redelivery: %d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
	time.Sleep(300 * time.Millisecond)
	if rec.Code != http.StatusAccepted || fb.count("acme/widgets#5") == 0 {
		t.Errorf("the redelivery of a delivery refused with 503 was answered %d and %d evaluations ran: the event is lost", rec.Code, fb.count("acme/widgets#5"))
	}
}

// A delivery id stays reserved for the redelivery window once its work was
// queued (a redelivery past the pending reservation's lapse is a
// duplicate), and while another replica handles the same delivery (its
// reservation pending) the delivery is answered as a duplicate with nothing
// queued.
func TestDeliveryIDIsKeptOnceQueuedAndHeldWhilePending(t *testing.T) {
	fb := newFakeBackend()
	ts, _ := hookedRedisServer(t, fb)
	rdb := ts.Server.opt.Redis
	ts.Server.seen = redisDeliveries{rdb: rdb, pending: 300 * time.Millisecond}
	body := prEvent(t, "synchronize", "acme/widgets", 5, "abc")
	if rec := ts.deliver(t, "pull_request", "guid-1", body); rec.Code != http.StatusAccepted {
		t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
	}
	ttl, err := rdb.TTL(context.Background(), deliveryKey("guid-1")).Result()
	if err != nil || ttl < redisKeyTTL-time.Minute {
		t.Errorf("the accepted delivery id expires in %v (%v), want the redelivery window", ttl, err)
	}
	time.Sleep(400 * time.Millisecond)
	if rec := ts.deliver(t, "pull_request", "guid-1", body); rec.Code != http.StatusOK {
		t.Errorf("redelivery of an accepted delivery: %d %s, want 200 duplicate", rec.Code, rec.Body)
	}

	// Another replica holds guid-2's reservation, handling it.
	if err := rdb.Set(context.Background(), deliveryKey("guid-2"), deliveryPending, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	body = prEvent(t, "synchronize", "acme/widgets", 6, "def")
	if rec := ts.deliver(t, "pull_request", "guid-2", body); rec.Code != http.StatusOK {
		t.Errorf("a delivery another replica is handling: %d %s, want 200 duplicate", rec.Code, rec.Body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := fb.count("acme/widgets#5"); n != 1 {
		t.Errorf("acme/widgets#5 evaluated %d times, want 1", n)
	}
	if n := fb.count("acme/widgets#6"); n != 0 {
		t.Errorf("acme/widgets#6 evaluated %d times by this replica, want 0", n)
	}
}

// A failed attempt younger than a pending reservation is left for the next
// redelivery run with Redis: redelivered at once it could find its id still
// reserved and be answered as a duplicate, then never redelivered again.
func TestRecentFailuresAreRedeliveredOnlyOnceTheirReservationLapsed(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ds := []HookDelivery{
		{ID: 2, GUID: "new", Status: "Invalid HTTP Response: 503", StatusCode: 503, DeliveredAt: now.Add(-10 * time.Second)},
		{ID: 1, GUID: "old", Status: "Invalid HTTP Response: 503", StatusCode: 503, DeliveredAt: now.Add(-2 * deliveryPendingTTL)},
	}
	got := settled(toRedeliver(ds), now.Add(-deliveryPendingTTL))
	if len(got) != 1 || got[0].GUID != "old" {
		t.Errorf("redelivered %v, want only the attempt older than the pending reservation", got)
	}
}
