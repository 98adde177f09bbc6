package githubsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDeliveryWorkersSendConcurrently: with DeliveryWorkers 4, four
// deliveries are in flight at once (a receiver that holds each request until
// four have arrived would deadlock a single sender), and every queued
// delivery is sent exactly once and recorded as delivered.
func TestDeliveryWorkersSendConcurrently(t *testing.T) {
	for _, tc := range []struct {
		workers, wantPeak int
	}{{1, 1}, {4, 4}} {
		f := setup(t, Options{DeliveryWorkers: tc.workers})
		var inFlight, peak atomic.Int64
		var mu sync.Mutex
		seen := map[string]int{}
		release := make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			if n >= int64(tc.wantPeak) {
				once.Do(func() { close(release) })
			}
			select {
			case <-release:
			case <-time.After(2 * time.Second): // a single sender never reaches the peak of a pool
			}
			inFlight.Add(-1)
			mu.Lock()
			seen[r.Header.Get("X-GitHub-Delivery")]++
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		f.sim.SetWebhook(srv.URL, "s")
		s := f.sim
		s.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Files: map[string]string{"x": "1\n"}})
		n := s.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
		for range 6 {
			s.Comment("acme/widgets", n, "bob", "hello")
		}
		if err := s.WaitDeliveries(ctx(t)); err != nil {
			t.Fatal(err)
		}
		ds := s.Deliveries()
		if len(ds) != 9 {
			t.Fatalf("workers %d: %d deliveries queued, want 9", tc.workers, len(ds))
		}
		mu.Lock()
		for _, d := range ds {
			if d.Status != http.StatusAccepted || seen[d.GUID] != 1 {
				t.Fatalf("workers %d: delivery %s status %d, received %d times", tc.workers, d.GUID, d.Status, seen[d.GUID])
			}
		}
		mu.Unlock()
		if got := peak.Load(); got != int64(tc.wantPeak) {
			t.Fatalf("workers %d: at most %d deliveries in flight at once, want %d", tc.workers, got, tc.wantPeak)
		}
	}
}
