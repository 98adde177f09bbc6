package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/countersign/countersign/bot/fence"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Defaults of a Redis queue.
const (
	// redisQueueName is the asynq queue every replica serves.
	redisQueueName = "countersign"
	// DefaultCoalesceDelay is how long queued work waits before it may run,
	// so a burst of events for one pull request runs once.
	DefaultCoalesceDelay = 300 * time.Millisecond
	// redisKeyTTL bounds every key the queue and the intake keep: GitHub's
	// redelivery window of 3 days.
	redisKeyTTL = 72 * time.Hour
	// redisPrefix begins every key the server keeps in Redis.
	redisPrefix = "countersign:"
)

// Locker holds a key's evaluation lock cluster-wide (bot/fence.Redis).
type Locker interface {
	// Hold waits for key's lock and holds it, renewed, until release is
	// called; the returned context ends if the lock is lost.
	Hold(ctx context.Context, key string) (held context.Context, release func(), err error)
}

// redisPayload is the payload of a task in Redis.
type redisPayload struct {
	// Key and Kind are the task's; Seq orders the work queued for Key:
	// a task whose Seq is below the latest queued is superseded.
	Key  string   `json:"key"`
	Kind string   `json:"kind"`
	Seq  int64    `json:"seq"`
	Spec taskSpec `json:"spec"`
}

// redisQueue is a workQueue in Redis, run by asynq: a task accepted by one
// replica survives it and runs on any replica; a task whose replica died
// while running it is recovered when its lease lapses (asynq's recoverer).
// Work for one key is coalesced by sequence: each submission takes the next
// number of its key, and a task that finds a later number queued does
// nothing (the later one runs on a state at least as new). Evaluations of
// one pull request are serialized cluster-wide by the Locker.
type redisQueue struct {
	s        *Server
	rdb      redis.UniversalClient
	client   *asynq.Client
	srv      *asynq.Server
	insp     *asynq.Inspector
	lock     Locker
	retry    RetryPolicy
	timeout  time.Duration
	coalesce time.Duration
	m        *metrics
	log      *slog.Logger
}

// setMax records a key's latest queued sequence number.
var setMax = redis.NewScript(`
local cur = tonumber(redis.call("GET", KEYS[1]) or "0")
if tonumber(ARGV[1]) > cur then redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2]) end
return 1`)

func newRedisQueue(s *Server, o Options, m *metrics) (*redisQueue, error) {
	q := &redisQueue{
		s: s, rdb: o.Redis, lock: o.Locker, retry: o.Retry, timeout: o.EvaluateTimeout,
		coalesce: o.CoalesceDelay, m: m, log: o.Logger,
		client: asynq.NewClientFromRedisClient(o.Redis),
		insp:   asynq.NewInspectorFromRedisClient(o.Redis),
	}
	q.srv = asynq.NewServerFromRedisClient(o.Redis, asynq.Config{
		Concurrency: o.Workers,
		Queues:      map[string]int{redisQueueName: 1},
		// asynq polls: idle workers look for work every TaskCheckInterval,
		// and delayed (coalescing) work is moved to pending every
		// DelayedTaskCheckInterval; their defaults (1s, 5s) would add
		// seconds to every change-to-check.
		TaskCheckInterval:        50 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			if errors.Is(err, asynq.ErrLeaseExpired) {
				return time.Second // its replica died: run it again at once
			}
			return q.retry.Delay(n + 1)
		},
		ShutdownTimeout: o.DrainTimeout,
		Logger:          asynqLogger{o.Logger},
		LogLevel:        asynq.WarnLevel,
		// Errors are logged by the handler, with the task's fields.
		ErrorHandler: asynq.ErrorHandlerFunc(func(context.Context, *asynq.Task, error) {}),
	})
	if err := q.srv.Start(asynq.HandlerFunc(q.handle)); err != nil {
		return nil, fmt.Errorf("server: starting the Redis queue: %w", err)
	}
	if err := o.Registry.Register(queueCollector{q.insp}); err != nil {
		q.srv.Shutdown()
		return nil, fmt.Errorf("server: registering the queue metrics: %w", err)
	}
	m.queueCapacity.Set(0)
	return q, nil
}

