package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is the app's settable clock: a primary rate limit lifts only when the
// app's clock passes its reset, so a campaign moves it on when the fault ends.
type clock struct{ skew atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *clock) Add(d time.Duration)     { c.skew.Add(int64(d)) }
func (c *clock) since(t time.Time) int64 { return int64(c.Now().Sub(t)) }

// evalKey carries an evaluation's sequence number in its context, so the
// transport can count the HTTP requests each evaluation makes.
type evalKey struct{}

// evalRec is one evaluation attempt of one pull request.
type evalRec struct {
	start, end time.Time
	ok         bool
	calls      int
}

// recorder wraps the evaluator: it times every evaluation, counts the
// requests each one sends to GitHub, and knows how many are running.
type recorder struct {
	ev       atomic.Pointer[evaluator.Evaluator]
	app      atomic.Pointer[ghapp.App]
	clock    *clock
	inflight atomic.Int64 // backend calls running: evaluations and listings
	gen      atomic.Int64
	seq      atomic.Int64

	mu    sync.Mutex
	evals map[string][]*evalRec // Job.Key() -> attempts, in start order
	byID  map[int64]*evalRec
	// fanoutCalls counts requests made outside any evaluation (listings, tokens).
	outside atomic.Int64
}

func newRecorder() *recorder {
	return &recorder{evals: map[string][]*evalRec{}, byID: map[int64]*evalRec{}}
}

// Evaluate times one evaluation of the wrapped backend.
func (r *recorder) Evaluate(ctx context.Context, job server.Job) error {
	id := r.seq.Add(1)
	rec := &evalRec{start: time.Now()}
	r.mu.Lock()
	r.evals[job.Key()] = append(r.evals[job.Key()], rec)
	r.byID[id] = rec
	r.mu.Unlock()
	defer r.busy()()
	err := r.ev.Load().Evaluate(context.WithValue(ctx, evalKey{}, id), job)
	r.mu.Lock()
	rec.end, rec.ok = time.Now(), err == nil
	delete(r.byID, id)
	r.mu.Unlock()
	return err
}

// busy counts a backend call as running until the returned func is called;
// every start and end moves the generation, so a quiet spell is real.
func (r *recorder) busy() func() {
	r.inflight.Add(1)
	r.gen.Add(1)
	return func() {
		r.gen.Add(1)
		r.inflight.Add(-1)
	}
}

// OpenPullRequests lists through the wrapped backend.
func (r *recorder) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	defer r.busy()()
	return r.ev.Load().OpenPullRequests(ctx, installation, owner, repo)
}

// InstallationRepos lists through the wrapped backend.
func (r *recorder) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	defer r.busy()()
	return r.ev.Load().InstallationRepos(ctx, installation)
}

// Installations lists through the wrapped backend (the sweep needs it).
func (r *recorder) Installations(ctx context.Context) ([]int64, error) {
	defer r.busy()()
	return r.ev.Load().Installations(ctx)
}

// RateBudget asks the wrapped backend, but judges a primary limit's reset
// by the app's clock: a campaign ends a primary rate limit by moving that
// clock past the reset (the hour passing), and the evaluator compares the
// reset with the real time.
func (r *recorder) RateBudget(installation int64) (remaining, limit int, known bool) {
	if app := r.app.Load(); app != nil {
		if rl, ok := app.RateLimit(installation); ok && !rl.Reset.IsZero() && !rl.Reset.After(r.clock.Now()) {
			return 0, 0, false
		}
	}
	return r.ev.Load().RateBudget(installation)
}

// StalePullRequests lists through the wrapped backend.
func (r *recorder) StalePullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	defer r.busy()()
	return r.ev.Load().StalePullRequests(ctx, installation, owner, repo)
}

// HookDeliveries lists through the wrapped backend (redelivery at start needs it).
func (r *recorder) HookDeliveries(ctx context.Context, since time.Time) ([]server.HookDelivery, error) {
	return r.ev.Load().HookDeliveries(ctx, since)
}

// Redeliver asks through the wrapped backend.
func (r *recorder) Redeliver(ctx context.Context, id int64) error {
	return r.ev.Load().Redeliver(ctx, id)
}

