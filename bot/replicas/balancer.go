package replicas

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Balancer is a load balancer in front of the replicas: it routes each
// request round-robin to the next live replica, passes on to the next one
// when a replica cannot be reached (as a proxy with passive health checks
// does; the replicas de-duplicate deliveries in Redis), and can send every
// delivery to several replicas. Its slots are replicas; a nil slot is down.
type Balancer struct {
	mu     sync.Mutex
	slots  []*Process
	next   int
	pinned int
	copies int
	after  func(Forward)
	client *http.Client

	forwarded atomic.Int64
}

// Forward describes one request a replica answered.
type Forward struct {
	// Slot is the replica's slot; Status its answer; Took the time to it.
	Slot   int
	Status int
	Took   time.Duration
	// Start is when the request was sent to the replica.
	Start time.Time
	// Header and Body are the request's.
	Header http.Header
	Body   []byte
}

// NewBalancer returns a balancer over procs (nil entries are down slots).
func NewBalancer(procs ...*Process) *Balancer {
	return &Balancer{slots: append([]*Process(nil), procs...), copies: 1, pinned: -1,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Len is the number of slots.
func (b *Balancer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.slots)
}

// Get returns the replica in slot i, or nil when it is down.
func (b *Balancer) Get(i int) *Process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.slots[i]
}

// Set puts p (nil: down) in slot i and returns what was there.
func (b *Balancer) Set(i int, p *Process) *Process {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.slots[i]
	b.slots[i] = p
	return old
}

// Live returns the replicas that are up.
func (b *Balancer) Live() []*Process {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*Process
	for _, p := range b.slots {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// SetCopies makes every POST go to k distinct replicas (default 1); the
// first answer is returned.
func (b *Balancer) SetCopies(k int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.copies = max(k, 1)
}

// Pin sends every request to the replica in slot i while it is up, one
// copy only; -1 routes round-robin again.
func (b *Balancer) Pin(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned = i
}

// SetAfter calls f after each answer of a replica, outside the balancer's
// lock (f may Set slots); nil calls nothing.
func (b *Balancer) SetAfter(f func(Forward)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.after = f
}

// Forwarded is how many POSTs the balancer received (each counted once,
// however many replicas it sent them to).
func (b *Balancer) Forwarded() int64 { return b.forwarded.Load() }

// pick returns up to k live slots in round-robin order.
func (b *Balancer) pick(k int) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pinned >= 0 && b.pinned < len(b.slots) && b.slots[b.pinned] != nil {
		return []int{b.pinned}
	}
	var out []int
	for tries := 0; tries < len(b.slots) && len(out) < k; tries++ {
		i := b.next % len(b.slots)
		b.next++
		if b.slots[i] != nil {
			out = append(out, i)
		}
	}
	return out
}

// ServeHTTP routes one request.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	k, after, n := 1, b.after, len(b.slots)
	if r.Method == http.MethodPost {
		k = b.copies
	}
	if b.pinned >= 0 && b.pinned < n && b.slots[b.pinned] != nil {
		k = 1
	}
	b.mu.Unlock()
	if r.Method == http.MethodPost {
		b.forwarded.Add(1)
	}
	var first *http.Response
	var firstBody []byte
	sent := 0
	// Each copy goes to the next live replica; one that cannot be reached
	// is passed over (at most once round the slots).
	for tries := 0; sent < k && tries < n; tries++ {
		targets := b.pick(1)
		if len(targets) == 0 {
			break
		}
		i := targets[0]
		p := b.Get(i)
		if p == nil {
			continue
		}
		req, _ := http.NewRequest(r.Method, "http://"+p.Addr+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		start := time.Now()
		resp, err := b.client.Do(req)
		if err != nil {
			continue
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sent++
		if first == nil {
			first, firstBody = resp, rb
		}
		if after != nil {
			after(Forward{Slot: i, Status: resp.StatusCode, Took: time.Since(start), Start: start, Header: r.Header, Body: body})
		}
	}
	if first == nil {
		http.Error(w, "no replica answered", http.StatusBadGateway)
		return
	}
	for key, v := range first.Header {
		w.Header()[key] = v
	}
	w.WriteHeader(first.StatusCode)
	w.Write(firstBody)
}
