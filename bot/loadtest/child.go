package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/replicas"
	"github.com/countersign/countersign/bot/server"
)

// procs is the bot run as separate 'countersign serve' processes
// (bot/replicas): one (Options.ServerBinary alone), so that its memory is
// measured apart from the simulator's, or Options.Replicas of them sharing
// a redis-server, behind a round-robin balancer the simulator posts to.
type procs struct {
	l     *run
	dir   string // holds the private key file
	env   []string
	redis *replicas.Redis
	lb    *replicas.Balancer
	hook  *httptest.Server
}

// startProcs starts the server processes, configured through COUNTERSIGN_*
// variables to talk to the simulator, and waits until each is ready.
func (l *run) startProcs(ctx context.Context) (*procs, error) {
	dir, err := os.MkdirTemp("", "countersign-loadtest-")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, l.sim.PrivateKeyPEM(), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &procs{l: l, dir: dir}
	p.env = []string{
		"COUNTERSIGN_APP_ID=" + strconv.FormatInt(l.sim.AppID(), 10),
		"COUNTERSIGN_PRIVATE_KEY_FILE=" + keyFile,
		"COUNTERSIGN_WEBHOOK_SECRET=" + l.secret,
		"COUNTERSIGN_GITHUB_URL=" + l.base,
		"COUNTERSIGN_WORKERS=" + strconv.Itoa(l.opt.Workers),
		"COUNTERSIGN_QUEUE_SIZE=" + strconv.Itoa(l.opt.QueueSize),
		// Info, as JSON: each "evaluated" record times an evaluation
		// (evalLog), as the in-process recorder does.
		"COUNTERSIGN_LOG_LEVEL=info",
		"COUNTERSIGN_LOG_FORMAT=json",
		"COUNTERSIGN_SWEEP_INTERVAL=0",
		"COUNTERSIGN_REDELIVER_WINDOW=0",
	}
	n := max(l.opt.Replicas, 1)
	if l.opt.Replicas > 0 {
		if p.redis, err = replicas.StartRedis(ctx); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("loadtest: --replicas: %w", err)
		}
		p.env = append(p.env, "COUNTERSIGN_REDIS_URL="+p.redis.URL)
	}
	p.lb = replicas.NewBalancer(make([]*replicas.Process, n)...)
	p.lb.SetAfter(func(f replicas.Forward) {
		if f.Header.Get("X-GitHub-Event") != "" {
			l.front.observe(f.Status, f.Took, f.Start, f.Body)
		}
	})
	p.hook = httptest.NewServer(p.lb)
	for i := range n {
		rp, err := p.start(ctx)
		if err != nil {
			p.stop()
			return nil, err
		}
		p.lb.Set(i, rp)
	}
	return p, nil
}

// start runs one replica.
func (p *procs) start(ctx context.Context) (*replicas.Process, error) {
	return replicas.Start(ctx, replicas.Options{Binary: p.l.opt.ServerBinary, Env: p.env, Log: &evalLog{l: p.l}})
}

// url is where the simulator posts webhooks: the balancer.
func (p *procs) url() string { return p.hook.URL + "/webhook" }

// stop terminates every replica (SIGTERM, then SIGKILL after 10 s), the
// balancer and Redis, and removes the key.
func (p *procs) stop() {
	for i := range p.lb.Len() {
		if rp := p.lb.Set(i, nil); rp != nil {
			rp.Stop(10 * time.Second)
		}
	}
	p.hook.Close()
	if p.redis != nil {
		p.redis.Close()
	}
	os.RemoveAll(p.dir)
}

// metricInFlight is the server's gauge of evaluations running.
const metricInFlight = "countersign_evaluations_in_flight"

