package server

import (
	"sync"
	"time"
)

// dedup remembers delivery ids for a while, so a redelivered or replayed
// delivery is acknowledged without being processed again. It is bounded:
// beyond max entries the oldest are forgotten early.
type dedup struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	now   func() time.Time
	seen  map[string]time.Time
	order []dedupEntry // insertion order, which is also expiry order
}

type dedupEntry struct {
	id string
	at time.Time
}

func newDedup(ttl time.Duration, max int, now func() time.Time) *dedup {
	return &dedup{ttl: ttl, max: max, now: now, seen: map[string]time.Time{}}
}

// reserve records id and reports whether it was new.
func (d *dedup) reserve(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.evict(now)
	if _, ok := d.seen[id]; ok {
		return false
	}
	d.seen[id] = now
	d.order = append(d.order, dedupEntry{id, now})
	for len(d.seen) > d.max {
		d.pop()
	}
	return true
}

// has reports whether id is remembered (and not expired).
func (d *dedup) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.seen[id]
	return ok && d.now().Sub(at) < d.ttl
}

// release forgets id, so that a delivery that could not be accepted is
// processed when GitHub redelivers it.
func (d *dedup) release(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, id)
}

// len returns how many ids are remembered.
func (d *dedup) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

func (d *dedup) evict(now time.Time) {
	for len(d.order) > 0 && now.Sub(d.order[0].at) >= d.ttl {
		d.pop()
	}
	// Compact so released ids do not keep the backing array growing.
	if len(d.order) > 2*d.max+16 {
		kept := d.order[:0:0]
		for _, e := range d.order {
			if at, ok := d.seen[e.id]; ok && at.Equal(e.at) {
				kept = append(kept, e)
			}
		}
		d.order = kept
	}
}

func (d *dedup) pop() {
	e := d.order[0]
	d.order = d.order[1:]
	if at, ok := d.seen[e.id]; ok && at.Equal(e.at) {
		delete(d.seen, e.id)
	}
}