func seqKey(key string) string    { return redisPrefix + "q:{" + key + "}:seq" }
func latestKey(key string) string { return redisPrefix + "q:{" + key + "}:latest" }

// submit queues each task in Redis. It is not all-or-none: a task queued
// before a failure stays queued, which is harmless (work is idempotent and
// coalesced), and the error makes the delivery fail so it is redelivered.
func (q *redisQueue) submit(ctx context.Context, tasks []task, _ bool) error {
	for _, t := range tasks {
		if t.spec.Op == "" {
			return fmt.Errorf("server: %s work for %s cannot be queued in Redis (no task spec)", t.kind, t.key)
		}
		seq, err := fence.IncrAbove.Run(ctx, q.rdb, []string{seqKey(t.key), latestKey(t.key)}, redisKeyTTL.Milliseconds()).Int64()
		if err != nil {
			return fmt.Errorf("server: queueing in Redis: %w", err)
		}
		b, err := json.Marshal(redisPayload{Key: t.key, Kind: t.kind, Seq: seq, Spec: t.spec})
		if err != nil {
			return fmt.Errorf("server: encoding a task: %w", err)
		}
		attempts := q.retry.Attempts
		if _, err := q.client.EnqueueContext(ctx, asynq.NewTask(t.spec.Op, b), asynq.Queue(redisQueueName),
			asynq.MaxRetry(attempts-1), asynq.Timeout(q.timeout), asynq.ProcessIn(q.coalesce)); err != nil {
			return fmt.Errorf("server: queueing in Redis: %w", err)
		}
		if err := setMax.Run(ctx, q.rdb, []string{latestKey(t.key)}, seq, redisKeyTTL.Milliseconds()).Err(); err != nil {
			return fmt.Errorf("server: queueing in Redis: %w", err)
		}
	}
	return nil
}

// superseded reports whether later work for p's key is queued.
func (q *redisQueue) superseded(ctx context.Context, p redisPayload) bool {
	latest, err := q.rdb.Get(ctx, latestKey(p.Key)).Int64()
	return err == nil && latest > p.Seq
}

// handle runs one task taken from Redis.
func (q *redisQueue) handle(ctx context.Context, at *asynq.Task) error {
	var p redisPayload
	if err := json.Unmarshal(at.Payload(), &p); err != nil {
		q.log.Error("a queued task could not be read; dropped", slog.String("type", at.Type()), slog.Any("error", err))
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	t, err := q.s.fromSpec(p.Spec)
	if err != nil {
		q.log.Error("a queued task could not be run; dropped", slog.String("type", at.Type()), slog.Any("error", err))
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	if q.superseded(ctx, p) {
		q.m.coalesced.Inc()
		return nil
	}
	if q.lock != nil && (p.Spec.Op == opEvaluate || p.Spec.Op == opMergeGroup) {
		held, release, err := q.lock.Hold(ctx, t.key)
		if err != nil {
			return q.failed(ctx, t, err)
		}
		defer release()
		// Work queued while this waited for the lock supersedes it.
		if q.superseded(ctx, p) {
			q.m.coalesced.Inc()
			return nil
		}
		ctx = held
	}
	err = runWork(ctx, t, q.attempt(ctx), q.m, q.log)
	if errors.Is(err, ErrEvaluateAgain) && p.Spec.Op == opEvaluate {
		err = q.evaluateAgain(ctx, p, err)
	}
	return q.failed(ctx, t, err)
}

// evaluateAgain queues a new evaluation of p's pull request after one whose
// write may have landed after a newer evaluation's (ErrEvaluateAgain). A
// retry of p would not do: the newer work that wrote meanwhile has a later
// number, so the retry would be dropped as superseded and the older verdict
// would stand. The new task takes a number above every queued one, runs
// after this one (the pull request's lock), takes a new fence token and
// reads fresh facts (no snapshot: the delivery's may be older than what the
// newer evaluation read), so the newest facts are written last. It returns
// nil once the task is queued, and err, to be retried, if it could not be.
func (q *redisQueue) evaluateAgain(ctx context.Context, p redisPayload, err error) error {
	j := p.Spec.Job
	j.Snapshot = nil
	// The pull request's lock may be what was lost: queue regardless.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := q.submit(sctx, []task{q.s.evalTaskAdmitted(j)}, false); serr != nil {
		return fmt.Errorf("%w; queueing a new evaluation failed: %v", err, serr)
	}
	q.log.Warn("the check run may show an older verdict; a new evaluation is queued",
		slog.String("key", p.Key), slog.Any("error", err))
	return nil
}

func (q *redisQueue) attempt(ctx context.Context) int {
	n, _ := asynq.GetRetryCount(ctx)
	return n + 1
}

// failed counts and logs a failed attempt and returns err for asynq to retry.
func (q *redisQueue) failed(ctx context.Context, t task, err error) error {
	if err == nil {
		return nil
	}
	attempt := q.attempt(ctx)
	log := q.log.With(t.logAttrs()...)
	if attempt >= q.retry.Attempts {
		q.m.failures.WithLabelValues(t.kind).Inc()
		log.Error("work failed; giving up", slog.Int("attempts", attempt), slog.Any("error", err))
		q.s.parkGivenUp(ctx, t, log)
	} else {
		q.m.retries.WithLabelValues(t.kind).Inc()
		log.Warn("work failed; will retry", slog.Int("attempt", attempt), slog.Any("error", err))
	}
	return err
}

// depth returns the tasks waiting in Redis, or -1 when Redis does not answer.
func (q *redisQueue) depth() int {
	qi, err := q.insp.GetQueueInfo(redisQueueName)
	if err != nil {
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return 0
		}
		return -1
	}
	return qi.Pending + qi.Scheduled + qi.Retry
}

