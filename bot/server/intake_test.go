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
