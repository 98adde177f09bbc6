// Package loadtest drives Countersign end to end at a target rate: the
// webhook server, the evaluator and the GitHub App client run in-process
// against the GitHub simulator on loopback, exactly as in production they
// talk to GitHub over HTTP. A realistic mix of pull-request activity is
// replayed through the simulator's mutation API (which emits the signed
// webhooks), optionally under a fault profile; the run reports latencies,
// throughput, API calls and memory, and checks that every pull request's
// final check run is the verdict the engine gives for the final state, and
// that no pull request needing approval ever showed a passing check.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// Options configures a load test.
type Options struct {
	// Repos is how many repositories there are, each in its own organization
	// with its own installation (GitHub's rate limit is per installation).
	Repos int
	// PRs is how many pull requests are open before the measured run.
	PRs int
	// Rate is the target of webhook deliveries per second.
	Rate float64
	// Duration bounds the measured run; Deliveries, when set, ends it after
	// that many deliveries instead (whichever comes first).
	Duration   time.Duration
	Deliveries int
	// Workers is the server's --workers; QueueSize its --queue-size.
	Workers   int
	QueueSize int
	// Drivers is how many goroutines mutate the simulator; default 4.
	Drivers int
	// Senders is how many webhook deliveries the simulator POSTs at once
	// (githubsim.Options.DeliveryWorkers); default 16. GitHub delivers
	// concurrently and does not guarantee order; 1 sends strictly in order.
	Senders int
	// Seed makes the activity mix reproducible.
	Seed int64
	// Faults names a fault profile (see Profiles); "" or "none" injects none.
	Faults string
	// SettleTimeout bounds the wait for the server to go idle after the run.
	SettleTimeout time.Duration
	// Log, when set, receives the server's warnings.
	Log io.Writer
	// Progress, when set, receives one line per phase.
	Progress io.Writer
	// CPUProfile, when set, receives a CPU profile of the measured run.
	CPUProfile io.Writer
	// ServerBinary, when set, runs the bot as its own process, 'ServerBinary
	// serve', configured through COUNTERSIGN_* variables, so that its peak
	// RSS is measured apart from the simulator's. Ack latency, change to
	// check and per-evaluation calls are then not measured (they need the
	// in-process hooks); correctness is checked as always. Fault profiles
	// and Deliveries are not supported in this mode.
	ServerBinary string
	// Replicas, when above 0, runs that many 'ServerBinary serve' processes
	// sharing one redis-server the load test starts (--redis-url), behind a
	// round-robin load balancer the simulator posts to. Change to check is
	// timed from their logs; the fault profile may be "replica-kill" (with
	// 2 or more replicas) or none.
	Replicas int
}

