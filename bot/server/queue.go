package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"
)

// Kinds of work, the "kind" label of the work metrics.
const (
	kindEvaluate = "evaluate"
	kindFanout   = "fanout"
)

// ErrQueueFull is returned when a delivery's work does not fit in the queue;
// the delivery is answered 503 so GitHub records it as failed.
var ErrQueueFull = errors.New("server: work queue is full")

// errStopped is returned when work is submitted after the queue stopped.
var errStopped = errors.New("server: work queue has stopped")

// RetryPolicy says how often failed work is tried and how long to wait in
// between: the wait after the n-th failure is Initial·2^(n-1), capped at Max,
// with "equal jitter" (a uniformly random point in its upper half).
type RetryPolicy struct {
	// Attempts is the total number of attempts, the first included; default 5.
	Attempts int
	// Initial is the wait after the first failure; default 10s.
	Initial time.Duration
	// Max caps one wait; default 2m.
	Max time.Duration
}

// DefaultRetryPolicy is 5 attempts over about 1.5 to 2.5 minutes.
var DefaultRetryPolicy = RetryPolicy{Attempts: 5, Initial: 10 * time.Second, Max: 2 * time.Minute}

func (r RetryPolicy) withDefaults() RetryPolicy {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetryPolicy.Attempts
	}
	if r.Initial <= 0 {
		r.Initial = DefaultRetryPolicy.Initial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryPolicy.Max
	}
	if r.Max < r.Initial {
		r.Max = r.Initial
	}
	return r
}