var (
	_ server.Sweeper     = (*recorder)(nil)
	_ server.Redeliverer = (*recorder)(nil)
)

// countCall attributes one HTTP request to the evaluation in ctx.
func (r *recorder) countCall(ctx context.Context) {
	id, _ := ctx.Value(evalKey{}).(int64)
	if id == 0 {
		r.outside.Add(1)
		return
	}
	r.mu.Lock()
	if rec := r.byID[id]; rec != nil {
		rec.calls++
	}
	r.mu.Unlock()
}

// add records an evaluation timed elsewhere (a server process's log),
// keeping each pull request's evaluations in start order.
func (r *recorder) add(key string, rec *evalRec) {
	r.mu.Lock()
	recs := r.evals[key]
	i := sort.Search(len(recs), func(i int) bool { return recs[i].start.After(rec.start) })
	recs = append(recs, nil)
	copy(recs[i+1:], recs[i:])
	recs[i] = rec
	r.evals[key] = recs
	r.mu.Unlock()
	r.gen.Add(1)
}

// reset forgets the evaluations recorded so far.
func (r *recorder) reset() {
	r.mu.Lock()
	r.evals = map[string][]*evalRec{}
	r.mu.Unlock()
	r.outside.Store(0)
}

// snapshot returns the evaluations recorded so far, by pull request.
func (r *recorder) snapshot() map[string][]evalRec {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]evalRec, len(r.evals))
	for k, recs := range r.evals {
		cp := make([]evalRec, len(recs))
		for i, x := range recs {
			cp[i] = *x
		}
		out[k] = cp
	}
	return out
}

type countingTransport struct {
	base http.RoundTripper
	rec  *recorder
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.rec.countCall(req.Context())
	return t.base.RoundTrip(req)
}

// newTransport is a loopback transport that keeps enough idle connections
// for every worker (http.DefaultTransport keeps 2 per host).
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
}

// bot is one running Countersign process: app client, evaluator and server.
type bot struct {
	app *app.App
	srv *server.Server
	reg *prometheus.Registry
}

func (l *run) newBot() (*bot, error) {
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	if l.opt.Log != nil {
		log = slog.New(slog.NewTextHandler(l.opt.Log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(app.Options{
		Settings: server.Settings{AppID: l.sim.AppID(), PrivateKeyPEM: l.sim.PrivateKeyPEM(), GitHubURL: l.base,
			WebhookSecret: []byte(l.secret), Workers: l.opt.Workers, QueueSize: l.opt.QueueSize},
		Logger: log, Registry: reg,
		GitHub: ghapp.Options{Transport: countingTransport{base: l.transport, rec: l.rec},
			MaxAttempts: 3, RetryBaseDelay: 20 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
			MaxRateLimitWait: 2 * time.Second, Now: l.clock.Now},
		Server: server.Options{Retry: server.RetryPolicy{Attempts: 5, Initial: 200 * time.Millisecond, Max: 2 * time.Second}},
		// The load test measures pull-request events, as before the landing record.
		WithoutLanding: true,
		WrapBackend: func(ev *evaluator.Evaluator) server.Backend {
			l.rec.ev.Store(ev)
			return l.rec
		},
	})
	if err != nil {
		return nil, err
	}
	l.rec.app.Store(a.GitHub)
	srv := a.Server
	srv.SetReady(true)
	return &bot{app: a, srv: srv, reg: reg}, nil
}

// kill stops a bot as a crash would: nothing queued is finished.
func (b *bot) kill() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = b.srv.Shutdown(ctx)
}

// gauge sums one of the bot's gauges.
func (b *bot) gauge(name string) float64 {
	mfs, err := b.reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
			return sum
		}
	}
	return 0
}

// front is the webhook endpoint GitHub (the simulator) posts to. It times
// the server's handler (the acknowledgement latency), and can duplicate and
// reorder deliveries, or refuse connections while the bot is down.
type front struct {
	mu      sync.Mutex
	bot     *bot
	rng     *rand.Rand
	dup     float64 // probability a delivery is delivered twice
	reorder float64 // probability a delivery is held back until after the next one
	held    []*heldDelivery
	// arrivals feeds byKey: when each PR's deliveries reached the server.
	arrivals chan arrival
	byKey    map[string][]time.Time

	acks     []time.Duration
	received atomic.Int64
	statuses map[int]int
	dups     atomic.Int64
	reorders atomic.Int64
	refused  atomic.Int64
	wg       sync.WaitGroup
}

