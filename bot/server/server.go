// Package server is Countersign's webhook intake: it verifies and parses
// GitHub deliveries, turns the events it handles into jobs for one pull
// request each, and runs them on a bounded, keyed work queue against a
// Backend, with health, readiness and Prometheus endpoints on a listener of
// their own (never the webhook's).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/countersign/countersign/bot/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultWorkers         = 4
	DefaultQueueSize       = 1000
	DefaultEvaluateTimeout = 5 * time.Minute
	DefaultDedupTTL        = time.Hour
	DefaultDedupSize       = 10000
	DefaultDrainTimeout    = 30 * time.Second
)

// Options configures a Server.
type Options struct {
	// Backend evaluates pull requests; required.
	Backend Backend
	// Landing, when set, accounts for pushes to protected branches and
	// answers deployment protection rule requests; nil means neither.
	Landing Landing
	// WebhookSecret verifies X-Hub-Signature-256; required.
	WebhookSecret []byte
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Registry receives the server's metrics and is served on /metrics; the
	// backend registers its own on the same registry. Nil means a new one.
	Registry *prometheus.Registry
	// Workers is how many evaluations run at once; default 4.
	Workers int
	// QueueSize is how many distinct pull requests (and fan-outs) may be
	// pending or running before deliveries are answered 503; default 1000.
	QueueSize int
	// Retry is the schedule for work that failed; zero fields take defaults.
	Retry RetryPolicy
	// EvaluateTimeout bounds one attempt of one piece of work; default 5m.
	EvaluateTimeout time.Duration
	// DedupTTL is how long a delivery id is remembered; default 1h.
	DedupTTL time.Duration
	// DedupSize bounds how many delivery ids are remembered; default 10000.
	DedupSize int
	// MaxBodyBytes caps a delivery's body; default 25 MB, GitHub's cap.
	MaxBodyBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Redis, when set, is shared by every replica behind one load balancer:
	// it holds the work queue (asynq), the delivery ids and the snapshot
	// admission table, so accepted work survives this process and runs on
	// any replica. Nil keeps them in this process's memory (one replica).
	Redis redis.UniversalClient
	// Locker serializes the evaluations of one pull request across the
	// replicas sharing Redis (bot/fence); nil with Redis set means none.
	Locker Locker
	// CoalesceDelay is how long work queued in Redis waits before it may
	// run, so a burst for one pull request runs once; default 300ms.
	CoalesceDelay time.Duration
	// DrainTimeout bounds how long a draining replica waits for the work it
	// runs before handing it back to Redis; default 30s.
	DrainTimeout time.Duration
}

// Server is the webhook intake and its work queue. It is an http.Handler.
type Server struct {
	opt      Options
	backend  Backend
	secret   []byte
	log      *slog.Logger
	reg      *prometheus.Registry
	m        *metrics
	q        workQueue
	seen     deliveries
	commands commandLedger
	snaps    snapshotTable
	parked   parkedWork
	handlers map[string]eventHandler
	mux      *http.ServeMux // the webhook listener's routes
	ops      *http.ServeMux // the metrics listener's routes: probes and /metrics

	ready    atomic.Bool
	draining atomic.Bool
}