// drain stops taking tasks and waits (up to Options.DrainTimeout) for the
// running ones; what has not finished then goes back to Redis for another
// replica, so nothing is abandoned.
func (q *redisQueue) drain(ctx context.Context) []string {
	q.srv.Stop()
	done := make(chan struct{})
	go func() { q.srv.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		<-done // Shutdown requeues what still runs after its own timeout
	}
	return nil
}

// acceptsWhileDraining is true: the work goes to Redis, for any replica.
func (q *redisQueue) acceptsWhileDraining() bool { return true }

// asynqLogger sends asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug("asynq: " + fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info("asynq: " + fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn("asynq: " + fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error("asynq: " + fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error("asynq: " + fmt.Sprint(args...)) }

// Metric names of the queue in Redis.
const (
	metricQueueTasks   = "countersign_queue_tasks"
	metricQueueLatency = "countersign_queue_latency_seconds"
	metricQueueDead    = "countersign_queue_dead_tasks"
)

var (
	descQueueTasks = prometheus.NewDesc(metricQueueTasks,
		"Tasks in the shared Redis queue, by state (pending, scheduled, active, retry).", []string{"state"}, nil)
	descQueueLatency = prometheus.NewDesc(metricQueueLatency,
		"How long the oldest pending task of the shared Redis queue has waited.", nil, nil)
	descQueueDead = prometheus.NewDesc(metricQueueDead,
		"Tasks of the shared Redis queue that failed every attempt and were archived.", nil, nil)
)

// queueCollector reads the shared queue's state from Redis at each scrape.
type queueCollector struct{ insp *asynq.Inspector }

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueueTasks
	ch <- descQueueLatency
	ch <- descQueueDead
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	qi, err := c.insp.GetQueueInfo(redisQueueName)
	if err != nil {
		qi = &asynq.QueueInfo{}
		if !errors.Is(err, asynq.ErrQueueNotFound) {
			ch <- prometheus.NewInvalidMetric(descQueueTasks, err)
			return
		}
	}
	for state, n := range map[string]int{"pending": qi.Pending, "scheduled": qi.Scheduled, "active": qi.Active, "retry": qi.Retry} {
		ch <- prometheus.MustNewConstMetric(descQueueTasks, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(descQueueLatency, prometheus.GaugeValue, qi.Latency.Seconds())
	ch <- prometheus.MustNewConstMetric(descQueueDead, prometheus.GaugeValue, float64(qi.Archived))
}
