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