type heldDelivery struct {
	header http.Header
	body   []byte
}

func newFront(seed int64) *front {
	f := &front{rng: rand.New(rand.NewPCG(uint64(seed), 7)), statuses: map[int]int{},
		arrivals: make(chan arrival, 1<<16), byKey: map[string][]time.Time{}}
	go f.decodeArrivals()
	return f
}

func (f *front) setBot(b *bot) {
	f.mu.Lock()
	f.bot = b
	f.mu.Unlock()
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	b := f.bot
	dup := f.dup > 0 && f.rng.Float64() < f.dup
	hold := f.reorder > 0 && f.rng.Float64() < f.reorder
	var release []*heldDelivery
	if !hold {
		release, f.held = f.held, nil
	}
	f.mu.Unlock()
	if b == nil {
		// The process is down: GitHub sees the connection fail.
		f.refused.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if hold {
		// Acknowledged to GitHub now, handed to the server after a later delivery.
		f.reorders.Add(1)
		f.mu.Lock()
		f.held = append(f.held, &heldDelivery{header: r.Header.Clone(), body: body})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	f.serve(b, w, r.Header, body)
	if dup {
		f.dups.Add(1)
		f.serve(b, discard{}, r.Header, body)
	}
	for _, h := range release {
		f.serve(b, discard{}, h.header, h.body)
	}
}

// flush hands every held delivery to the server.
func (f *front) flush() {
	f.mu.Lock()
	b, held := f.bot, f.held
	if b == nil {
		f.mu.Unlock()
		return
	}
	f.held = nil
	f.mu.Unlock()
	for _, h := range held {
		f.serve(b, discard{}, h.header, h.body)
	}
}

// serve runs the server's handler on one delivery and times it.
func (f *front) serve(b *bot, w http.ResponseWriter, h http.Header, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header = h
	req.ContentLength = int64(len(body))
	sw := &statusWriter{ResponseWriter: w}
	start := time.Now()
	b.srv.ServeHTTP(sw, req)
	f.observe(sw.status, time.Since(start), start, body)
	return sw.status
}

// observe records one delivery the server answered with status after took.
func (f *front) observe(status int, took time.Duration, start time.Time, body []byte) {
	f.received.Add(1)
	f.mu.Lock()
	f.acks = append(f.acks, took)
	f.statuses[status]++
	f.mu.Unlock()
	select {
	case f.arrivals <- arrival{at: start, body: body}:
	default: // the breakdown is best effort; never slow the sender
	}
}

// arrival is one delivery handed to the server, for the latency breakdown.
type arrival struct {
	at   time.Time
	body []byte
}

// decodeArrivals records, per pull request, when its deliveries reached the
// server (off the delivery path).
func (f *front) decodeArrivals() {
	for a := range f.arrivals {
		var b struct {
			Number      int `json:"number"`
			PullRequest struct {
				Number int `json:"number"`
			} `json:"pull_request"`
			Issue struct {
				Number int `json:"number"`
			} `json:"issue"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if json.Unmarshal(a.body, &b) != nil || b.Repository.FullName == "" {
			continue
		}
		n := max(b.Number, b.PullRequest.Number, b.Issue.Number)
		if n == 0 {
			continue
		}
		key := b.Repository.FullName + "#" + strconv.Itoa(n)
		f.mu.Lock()
		f.byKey[key] = append(f.byKey[key], a.at)
		f.mu.Unlock()
	}
}

func (f *front) takeAcks() ([]time.Duration, map[int]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, s := f.acks, f.statuses
	f.acks, f.statuses = nil, map[int]int{}
	return a, s
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// Hijack is not supported by discard.
func (discard) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, http.ErrNotSupported }

// percentile returns the p-quantile (0..1) of ds, which it sorts.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}