// killAndRestart SIGKILLs the replica in slot i, as a crash or an OOM kill
// would, keeps it down for down, and starts a new one in its place. It
// waits (up to 5 s) for the replica to be running an evaluation, so the kill leaves
// a task its lease must recover, and returns how many it was running.
func (p *procs) killAndRestart(i int, down time.Duration) (running int, err error) {
	running = -1
	if rp := p.lb.Get(i); rp != nil {
		running = 0
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			// Evaluations running, in memory and with Redis alike.
			m, err := rp.Metrics(metricInFlight)
			if err == nil && m[metricInFlight] > 0 {
				running = int(m[metricInFlight])
				break
			}
		}
		p.lb.Set(i, nil)
		rp.Kill()
	}
	time.Sleep(down)
	rp, err := p.start(context.Background())
	if err != nil {
		return running, err
	}
	p.lb.Set(i, rp)
	return running, nil
}

// status sums a /proc status field (VmHWM, VmRSS) in MB over the live replicas.
func (p *procs) status(field string) float64 {
	sum := 0.0
	for _, rp := range p.lb.Live() {
		sum += rp.Status(field)
	}
	return sum
}

// idle reports whether no replica has work queued or running (server.IdleIn
// over each one's metrics) and, with Redis, the shared queue holds no task
// (countersign_queue_tasks, every state: pending, scheduled, active and
// retry, so a dead replica's task counts until it is recovered).
func (p *procs) idle() (bool, error) {
	live := p.lb.Live()
	if len(live) == 0 {
		return false, errors.New("no replica is running")
	}
	for _, rp := range live {
		select {
		case <-rp.Done():
			return false, fmt.Errorf("a server process exited: %v", rp.Err())
		default:
		}
		m, err := rp.Metrics(append([]string{"countersign_queue_tasks"}, server.IdleGauges...)...)
		if err != nil {
			return false, nil
		}
		idle := server.IdleIn(func(name string) (float64, error) {
			v, ok := m[name]
			if !ok {
				return 0, fmt.Errorf("the server process does not export %s", name)
			}
			return v, nil
		})
		if !idle || m["countersign_queue_tasks"] != 0 {
			return false, nil
		}
	}
	return true, nil
}

// settleProcs waits until the simulator has sent every webhook and the
// replicas are idle, three polls in a row with no delivery forwarded and
// no evaluation recorded meanwhile.
func (l *run) settleProcs(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	quiet := 0
	last, lastGen := int64(-1), int64(-1)
	for {
		if err := l.sim.WaitDeliveries(ctx); err != nil {
			return fmt.Errorf("webhooks still queued in the simulator: %w", err)
		}
		idle, err := l.procs.idle()
		if err != nil {
			return err
		}
		n, gen := l.procs.lb.Forwarded(), l.rec.gen.Load()
		if idle && n == last && gen == lastGen {
			quiet++
			if quiet >= 3 {
				return nil
			}
		} else {
			quiet = 0
		}
		last, lastGen = n, gen
		select {
		case <-ctx.Done():
			return errors.New("work still queued after " + timeout.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// evalLog reads one replica's JSON log: each "evaluated" record is an
// evaluation (its end, and its start from its duration) for the recorder;
// warnings and errors go on to Options.Log.
type evalLog struct {
	l    *run
	mu   sync.Mutex
	part []byte
}

func (e *evalLog) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.part = append(e.part, b...)
	for {
		i := bytes.IndexByte(e.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		e.line(e.part[:i])
		e.part = e.part[i+1:]
	}
}

func (e *evalLog) line(b []byte) {
	r, ok := replicas.ParseRecord(b)
	if !ok {
		return
	}
	if r.Msg == "evaluated" && r.Repo != "" {
		e.l.rec.add(r.Repo+"#"+strconv.Itoa(r.PR), &evalRec{start: r.Time.Add(-r.Duration), end: r.Time, ok: true})
	}
	if w := e.l.opt.Log; w != nil && (r.Level == "WARN" || r.Level == "ERROR") {
		fmt.Fprintf(w, "%s\n", b)
	}
}

var _ io.Writer = (*evalLog)(nil)
