package replicas

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// backends are replicas that count what they receive.
func backends(t *testing.T, n int) ([]*Process, []*int, *sync.Mutex) {
	t.Helper()
	var mu sync.Mutex
	counts := make([]*int, n)
	procs := make([]*Process, n)
	for i := range n {
		counts[i] = new(int)
		c := counts[i]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			*c++
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		procs[i] = &Process{Addr: strings.TrimPrefix(srv.URL, "http://")}
	}
	return procs, counts, &mu
}

func post(t *testing.T, b *Balancer) int {
	t.Helper()
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader("{}")))
	return rec.Code
}

func TestBalancerRoutesRoundRobinAndPassesOverDownReplicas(t *testing.T) {
	procs, counts, mu := backends(t, 3)
	// Slot 2 listens nowhere: a replica that cannot be reached.
	unreachable, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	b := NewBalancer(procs[0], procs[1], &Process{Addr: unreachable})
	var acks int
	b.SetAfter(func(f Forward) { acks++ })
	for range 6 {
		if code := post(t, b); code != http.StatusAccepted {
			t.Fatalf("status %d", code)
		}
	}
	mu.Lock()
	if *counts[0]+*counts[1] != 6 || *counts[0] < 2 || *counts[1] < 2 {
		t.Errorf("deliveries per replica %d, %d; want 6 spread over the two that answer", *counts[0], *counts[1])
	}
	mu.Unlock()
	if b.Forwarded() != 6 || acks != 6 {
		t.Errorf("forwarded %d, answers seen %d; want 6 and 6", b.Forwarded(), acks)
	}

	b.Set(2, nil)
	b.Set(1, nil)
	if code := post(t, b); code != http.StatusAccepted {
		t.Fatalf("one replica up: status %d", code)
	}
	b.Set(0, nil)
	if code := post(t, b); code != http.StatusBadGateway {
		t.Fatalf("no replica up: status %d, want 502", code)
	}
}

func TestBalancerCopiesAndPin(t *testing.T) {
	procs, counts, mu := backends(t, 3)
	b := NewBalancer(procs...)
	b.SetCopies(2)
	post(t, b)
	mu.Lock()
	if got := *counts[0] + *counts[1] + *counts[2]; got != 2 {
		t.Errorf("copies 2: %d replicas received the delivery", got)
	}
	mu.Unlock()
	b.Pin(2)
	before := *counts[2]
	for range 3 {
		post(t, b)
	}
	mu.Lock()
	if *counts[2]-before != 3 {
		t.Errorf("pinned to slot 2: it received %d of 3 (one copy each)", *counts[2]-before)
	}
	mu.Unlock()
}