func (o *Options) defaults() {
	if o.Repos <= 0 {
		o.Repos = 10
	}
	if o.PRs <= 0 {
		o.PRs = 100
	}
	if o.Rate <= 0 {
		o.Rate = 100
	}
	if o.Duration <= 0 && o.Deliveries <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Duration <= 0 {
		o.Duration = 24 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = server.DefaultWorkers
	}
	if o.QueueSize <= 0 {
		o.QueueSize = max(server.DefaultQueueSize, 2*o.PRs)
	}
	if o.Drivers <= 0 {
		o.Drivers = 4
	}
	if o.Senders <= 0 {
		o.Senders = 16
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.SettleTimeout <= 0 {
		o.SettleTimeout = 2 * time.Minute
	}
}

// Kinds of pull request in the mix.
const (
	kindAgentTF   = "agent-terraform" // agent-written, touches Terraform: needs an infra member's approval
	kindAgentDocs = "agent-docs"
	kindHumanDocs = "human-docs"
	kindHumanTF   = "human-terraform"
)

// Users of the mix. bob is the only eligible approver of Terraform (write,
// in the infra team); alice delegates to the agent (an operator); carol is
// in the team with read permission; dave has write but is not in the team;
// erin writes the human pull requests.
var (
	alice = githubsim.Identity{Name: "Alice", Email: "alice@acme.test", Login: "alice"}
	erin  = githubsim.Identity{Name: "Erin", Email: "erin@acme.test", Login: "erin"}
)

const (
	agentTrailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
	policyFmt    = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [%s/infra]
`
)

// prState is one pull request of the mix; only its driver touches it.
type prState struct {
	repo   string
	owner  string
	name   string
	number int
	kind   string
	branch string
	head   string
	seq    int
}

func (p *prState) key() string { return fmt.Sprintf("%s#%d", p.repo, p.number) }

// headInfo is what the safety check knows of one head.
type headInfo struct {
	needsApproval bool
	approvedAt    time.Time // before the first eligible approval was submitted; zero: never
}

// mutation is one state change made through the simulator.
type mutation struct {
	key  string
	kind string
	at   time.Time
}

// memProfileOnce samples the heap finely enough to split it (once: it is process-wide).
var memProfileOnce sync.Once

// run is one load test in progress.
type run struct {
	opt       Options
	sim       *githubsim.Sim
	base      string
	secret    string
	clock     *clock
	rec       *recorder
	transport *http.Transport
	front     *front
	hook      *httptest.Server
	bot       *bot
	insts     map[string]int64 // repo -> installation
	nextPR    atomic.Int64

	mu        sync.Mutex
	prs       []*prState
	heads     map[string]*headInfo // repo@sha
	mutations []mutation
	kinds     map[string]int
	progress  io.Writer
	events    []string // restarts, for traces
	restarts  atomic.Int64
	// killedRunning is how much work the killed replica was running (replica-kill).
	killedRunning atomic.Int64
	base0         int64      // deliveries before the measured run
	botMu         sync.Mutex // held while the bot is being restarted
	procs         *procs     // the bot as separate processes (Options.ServerBinary)
}

func (l *run) logf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, time.Now().Format("15:04:05.000000")+" "+fmt.Sprintf(format, a...))
	if l.progress != nil {
		fmt.Fprintf(l.progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, a...)...)
	}
}

// Run runs a load test and returns its report. The error is about the
// harness (a profile that does not exist, the server not settling); a
// wrong verdict is reported in Report.Mismatches and Report.Violations.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	prof, ok := Profiles[o.Faults]
	if !ok {
		return nil, fmt.Errorf("loadtest: no fault profile %q (have %s)", o.Faults, strings.Join(ProfileNames(), ", "))
	}
	memProfileOnce.Do(func() { runtime.MemProfileRate = 64 << 10 })
	clk := &clock{}
	rec := newRecorder()
	rec.clock = clk
	l := &run{
		opt: o, secret: "loadtest-webhook-secret", clock: clk, rec: rec,
		transport: newTransport(), front: newFront(o.Seed), heads: map[string]*headInfo{},
		insts: map[string]int64{}, kinds: map[string]int{}, progress: o.Progress,
	}
	l.sim = githubsim.New(githubsim.Options{WebhookSecret: l.secret, Seed: o.Seed, DeliveryWorkers: o.Senders})
	defer l.sim.Close()
	l.base = l.sim.Start()
	l.hook = httptest.NewServer(l.front)
	defer l.hook.Close()

	rep := &Report{Options: o, Profile: prof.Name, ProfileText: prof.text(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	hookURL := l.hook.URL + "/webhook"
	if prof.replicaKill && o.Replicas < 2 {
		return nil, errors.New("loadtest: the replica-kill campaign needs 2 or more replicas")
	}
	if o.Replicas > 0 && o.ServerBinary == "" {
		return nil, errors.New("loadtest: replicas need the server binary")
	}
	if o.ServerBinary != "" {
		if (prof.Name != "none" && !prof.replicaKill) || o.Deliveries > 0 {
			return nil, errors.New("loadtest: with the server as separate processes, no fault profile but replica-kill, and no delivery count")
		}
		if prof.replicaKill {
			// Work a killed replica was running waits for its lease to lapse.
			o.SettleTimeout = max(o.SettleTimeout, 4*time.Minute)
			l.opt.SettleTimeout = o.SettleTimeout
		}
		p, err := l.startProcs(ctx)
		if err != nil {
			return nil, err
		}
		l.procs = p
		defer p.stop()
		hookURL = p.url()
	} else {
		var err error
		if l.bot, err = l.newBot(); err != nil {
			return nil, err
		}
		defer func() { l.bot.kill() }()
		l.front.setBot(l.bot)
	}

	// Seed before the app is installed: no webhooks yet.
	start := time.Now()
	l.seed()
	rep.SeedSeconds = time.Since(start).Seconds()
	l.logf("seeded %d repositories, %d open pull requests in %.1fs", o.Repos, len(l.prs), rep.SeedSeconds)

	// Install: installation.created makes the server list and evaluate every open PR.
	start = time.Now()
	l.sim.SetWebhook(hookURL, l.secret)
	for i := range o.Repos {
		full := repoName(i)
		l.insts[full] = l.sim.Install(orgName(i), full)
	}
	if err := l.settle(ctx, o.SettleTimeout); err != nil {
		return nil, fmt.Errorf("loadtest: initial sync: %w", err)
	}
	rep.Sync = l.syncStats(time.Since(start))
	l.logf("initial sync: %d evaluations in %.1fs", rep.Sync.Evaluations, rep.Sync.Seconds)
	rep.Memory.AfterSync = memNow()
	if l.procs != nil {
		rep.Memory.ServerAfterSyncRSSMB = l.procs.status("VmRSS")
	}

	// The measured run.
	l.sim.ResetCalls()
	l.rec.reset()
	l.front.takeAcks()
	_ = l.sim.CheckRunWrites() // (kept for the safety check over the whole history)
	undo := prof.apply(l)
	l.base0 = l.front.received.Load() + l.front.refused.Load()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("loadtest: CPU profile: %w", err)
		}
	}
	cpu0 := cpuSeconds()
	mstart := time.Now()
	l.drive(ctx, prof, rep)
	mdur := time.Since(mstart)
	rep.Load.CPUSeconds = cpuSeconds() - cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	received := l.front.received.Load() + l.front.refused.Load() - l.base0
	rep.Load.Seconds = mdur.Seconds()
	l.logf("drove %d mutations in %.1fs", len(l.mutations), mdur.Seconds())

	undo()
	l.front.flush()
	settleStart := time.Now()
	if err := l.settle(ctx, o.SettleTimeout); err != nil {
		rep.Problems = append(rep.Problems, "the server did not settle: "+err.Error())
	}
	rep.Load.SettleSeconds = time.Since(settleStart).Seconds()
	l.logf("settled in %.1fs", rep.Load.SettleSeconds)
	l.fillLoad(rep, received, mdur)
	rep.Memory.fill()
	if l.procs != nil {
		rep.Memory.ServerPeakRSSMB = l.procs.status("VmHWM")
		rep.Memory.ServerRSSMB = l.procs.status("VmRSS")
	}

	// Verdicts before any sweep: with no faults, nothing may be lost or stale.
	l.sim.ResetCalls()
	exp, verr := l.expected(ctx)
	if verr != nil {
		return nil, verr
	}
	rep.BeforeSweep = l.compare(exp)
	l.logf("before sweep: %d of %d pull requests as expected", rep.BeforeSweep.Correct, rep.BeforeSweep.PullRequests)

	if l.procs == nil && (prof.Name != "none" || len(rep.BeforeSweep.Mismatches) > 0) {
		// One sweep, as --sweep-interval runs it: the open pull requests
		// whose check is missing, unfinished, failed or older than their
		// last change are evaluated again.
		s := time.Now()
		l.sim.ResetCalls()
		l.rec.reset()
		if err := l.bot.srv.Sweep(ctx, server.SweepOptions{}); err != nil {
			rep.Problems = append(rep.Problems, "sweep: "+err.Error())
		}
		if err := l.settle(ctx, o.SettleTimeout); err != nil {
			rep.Problems = append(rep.Problems, "the sweep did not settle: "+err.Error())
		}
		n := 0
		for _, recs := range l.rec.snapshot() {
			n += len(recs)
		}
		rep.Sweep = &SweepStats{Evaluations: n, Seconds: time.Since(s).Seconds(), Calls: len(l.sim.Calls())}
		exp, verr = l.expected(ctx)
		if verr != nil {
			return nil, verr
		}
		after := l.compare(exp)
		rep.AfterSweep = &after
		l.logf("after sweep: %d of %d pull requests as expected", after.Correct, after.PullRequests)
	}
	rep.Violations = l.safety()
	rep.Machine = machine()
	rep.At = time.Now().UTC().Format(time.RFC3339)
	return rep, nil
}

func orgName(i int) string  { return fmt.Sprintf("org%03d", i) }
func repoName(i int) string { return orgName(i) + "/infra" }

// seed creates the users, organizations, repositories and open pull requests.
func (l *run) seed() {
	s := l.sim
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		s.AddUser(u)
	}
	s.AddBot("claude[bot]", 209825114)
	s.AddBot("helper[bot]", 777001)
	for i := range l.opt.Repos {
		org, full := orgName(i), repoName(i)
		s.AddOrg(org)
		s.AddTeam(org, "infra", "bob", "carol")
		s.AddRepo(full, map[string]string{
			"README.md":               "# infra\n",
			"infra/main.tf":           "resource \"null_resource\" \"a\" {}\n",
			"docs/guide.md":           "Guide\n",
			".github/countersign.yml": fmt.Sprintf(policyFmt, org),
		})
		for u, p := range map[string]string{"alice": "write", "bob": "write", "carol": "read", "dave": "write", "erin": "write"} {
			s.SetPermission(full, u, p)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(l.opt.Seed), 1))
	for i := range l.opt.PRs {
		l.openPR(rng, i%l.opt.Repos)
	}
}

// openPR pushes a new branch and opens a pull request of a random kind.
func (l *run) openPR(rng *rand.Rand, repoIdx int) *prState {
	full := repoName(repoIdx)
	kinds := []string{kindAgentTF, kindAgentTF, kindAgentTF, kindAgentTF, kindAgentDocs, kindAgentDocs, kindHumanDocs, kindHumanDocs, kindHumanDocs, kindHumanTF}
	p := &prState{repo: full, owner: orgName(repoIdx), name: "infra", kind: kinds[rng.IntN(len(kinds))]}
	id := l.nextPR.Add(1)
	p.branch = fmt.Sprintf("change-%d", id)
	p.head = l.sim.Push(full, p.branch, l.commit(p))
	spec := githubsim.PRSpec{Head: p.branch, Base: "main", Title: "Change " + p.branch}
	if strings.HasPrefix(p.kind, "agent") {
		spec.Author, spec.Body = "claude[bot]", "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
	} else {
		spec.Author = "erin"
	}
	p.number = l.sim.OpenPR(full, spec)
	l.mu.Lock()
	l.prs = append(l.prs, p)
	l.heads[full+"@"+p.head] = &headInfo{needsApproval: p.kind == kindAgentTF}
	l.mu.Unlock()
	return p
}

// commit is the next commit of a pull request's branch; every one is unique.
func (l *run) commit(p *prState) githubsim.CommitSpec {
	p.seq++
	c := githubsim.CommitSpec{Files: map[string]string{}}
	content := fmt.Sprintf("%s change %d\n", p.branch, p.seq)
	switch p.kind {
	case kindAgentTF, kindHumanTF:
		c.Files[fmt.Sprintf("infra/%s.tf", p.branch)] = "# " + content
	default:
		c.Files[fmt.Sprintf("docs/%s.md", p.branch)] = content
	}
	if strings.HasPrefix(p.kind, "agent") {
		c.Author, c.Message = alice, fmt.Sprintf("Step %d of %s%s", p.seq, p.branch, agentTrailer)
	} else {
		c.Author, c.Message = erin, fmt.Sprintf("Step %d of %s", p.seq, p.branch)
	}
	return c
}

// reviewers: who reviews, with what, weighted. Only bob's approval counts
// for Terraform.
var reviewers = []struct {
	login, event string
	eligible     bool
}{
	{"bob", "APPROVE", true}, {"bob", "APPROVE", true},
	{"alice", "APPROVE", false}, {"carol", "APPROVE", false}, {"dave", "APPROVE", false},
	{"helper[bot]", "APPROVE", false}, {"erin", "COMMENT", false}, {"dave", "REQUEST_CHANGES", false},
}

// mutate makes one random state change to p (or opens a new pull request).
func (l *run) mutate(rng *rand.Rand, p *prState) mutation {
	r := rng.IntN(100)
	now := time.Now()
	m := mutation{key: p.key(), at: now}
	switch {
	case r < 25: // push
		m.kind = "push"
		m.at = time.Now()
		p.head = l.sim.Push(p.repo, p.branch, l.commit(p))
		l.mu.Lock()
		l.heads[p.repo+"@"+p.head] = &headInfo{needsApproval: p.kind == kindAgentTF}
		l.mu.Unlock()
	case r < 60: // review
		rv := reviewers[rng.IntN(len(reviewers))]
		if rv.login == "erin" && !strings.HasPrefix(p.kind, "agent") {
			rv = reviewers[0]
		}
		m.kind = "review"
		at := time.Now()
		m.at = at
		l.sim.SubmitReview(p.repo, p.number, rv.login, rv.event, "")
		if rv.eligible {
			l.mu.Lock()
			if h := l.heads[p.repo+"@"+p.head]; h != nil && h.approvedAt.IsZero() {
				h.approvedAt = at
			}
			l.mu.Unlock()
		}
	case r < 75: // comment
		m.kind = "comment"
		body := "Looks reasonable."
		if rng.IntN(2) == 0 {
			body = "/countersign approve"
		}
		l.sim.Comment(p.repo, p.number, []string{"carol", "dave", "alice"}[rng.IntN(3)], body)
	case r < 90: // rerun
		cr := l.sim.LatestCheckRun(p.repo, p.head, "countersign")
		if cr == nil {
			m.kind = "rerun-skipped"
			return m
		}
		m.kind = "rerun"
		m.at = time.Now()
		l.sim.RerequestCheckRun(p.repo, cr.GetID(), "dave")
	default: // a new pull request in the same repository
		m.kind = "open"
		idx := 0
		fmt.Sscanf(strings.TrimPrefix(p.owner, "org"), "%d", &idx)
		np := l.openPR(rng, idx)
		m.key, m.at = np.key(), now
		return m
	}
	return m
}

// drive replays the mix at the target delivery rate until the duration or
// delivery count is reached. Each driver owns the pull requests whose index
// is its number modulo the driver count, so one PR's changes are in order.
func (l *run) drive(ctx context.Context, prof profile, rep *Report) {
	o := l.opt
	type ticket struct{ pr int }
	chans := make([]chan ticket, o.Drivers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for d := range o.Drivers {
		chans[d] = make(chan ticket, 64)
		wg.Add(1)
		go func(d int, ch chan ticket) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(100+d)))
			var local []mutation
			for t := range ch {
				l.mu.Lock()
				p := l.prs[t.pr]
				l.mu.Unlock()
				m := l.mutate(rng, p)
				local = append(local, m)
			}
			mu.Lock()
			l.mutations = append(l.mutations, local...)
			mu.Unlock()
		}(d, chans[d])
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 2))
	start := time.Now()
	deadline := start.Add(o.Duration)
	var issued atomic.Int64
	// Deliveries per mutation: the mix averages about 2.6 (its own
	// webhook, push's push and check_suite, the bot's check_run events).
	// Measured, not adapted: an estimate from deliveries still in flight
	// runs low and makes bursts.
	const perMutation = 2.6
	killed := false
	lastIdle := start
	var saturated time.Duration
	defer func() { rep.Load.SaturatedSeconds = saturated.Seconds() }()
	var restarted sync.WaitGroup
	defer restarted.Wait()
	for ctx.Err() == nil {
		now := time.Now()
		if now.After(deadline) {
			break
		}
		got := l.front.received.Load() + l.front.refused.Load() - l.base0
		if o.Deliveries > 0 && got >= int64(o.Deliveries) {
			break
		}
		if prof.restartAt > 0 && !killed && now.Sub(start) >= time.Duration(float64(o.Duration)*prof.restartAt) {
			// The mix goes on while the server is down.
			killed = true
			restarted.Add(1)
			go func() {
				defer restarted.Done()
				l.restart(prof.downFor)
			}()
		}
		// Backpressure: GitHub's sender is the simulator's (--senders
		// deliveries at a time); when it has had a backlog for over 100 ms the system
		// is saturated, and more mutations would only queue webhooks.
		if l.simIdle() {
			lastIdle = now
		} else if now.Sub(lastIdle) > 100*time.Millisecond {
			// Held back time is not caught up afterwards: no bursts.
			saturated += 5 * time.Millisecond
			time.Sleep(5 * time.Millisecond)
			continue
		}
		n := issued.Load()
		due := time.Duration(float64(n) * perMutation / o.Rate * float64(time.Second))
		if wait := due - (now.Sub(start) - saturated); wait > 0 {
			time.Sleep(min(wait, 5*time.Millisecond))
			continue
		}
		l.mu.Lock()
		total := len(l.prs)
		l.mu.Unlock()
		pr := rng.IntN(total)
		select {
		case chans[pr%o.Drivers] <- ticket{pr: pr}:
			issued.Add(1)
		case <-ctx.Done():
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	for _, m := range l.mutations {
		l.kinds[m.kind]++
	}
}

// simIdle reports whether the simulator has sent every webhook it queued.
func (l *run) simIdle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
	defer cancel()
	return l.sim.WaitDeliveries(ctx) == nil
}

// restart kills the bot as a crash would, keeps it down, and starts a new
// one; with replicas, it SIGKILLs the first replica and starts another in
// its place while the others take the deliveries.
func (l *run) restart(down time.Duration) {
	l.restarts.Add(1)
	if l.procs != nil {
		l.logf("killing replica 0 (SIGKILL) once it runs work")
		running, err := l.procs.killAndRestart(0, down)
		if err != nil {
			panic("loadtest: restarting the replica: " + err.Error())
		}
		l.killedRunning.Store(int64(running))
		l.logf("replica 0 was killed running %d pieces of work; a new one started", running)
		return
	}
	l.logf("killing the server")
	l.botMu.Lock()
	defer l.botMu.Unlock()
	old := l.bot
	l.front.setBot(nil)
	old.kill()
	time.Sleep(down)
	b, err := l.newBot()
	if err != nil {
		panic("loadtest: restarting the bot: " + err.Error())
	}
	l.bot = b
	l.front.setBot(b)
	// As 'countersign serve' does at start: ask GitHub to redeliver what failed.
	go b.srv.RedeliverFailed(context.Background(), server.DefaultRedeliverWindow)
	l.logf("server restarted")
}

// settle waits until the simulator has sent every webhook, the load test's
// front has passed on every delivery it held, and the server is idle
// (server.IdleIn), three polls in a row with no evaluation started.
func (l *run) settle(ctx context.Context, timeout time.Duration) error {
	if l.procs != nil {
		return l.settleProcs(ctx, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	quiet := 0
	lastGen := int64(-1)
	for {
		if err := l.sim.WaitDeliveries(ctx); err != nil {
			return fmt.Errorf("webhooks still queued in the simulator: %w", err)
		}
		l.front.flush()
		gen := l.rec.gen.Load()
		if l.bot.app.Idle() && gen == lastGen {
			quiet++
			if quiet >= 3 {
				return nil
			}
		} else {
			quiet = 0
		}
		lastGen = gen
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.New("work still queued after " + timeout.String())
		case <-t.C:
		}
	}
}

// cpuSeconds is the CPU time (user and system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
