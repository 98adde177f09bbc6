package fence

import (
	"context"
	"errors"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestPublishOrder: evaluations on two replicas take tokens, take random
// time, and publish. The check run's writes must come in token order: no
// write of an evaluation that began before the last written one.
func TestPublishOrder(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	var replicas []*Redis
	for range 2 {
		f, err := Dial(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		replicas = append(replicas, f)
	}
	var mu sync.Mutex
	var written []int64
	superseded := 0
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := replicas[i%2]
			tok, err := f.Begin(ctx, "acme/infra#1")
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
			err = f.Publish(ctx, "acme/infra#1", tok, func(context.Context) error {
				mu.Lock()
				written = append(written, tok)
				mu.Unlock()
				return nil
			})
			if errors.Is(err, ErrSuperseded) {
				mu.Lock()
				superseded++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := 1; i < len(written); i++ {
		if written[i] <= written[i-1] {
			t.Fatalf("write %d published token %d after token %d: %v", i, written[i], written[i-1], written)
		}
	}
	if len(written)+superseded != 60 || len(written) == 0 {
		t.Errorf("%d written, %d superseded, want 60 in all", len(written), superseded)
	}
	if written[len(written)-1] != 60 {
		t.Errorf("the last write is token %d, want the newest (60)", written[len(written)-1])
	}
	t.Logf("%d written in order, %d superseded", len(written), superseded)
}

// TestFailedWriteIsNotRecorded: a write GitHub refused does not count as
// published, so an older evaluation may still publish after it.
func TestFailedWriteIsNotRecorded(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	f, err := Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old, _ := f.Begin(ctx, "k")
	newer, _ := f.Begin(ctx, "k")
	boom := errors.New("github: 502")
	if err := f.Publish(ctx, "k", newer, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Publish returned %v, want the write's error", err)
	}
	ran := false
	if err := f.Publish(ctx, "k", old, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("the older evaluation could not publish after a failed newer write: ran=%v err=%v", ran, err)
	}
	if err := f.Publish(ctx, "k", newer, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("the newer evaluation's retry could not publish: %v", err)
	}
	if err := f.Publish(ctx, "k", old, func(context.Context) error { return nil }); !errors.Is(err, ErrSuperseded) {
		t.Errorf("the older evaluation published after the newer one: %v", err)
	}
}

// TestDialRefusesBadURLWithoutEchoingIt: a malformed URL's error does not
// repeat the URL (it may carry a password).
func TestDialRefusesBadURLWithoutEchoingIt(t *testing.T) {
	_, err := Dial(context.Background(), "http://user:s3cret@host/")
	if err == nil {
		t.Fatal("no error")
	}
	if want := "s3cret"; contains(err.Error(), want) {
		t.Errorf("the error shows the password: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestHoldExclusive: evaluations of one pull request on two replicas never
// overlap, even when each outlasts the lease (the lock is renewed), and a
// lock whose holder vanished lapses after one lease.
func TestHoldExclusive(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	var replicas []*Redis
	for range 2 {
		f, err := Dial(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.lease = 150 * time.Millisecond
		replicas = append(replicas, f)
	}
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hctx, release, err := replicas[i%2].Hold(ctx, "acme/infra#1")
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			time.Sleep(200 * time.Millisecond) // longer than the lease
			if hctx.Err() != nil {
				t.Errorf("the lock was lost while held: %v", context.Cause(hctx))
			}
			mu.Lock()
			inside--
			mu.Unlock()
		}()
	}
	wg.Wait()
	if maxInside != 1 {
		t.Fatalf("%d evaluations of one pull request ran at once, want 1", maxInside)
	}

	// A holder that dies without releasing: its lock lapses after a lease.
	dead := replicas[0]
	if err := dead.lock(ctx, dead.prefix+"{acme/infra#2}:eval", "gone"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, release, err := replicas[1].Hold(ctx, "acme/infra#2")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("a dead holder's lock held for %v", waited)
	}
}

// TestBeginAfterStoreLossStaysAbovePublished: Redis comes back empty
// (restarted without persistence, failed over, evicted) while an evaluation
// that took a token before the loss is still running. Once it publishes, the
// counter restarting at 1 must not make every later evaluation's verdict
// "superseded": the next token is above the published one, and it publishes.
func TestBeginAfterStoreLossStaysAbovePublished(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	f, err := Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const key = "acme/infra#1"
	var old int64
	for range 50 {
		if old, err = f.Begin(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Client().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The older evaluation's verdict lands on the empty Redis.
	_ = f.Publish(ctx, key, old, func(context.Context) error { return nil })
	newer, err := f.Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if newer <= old {
		t.Errorf("Begin after the loss returned %d, not above the published %d", newer, old)
	}
	ran := false
	if err := f.Publish(ctx, key, newer, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("the evaluation begun after the older one published could not publish: ran=%v err=%v", ran, err)
	}
}

// TestPublishAfterLapsedLockAsksForReevaluation: an older evaluation's
// write stalls past the lock's lease (a GC pause, a slow GitHub), a newer
// evaluation takes the lock and writes, and the older write lands last.
// GitHub's write cannot be made conditional, so Publish must say so
// (ErrReevaluate) and a fresh evaluation, with a token above both, must
// then publish: the newest facts are written last.
func TestPublishAfterLapsedLockAsksForReevaluation(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	var fs []*Redis
	for range 2 {
		f, err := Dial(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.lease = 300 * time.Millisecond
		fs = append(fs, f)
	}
	const key = "acme/infra#1"
	old, _ := fs[0].Begin(ctx, key)
	newer, _ := fs[1].Begin(ctx, key)
	var mu sync.Mutex
	var applied []int64
	apply := func(tok int64) { mu.Lock(); applied = append(applied, tok); mu.Unlock() }
	started, newerDone := make(chan struct{}), make(chan struct{})
	oldErr := make(chan error, 1)
	go func() {
		oldErr <- fs[0].Publish(ctx, key, old, func(context.Context) error {
			close(started)
			<-newerDone // stalled past the lease, deaf to its context
			apply(old)
			return nil
		})
	}()
	<-started
	if err := fs[1].Publish(ctx, key, newer, func(context.Context) error { apply(newer); return nil }); err != nil {
		t.Fatalf("the newer evaluation could not publish once the lease lapsed: %v", err)
	}
	close(newerDone)
	if err := <-oldErr; !errors.Is(err, ErrReevaluate) {
		t.Fatalf("the older write landed after the newer one (applied %v) and Publish returned %v, want ErrReevaluate", applied, err)
	}
	// The re-evaluation the caller runs publishes last.
	again, err := fs[0].Begin(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs[0].Publish(ctx, key, again, func(context.Context) error { apply(again); return nil }); err != nil {
		t.Fatalf("the re-evaluation could not publish: %v", err)
	}
	if last := applied[len(applied)-1]; last != again || again <= newer {
		t.Errorf("applied %v: the last write is token %d, want the re-evaluation's (%d, above %d)", applied, last, again, newer)
	}
}

// TestPublishCutOffWriteAsksForReevaluation: a write cut off by the lease
// bound (its context ended) may still be applied by GitHub after the lock
// is released and a newer verdict written, so its outcome is unknown and
// Publish asks for a new evaluation rather than a retry of the old one.
func TestPublishCutOffWriteAsksForReevaluation(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	f, err := Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.lease = 150 * time.Millisecond
	tok, _ := f.Begin(ctx, "k")
	err = f.Publish(ctx, "k", tok, func(ctx context.Context) error {
		<-ctx.Done() // GitHub did not answer within the bound
		return ctx.Err()
	})
	if !errors.Is(err, ErrReevaluate) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cut-off write returned %v, want ErrReevaluate wrapping the write's error", err)
	}
}

// TestPublishAfterStoreLossAsksForReevaluation: Redis came back empty, an
// evaluation began on it (token 1, newer facts), and then an evaluation
// that took its token before the loss publishes. The newer one is now
// "superseded", so the older verdict would stand: Publish, seeing a token
// above the counter (which only a loss explains), asks for a new
// evaluation, whose token is above the published one.
func TestPublishAfterStoreLossAsksForReevaluation(t *testing.T) {
	url := fencetest.StartRedis(t)
	ctx := context.Background()
	f, err := Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const key = "acme/infra#1"
	var old int64
	for range 50 {
		old, _ = f.Begin(ctx, key)
	}
	if err := f.Client().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	inFlight, _ := f.Begin(ctx, key)
	if err := f.Publish(ctx, key, old, func(context.Context) error { return nil }); !errors.Is(err, ErrReevaluate) {
		t.Fatalf("the pre-loss evaluation published over a newer one's token (%d) and Publish returned %v, want ErrReevaluate", inFlight, err)
	}
	if err := f.Publish(ctx, key, inFlight, func(context.Context) error { return nil }); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("the in-flight evaluation: %v, want ErrSuperseded", err)
	}
	again, _ := f.Begin(ctx, key)
	ran := false
	if err := f.Publish(ctx, key, again, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("the re-evaluation (token %d) could not publish: ran=%v err=%v", again, ran, err)
	}
}