// New validates the options, registers the metrics and starts the workers.
// Call Shutdown (or Serve) to stop them.
func New(o Options) (*Server, error) {
	if o.Backend == nil {
		return nil, errors.New("server: no backend")
	}
	if len(o.WebhookSecret) == 0 {
		return nil, errors.New("server: no webhook secret")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	o.Retry = o.Retry.withDefaults()
	if o.EvaluateTimeout <= 0 {
		o.EvaluateTimeout = DefaultEvaluateTimeout
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = DefaultDedupTTL
	}
	if o.DedupSize <= 0 {
		o.DedupSize = DefaultDedupSize
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = webhook.MaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CoalesceDelay <= 0 {
		o.CoalesceDelay = DefaultCoalesceDelay
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, fmt.Errorf("server: registering metrics: %w", err)
	}
	s := &Server{
		opt:      o,
		backend:  o.Backend,
		secret:   o.WebhookSecret,
		log:      o.Logger,
		reg:      o.Registry,
		m:        m,
		handlers: map[string]eventHandler{},
	}
	for _, h := range eventHandlers() {
		s.handlers[h.event] = h
	}
	if o.Redis != nil {
		s.seen = redisDeliveries{rdb: o.Redis, pending: deliveryPendingTTL}
		s.commands = redisCommands{o.Redis}
		s.snaps = redisSnapshots{rdb: o.Redis, floor: o.Now()}
		s.parked = redisParked{rdb: o.Redis, now: o.Now}
		rq, err := newRedisQueue(s, o, m)
		if err != nil {
			return nil, err
		}
		s.q = rq
	} else {
		s.seen = newDedup(o.DedupTTL, o.DedupSize, o.Now)
		s.commands = newMemoryCommands(redisKeyTTL, o.DedupSize, o.Now)
		s.snaps = newSnapshots(o.DedupSize, o.Now())
		s.parked = newMemoryParked(o.Now)
		q := newQueue(o.Workers, o.QueueSize, o.Retry, o.EvaluateTimeout, m, o.Logger)
		q.givenUp = s.parkGivenUp
		s.q = q
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /webhook", s.serveWebhook)
	s.ops = http.NewServeMux()
	s.ops.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	s.ops.HandleFunc("GET /readyz", s.serveReady)
	s.ops.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	return s, nil
}

// Registry returns the Prometheus registry served on /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handle serves another route on the webhook listener, such as the details
// page (GET /details/...). Call it before Serve; the pattern must not overlap
// the server's own routes.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves the webhook listener: POST /webhook and the routes added
// with Handle. The probes and /metrics are not among them (OpsHandler).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// OpsHandler serves the metrics listener (--metrics-listen): GET /healthz,
// GET /readyz and GET /metrics, for the platform's probes and Prometheus.
func (s *Server) OpsHandler() http.Handler { return s.ops }

// SetReady marks the server ready (listener up) or not; /readyz answers 200
// only while it is ready and not draining.
func (s *Server) SetReady(ready bool) {
	s.ready.Store(ready)
	s.publishReady()
}

func (s *Server) publishReady() {
	if s.ready.Load() && !s.draining.Load() {
		s.m.ready.Set(1)
	} else {
		s.m.ready.Set(0)
	}
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.draining.Load():
		writeText(w, http.StatusServiceUnavailable, "draining")
	case !s.ready.Load():
		writeText(w, http.StatusServiceUnavailable, "starting")
	default:
		writeText(w, http.StatusOK, "ready")
	}
}

// Shutdown flips /readyz to 503 and waits for the queued work to finish
// until ctx is done, then stops the workers, cancelling what still runs. It
// returns an error naming what was left undone. With Redis, deliveries are
// still accepted (into Redis, for the other replicas) until the process
// exits, and work still running at the deadline goes back to Redis; in
// memory, deliveries are refused with 503 from the start of the drain.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.publishReady()
	s.log.Info("draining the work queue", slog.Int("pending", s.q.depth()))
	abandoned := s.q.drain(ctx)
	if len(abandoned) > 0 {
		s.log.Error("drain timed out; work abandoned", slog.Any("keys", abandoned))
		return fmt.Errorf("server: drain timed out with %d pull requests or fan-outs unfinished", len(abandoned))
	}
	s.log.Info("work queue drained")
	return nil
}

// Serve serves the webhook listener on ln and, when ops is not nil, the
// probes and metrics (OpsHandler) on ops, until ctx is done; then it drains
// (Shutdown) for at most drainTimeout while still answering the probes,
// and closes both listeners. The server is ready once both serve.
func (s *Server) Serve(ctx context.Context, ln, ops net.Listener, drainTimeout time.Duration) error {
	newHTTP := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       2 * time.Minute,
			WriteTimeout:      2 * time.Minute,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
	}
	servers := []*http.Server{newHTTP(s)}
	listeners := []net.Listener{ln}
	if ops != nil {
		servers = append(servers, newHTTP(s.ops))
		listeners = append(listeners, ops)
	}
	errc := make(chan error, len(servers))
	for i, hs := range servers {
		go func() { errc <- hs.Serve(listeners[i]) }()
	}
	s.SetReady(true)
	attrs := []any{slog.String("addr", ln.Addr().String())}
	if ops != nil {
		attrs = append(attrs, slog.String("metrics_addr", ops.Addr().String()))
	}
	s.log.Info("serving", attrs...)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.SetReady(false)
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	drainErr := s.Shutdown(dctx)
	cancel()
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer hcancel()
	for _, hs := range servers {
		if err := hs.Shutdown(hctx); err != nil && serveErr == nil {
			serveErr = err
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, drainErr)
}

// metricEvent bounds the event label to the events the server knows.
func (s *Server) metricEvent(event string) string {
	if _, ok := s.handlers[event]; ok || event == "ping" {
		return event
	}
	return "other"
}

func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get(webhook.EventHeader)
	d := &delivery{ctx: r.Context(), id: r.Header.Get(webhook.DeliveryHeader), event: event, at: s.opt.Now()}
	d.log = s.log.With(slog.String("delivery", d.id), slog.String("event", event))
	answer := func(status int, outcome, msg string) {
		s.m.deliveries.WithLabelValues(s.metricEvent(event), outcome).Inc()
		writeText(w, status, msg)
	}

	if s.draining.Load() && !s.q.acceptsWhileDraining() {
		d.log.Warn("delivery refused: draining")
		answer(http.StatusServiceUnavailable, outcomeDraining, "shutting down; redeliver later")
		return
	}
	if r.ContentLength > s.opt.MaxBodyBytes {
		d.log.Warn("delivery refused: body too large", slog.Int64("bytes", r.ContentLength))
		answer(http.StatusRequestEntityTooLarge, outcomeTooLarge, "body too large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.log.Warn("delivery refused: body too large")
			answer(http.StatusRequestEntityTooLarge, outcomeTooLarge, "body too large")
			return
		}
		d.log.Warn("delivery refused: reading body", slog.Any("error", err))
		answer(http.StatusBadRequest, outcomeBadRequest, "could not read body")
		return
	}
	if err := webhook.Verify(s.secret, body, r.Header.Get(webhook.SignatureHeader)); err != nil {
		d.log.Warn("delivery refused: signature", slog.Any("error", err), slog.String("remote", r.RemoteAddr))
		answer(http.StatusUnauthorized, outcomeUnauthorized, "signature verification failed")
		return
	}
	if event == "" || d.id == "" {
		d.log.Warn("delivery refused: missing X-GitHub-Event or X-GitHub-Delivery")
		answer(http.StatusBadRequest, outcomeBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery header")
		return
	}
	if event == "ping" {
		d.log.Info("ping")
		answer(http.StatusOK, outcomePing, "pong")
		return
	}
	h, ok := s.handlers[event]
	if !ok {
		d.log.Debug("event not handled; ignored")
		answer(http.StatusAccepted, outcomeIgnored, "event not handled; ignored")
		return
	}
	payload, err := webhook.Payload(r.Header.Get("Content-Type"), body)
	if err == nil {
		var ev any
		ev, err = webhook.Parse(event, payload)
		if err == nil {
			s.accept(d, h, ev, answer)
			return
		}
	}
	d.log.Warn("delivery refused: malformed payload", slog.Any("error", err))
	answer(http.StatusBadRequest, outcomeBadRequest, "malformed payload: "+err.Error())
}

// accept turns a parsed delivery of a handled event into queued work.
func (s *Server) accept(d *delivery, h eventHandler, ev any, answer func(int, string, string)) {
	d.action = webhookAction(ev)
	d.log = d.log.With(slog.String("action", d.action))
	if inst := installationOf(ev); inst != 0 {
		d.log = d.log.With(slog.Int64("installation", inst))
	}
	if repo := repoNameOf(ev); repo != "" {
		d.log = d.log.With(slog.String("repo", repo))
	}
	if !h.handles(d.action) {
		d.log.Debug("action not handled; ignored")
		answer(http.StatusAccepted, outcomeIgnored, "action not handled; ignored")
		return
	}
	fresh, err := s.seen.reserveDelivery(d.ctx, d.id)
	if err != nil {
		d.log.Error("delivery refused: the delivery ids cannot be recorded", slog.Any("error", err))
		answer(http.StatusServiceUnavailable, outcomeUnavailable, "shared state unavailable; redeliver later")
		return
	}
	if !fresh {
		d.log.Info("delivery already accepted; not processed again")
		answer(http.StatusOK, outcomeDuplicate, "duplicate delivery; already accepted")
		return
	}
	if n := s.seen.size(); n >= 0 {
		s.m.dedupSize.Set(float64(n))
	}
	tasks, err := h.handle(s, d, ev)
	if errors.Is(err, errNotForApp) {
		s.keepDelivery(d)
		d.log.Info("delivery ignored", slog.Any("reason", err))
		answer(http.StatusAccepted, outcomeIgnored, err.Error())
		return
	}
	if errors.Is(err, errUnavailable) {
		s.seen.releaseDelivery(d.ctx, d.id)
		d.log.Error("delivery refused", slog.Any("error", err))
		answer(http.StatusServiceUnavailable, outcomeUnavailable, "shared state unavailable; redeliver later")
		return
	}
	if err != nil {
		s.seen.releaseDelivery(d.ctx, d.id)
		d.log.Warn("delivery refused: payload", slog.Any("error", err))
		answer(http.StatusBadRequest, outcomeBadRequest, err.Error())
		return
	}
	if len(tasks) == 0 {
		s.keepDelivery(d)
		d.log.Debug("nothing to evaluate")
		answer(http.StatusAccepted, outcomeIgnored, "nothing to evaluate")
		return
	}
	if err := s.q.submit(d.ctx, tasks, true); err != nil {
		s.seen.releaseDelivery(d.ctx, d.id)
		if errors.Is(err, ErrQueueFull) {
			d.log.Error("delivery refused: queue full", slog.Any("error", err), slog.Int("depth", s.q.depth()))
			answer(http.StatusServiceUnavailable, outcomeQueueFull, "work queue full; redeliver later")
			return
		}
		d.log.Error("delivery refused: work could not be queued", slog.Any("error", err))
		answer(http.StatusServiceUnavailable, outcomeUnavailable, "work could not be queued; redeliver later")
		return
	}
	s.keepDelivery(d)
	for _, t := range tasks {
		a := []any{slog.String("kind", t.kind), slog.String("key", t.key)}
		if t.job.Number != 0 {
			a = append(a, slog.Int("pr", t.job.Number), slog.String("head_sha", t.job.HeadSHA))
		}
		d.log.Info("queued", a...)
	}
	answer(http.StatusAccepted, outcomeQueued, fmt.Sprintf("queued %d", len(tasks)))
}

// keepDelivery records that a reserved delivery was accepted. When that
// fails the work stays queued and the delivery is still answered 202: its
// reservation lapses and a later redelivery would only repeat work that is
// idempotent (commands are carried out once, commandLedger).
func (s *Server) keepDelivery(d *delivery) {
	if err := s.seen.keepDelivery(d.ctx, d.id); err != nil {
		d.log.Warn("the accepted delivery id could not be recorded; a redelivery of it would be processed again", slog.Any("error", err))
	}
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// evalTask is the task evaluating one pull request, its snapshot admitted
// (kept or dropped) against the newest seen for the pull request.
func (s *Server) evalTask(ctx context.Context, j Job) task {
	return s.evalTaskAdmitted(s.snaps.admitJob(ctx, j))
}

// evalTaskAdmitted is evalTask for a job whose snapshot was already admitted.
func (s *Server) evalTaskAdmitted(j Job) task {
	return task{key: j.Key(), kind: kindEvaluate, job: j, spec: taskSpec{Op: opEvaluate, Job: j}, run: func(ctx context.Context) error {
		return s.backend.Evaluate(ctx, j)
	}}
}

// repoTask lists a repository's open pull requests and queues their evaluation.
func (s *Server) repoTask(reason, deliveryID string, installation int64, owner, repo string) task {
	return s.repoTaskFor(reason, deliveryID, installation, owner, repo, nil)
}

// repoTaskFor is repoTask for a change of standing: with standing set, only
// the pull requests whose verdict may depend on it are queued (a
// StandingFilter backend says which; any other backend queues every one).
func (s *Server) repoTaskFor(reason, deliveryID string, installation int64, owner, repo string, standing *Standing) task {
	j := Job{Installation: installation, Owner: owner, Repo: repo, Reason: reason, DeliveryID: deliveryID}
	return task{key: "repo:" + owner + "/" + repo + standing.key(), kind: kindFanout, job: j, spec: taskSpec{Op: opRepo, Job: j, Standing: standing}, run: func(ctx context.Context) error {
		jobs, err := s.backend.OpenPullRequests(ctx, installation, owner, repo)
		if err != nil {
			return fmt.Errorf("listing open pull requests of %s/%s: %w", owner, repo, err)
		}
		tasks := make([]task, 0, len(jobs))
		for _, pj := range jobs {
			if pj.Installation == 0 {
				pj.Installation = installation
			}
			if pj.Owner == "" {
				pj.Owner, pj.Repo = owner, repo
			}
			pj.Reason, pj.DeliveryID = j.Reason, j.DeliveryID
			if !s.readsStanding(ctx, pj, standing) {
				continue
			}
			tasks = append(tasks, s.evalTask(ctx, pj))
		}
		s.log.Info("fan-out: open pull requests queued", slog.String("delivery", j.DeliveryID),
			slog.String("repo", owner+"/"+repo), slog.Int("pull_requests", len(tasks)), slog.Int("open", len(jobs)))
		return s.q.submit(ctx, tasks, false)
	}}
}

// readsStanding reports whether a pull request must be evaluated again
// after a change of standing (nil: any fan-out). When the backend cannot
// tell, or its record cannot be read, the answer is yes: an extra
// evaluation costs calls, a missed one leaves a stale pass.
func (s *Server) readsStanding(ctx context.Context, j Job, standing *Standing) bool {
	if standing == nil {
		return true
	}
	f, ok := s.backend.(StandingFilter)
	if !ok {
		return true
	}
	reads, err := f.ReadsStanding(ctx, j, *standing)
	if err != nil {
		s.log.Warn("cannot tell whose standing a verdict read; evaluating it again", slog.String("repo", j.Owner+"/"+j.Repo),
			slog.Int("pr", j.Number), slog.Any("err", err))
		return true
	}
	return reads
}

// installationTask lists an installation's repositories (those of owner
// only, when owner is set) and queues the listing of their pull requests.
func (s *Server) installationTask(reason, deliveryID string, installation int64, owner string) task {
	return s.installationTaskFor(reason, deliveryID, installation, owner, nil)
}

// installationTaskFor is installationTask for a change of standing (see repoTaskFor).
func (s *Server) installationTaskFor(reason, deliveryID string, installation int64, owner string, standing *Standing) task {
	j := Job{Installation: installation, Reason: reason, DeliveryID: deliveryID}
	key := "installation:" + itoa(installation)
	if owner != "" {
		key += ":" + strings.ToLower(owner)
	}
	key += standing.key()
	return task{key: key, kind: kindFanout, job: j, spec: taskSpec{Op: opInstallation, Job: j, OwnerFilter: owner, Standing: standing}, run: func(ctx context.Context) error {
		repos, err := s.backend.InstallationRepos(ctx, installation)
		if err != nil {
			return fmt.Errorf("listing the repositories of installation %d: %w", installation, err)
		}
		var tasks []task
		for _, full := range repos {
			o, n, ok := strings.Cut(full, "/")
			if !ok || o == "" || n == "" {
				return fmt.Errorf("installation %d: repository %q is not owner/name", installation, full)
			}
			if owner != "" && !strings.EqualFold(o, owner) {
				continue
			}
			tasks = append(tasks, s.repoTaskFor(reason, deliveryID, installation, o, n, standing))
		}
		s.log.Info("fan-out: repositories queued", slog.String("delivery", j.DeliveryID),
			slog.Int64("installation", installation), slog.Int("repositories", len(tasks)))
		return s.q.submit(ctx, tasks, false)
	}}
}