// Delay returns the jittered wait after the given number of failures (1 or more).
func (r RetryPolicy) Delay(failures int) time.Duration {
	d := r.Max
	if failures >= 1 && failures < 32 {
		if x := r.Initial << (failures - 1); x > 0 && x < r.Max {
			d = x
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// task is one unit of queued work: evaluating one pull request, or listing
// the pull requests an installation- or repository-wide event covers.
type task struct {
	// key serializes and coalesces work: Job.Key() for evaluations.
	key  string
	kind string
	// job is the pull request to evaluate or, for a fan-out, the
	// installation, repository, reason and delivery it came from.
	job Job
	// spec is the task as data, for a queue in Redis.
	spec taskSpec
	run  func(ctx context.Context) error
}

// logAttrs are the fields a task's log lines carry.
func (t task) logAttrs() []any {
	a := []any{slog.String("kind", t.kind), slog.String("delivery", t.job.DeliveryID),
		slog.Int64("installation", t.job.Installation), slog.String("reason", t.job.Reason)}
	if t.job.Owner != "" {
		a = append(a, slog.String("repo", t.job.Owner+"/"+t.job.Repo))
	}
	if t.job.Number != 0 {
		a = append(a, slog.Int("pr", t.job.Number))
	}
	if t.job.HeadSHA != "" {
		a = append(a, slog.String("head_sha", t.job.HeadSHA))
	}
	return a
}

// slot is the state of one key: at most one task pending, at most one running.
type slot struct {
	t       task
	failed  int  // failed attempts of t so far
	queued  bool // in the ready list
	running bool
	dirty   bool // a newer task arrived while running: run again after
	timer   *time.Timer
}

// queue is a bounded, keyed work queue served by a fixed pool of workers.
// Work for one key never runs concurrently; work submitted for a key that is
// already pending replaces it (coalescing a burst into one run of the latest
// state), and work submitted while its key runs makes it run once more after.
type queue struct {
	mu       sync.Mutex
	cond     *sync.Cond // signalled when a key becomes ready or the queue stops
	idle     *sync.Cond // broadcast when the queue empties or the drain deadline passes
	slots    map[string]*slot
	ready    []string
	running  int
	dirty    int
	capacity int
	stopped  bool
	deadline bool

	retry   RetryPolicy
	timeout time.Duration
	m       *metrics
	log     *slog.Logger
	// givenUp, when set, is told of work given up after its last attempt
	// (called with mu held; it must not call back into the queue).
	givenUp func(ctx context.Context, t task, log *slog.Logger)

	ctx    context.Context
	cancel context.CancelFunc
	pool   *pool.Pool

	drainOnce sync.Once
	abandoned []string
}

func newQueue(workers, capacity int, retry RetryPolicy, timeout time.Duration, m *metrics, log *slog.Logger) *queue {
	q := &queue{
		slots:    map[string]*slot{},
		capacity: capacity,
		retry:    retry,
		timeout:  timeout,
		m:        m,
		log:      log,
		pool:     pool.New().WithMaxGoroutines(workers),
	}
	q.cond = sync.NewCond(&q.mu)
	q.idle = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	m.queueCapacity.Set(float64(capacity))
	for range workers {
		q.pool.Go(q.worker)
	}
	return q
}

// submit queues tasks, all or none. With bounded set, it refuses with
// ErrQueueFull when the new keys do not fit; work derived from an accepted
// delivery (fan-out) is submitted unbounded, so it is never dropped.
func (q *queue) submit(_ context.Context, tasks []task, bounded bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return errStopped
	}
	if bounded {
		added := map[string]bool{}
		for _, t := range tasks {
			if _, ok := q.slots[t.key]; !ok {
				added[t.key] = true
			}
		}
		if len(q.slots)+len(added) > q.capacity {
			q.m.rejected.Inc()
			return ErrQueueFull
		}
	}
	for _, t := range tasks {
		q.put(t)
	}
	q.gauge()
	return nil
}

// put adds or merges one task; q.mu is held.
func (q *queue) put(t task) {
	s, ok := q.slots[t.key]
	if !ok {
		s = &slot{t: t}
		q.slots[t.key] = s
		q.enqueue(t.key, s)
		return
	}
	switch {
	case s.running:
		if s.dirty {
			q.m.coalesced.Inc()
		} else {
			s.dirty = true
			q.dirty++
		}
	case s.queued:
		q.m.coalesced.Inc()
	case s.timer != nil:
		// Waiting to retry: newer work supersedes the wait.
		s.timer.Stop()
		s.timer = nil
		q.enqueue(t.key, s)
	}
	s.t = t
	s.failed = 0
}

func (q *queue) enqueue(key string, s *slot) {
	s.queued = true
	q.ready = append(q.ready, key)
	q.cond.Signal()
}

// gauge publishes the running work and the queue depth; q.mu is held.
// Running is set first: a reader that sees the depth drop as a worker takes
// a task then sees that task running, so depth 0 and running 0 read in that
// order mean idle.
func (q *queue) gauge() {
	q.m.running.Set(float64(q.running))
	q.m.queueDepth.Set(float64(len(q.slots) - q.running + q.dirty))
}

// depth returns what countersign_queue_depth shows.
func (q *queue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.slots) - q.running + q.dirty
}

func (q *queue) worker() {
	for {
		q.mu.Lock()
		for len(q.ready) == 0 && !q.stopped {
			q.cond.Wait()
		}
		if q.stopped {
			q.mu.Unlock()
			return
		}
		key := q.ready[0]
		q.ready[0] = ""
		q.ready = q.ready[1:]
		s := q.slots[key]
		s.queued = false
		s.running = true
		q.running++
		t, attempt := s.t, s.failed+1
		q.gauge()
		q.mu.Unlock()

		err := q.exec(t, attempt)
		q.finish(key, s, t, err)
	}
}

// exec runs one attempt of a task, recovering a panic as an error.
func (q *queue) exec(t task, attempt int) error {
	ctx, cancel := context.WithTimeout(q.ctx, q.timeout)
	defer cancel()
	return runWork(ctx, t, attempt, q.m, q.log)
}

// runWork runs one attempt of a task on either queue, recovering a panic
// as an error, and records its duration or outcome.
func runWork(ctx context.Context, t task, attempt int, m *metrics, logger *slog.Logger) (err error) {
	log := logger.With(t.logAttrs()...).With(slog.Int("attempt", attempt))
	if t.kind == kindEvaluate {
		m.inFlight.Inc()
		defer m.inFlight.Dec()
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			log.Error("work panicked", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
		}
		elapsed := time.Since(start)
		result := "success"
		if err != nil {
			result = "error"
		}
		switch t.kind {
		case kindEvaluate:
			m.evalDuration.WithLabelValues(result).Observe(elapsed.Seconds())
		case kindFanout:
			m.fanouts.WithLabelValues(result).Inc()
		}
		if err == nil {
			log.Info("work done", slog.Duration("duration", elapsed))
		}
	}()
	log.Debug("work started")
	return t.run(ctx)
}

// finish records the outcome of one attempt and decides what runs next.
func (q *queue) finish(key string, s *slot, t task, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	defer q.gauge()
	s.running = false
	q.running--
	log := q.log.With(t.logAttrs()...)
	if s.dirty {
		// Newer work arrived while this ran; it supersedes any retry.
		s.dirty = false
		q.dirty--
		if err != nil {
			log.Warn("work failed; newer work for the same key runs next", slog.Any("error", err))
		}
		if !q.stopped {
			q.enqueue(key, s)
			return
		}
	}
	if err == nil {
		q.remove(key)
		return
	}
	s.failed++
	if s.failed >= q.retry.Attempts || q.stopped {
		q.m.failures.WithLabelValues(t.kind).Inc()
		log.Error("work failed; giving up", slog.Int("attempts", s.failed), slog.Any("error", err))
		q.remove(key)
		if !q.stopped && q.givenUp != nil {
			q.givenUp(context.Background(), t, log)
		}
		return
	}
	wait := q.retry.Delay(s.failed)
	q.m.retries.WithLabelValues(t.kind).Inc()
	log.Warn("work failed; will retry", slog.Int("attempt", s.failed), slog.Duration("retry_in", wait), slog.Any("error", err))
	var tm *time.Timer
	tm = time.AfterFunc(wait, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.slots[key] != s || s.timer != tm || q.stopped {
			return
		}
		s.timer = nil
		q.enqueue(key, s)
		q.gauge()
	})
	s.timer = tm
}

// acceptsWhileDraining is false: nothing would run work accepted now.
func (q *queue) acceptsWhileDraining() bool { return false }

func (q *queue) remove(key string) {
	delete(q.slots, key)
	if len(q.slots) == 0 {
		q.idle.Broadcast()
	}
}

// drain waits until every queued task (retries included) has finished or ctx
// is done, then stops the workers, cancelling what still runs. It returns the
// keys whose work was abandoned. Later calls wait for the first and return
// its result.
func (q *queue) drain(ctx context.Context) []string {
	q.drainOnce.Do(func() { q.abandoned = q.drainNow(ctx) })
	return q.abandoned
}

func (q *queue) drainNow(ctx context.Context) []string {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.deadline = true
		q.idle.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	for len(q.slots) > 0 && !q.deadline {
		q.idle.Wait()
	}
	q.stopped = true
	var abandoned []string
	for k, s := range q.slots {
		if s.timer != nil {
			s.timer.Stop()
		}
		abandoned = append(abandoned, k)
	}
	q.cond.Broadcast()
	q.mu.Unlock()
	q.cancel()
	q.pool.Wait()
	return abandoned
}
