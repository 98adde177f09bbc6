package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
	"github.com/sourcegraph/conc/pool"
)

// want is the verdict the engine gives one pull request's final state.
type want struct {
	pr         *prState
	head       string
	conclusion string
	title      string
	err        string
}

// expected gathers every open pull request's facts afresh (a new App, so no
// conditional-request cache, and a new facts cache) from the simulator's
// final state through the same pull code path the evaluator uses, and runs
// the engine on them.
func (l *run) expected(ctx context.Context) ([]want, error) {
	app, err := ghapp.New(ghapp.Options{AppID: l.sim.AppID(), PrivateKeyPEM: l.sim.PrivateKeyPEM(), BaseURL: l.base,
		Transport: l.transport, CacheEntries: -1, MaxAttempts: 3, MaxRateLimitWait: time.Second, Now: l.clock.Now})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	prs := append([]*prState(nil), l.prs...)
	l.mu.Unlock()
	out := make([]want, len(prs))
	p := pool.New().WithMaxGoroutines(8)
	for i, pr := range prs {
		p.Go(func() {
			client, err := app.Client(l.insts[pr.repo])
			if err != nil {
				out[i] = want{pr: pr, err: err.Error()}
				return
			}
			out[i] = oracle(ctx, client, pr, l.movedAt)
		})
	}
	p.Wait()
	return out, nil
}

// oracle judges one pull request from scratch: its facts read afresh
// (a new facts cache, no stores of the app's) through the pull code path the
// evaluator uses, and the engine run on them. The engine alone decides what
// the facts mean (an edited approval, a stale one), so the oracle and the
// app agree by construction wherever GitHub's data tells the story.
//
// A `/countersign` comment applies to the head when it was written in a
// later second than the app received the delivery that last moved the pull
// request there (the app's rule); movedAt answers that second from the
// simulator's record of the delivery (nil, or no such delivery: the check
// run's start, when the app first saw the head, which is later).
func oracle(ctx context.Context, client *github.Client, pr *prState, movedAt func(pr *prState, head string) (time.Time, bool)) want {
	w := want{pr: pr}
	c := pull.NewGitHub(pull.GitHubOptions{Client: client, Owner: pr.owner, Repo: pr.name, Number: pr.number, Cache: pull.NewCache(64)})
	cur, err := c.PR(ctx)
	if err != nil {
		w.err = ghapp.Reason(err)
		return w
	}
	var seen time.Time
	runs, _, err := client.Checks.ListCheckRunsForRef(ctx, pr.owner, pr.name, cur.HeadSHA,
		&github.ListCheckRunsOptions{CheckName: github.String(checks.CheckName), ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		w.err = ghapp.Reason(err)
		return w
	}
	var latest int64
	for _, cr := range runs.CheckRuns {
		if cr.GetName() == checks.CheckName && cr.GetHeadSHA() == cur.HeadSHA && (latest == 0 || cr.GetID() > latest) {
			latest, seen = cr.GetID(), cr.GetStartedAt().Time
		}
	}
	if movedAt != nil {
		if at, ok := movedAt(pr, cur.HeadSHA); ok {
			seen = at
		}
	}
	g, err := pull.Gather(ctx, c, pull.GatherOptions{HeadSeenAt: seen})
	var pe *pull.PolicyError
	switch {
	case errors.As(err, &pe):
		v := checks.Invalid(pe.Err, pe.Source, g.Facts)
		w.conclusion, w.title = string(v.Conclusion), v.Title
	case err != nil:
		w.err = ghapp.Reason(err)
	default:
		v := g.Compiled.Evaluate(g.Facts)
		w.conclusion, w.title = string(v.Conclusion), v.Title
	}
	if g != nil && g.PR != nil {
		w.head = g.PR.HeadSHA
	}
	return w
}

// Verdicts compares the published check runs with the expected verdicts.
type Verdicts struct {
	// PullRequests is how many open pull requests were compared; Correct how
	// many showed the expected conclusion and title on their current head.
	PullRequests int `json:"pull_requests"`
	Correct      int `json:"correct"`
	// Mismatches lists the others (at most 20).
	Mismatches []string `json:"mismatches,omitempty"`
	// MismatchCount counts them all.
	MismatchCount int `json:"mismatch_count"`
	// Missing counts pull requests with no completed check run on the head.
	Missing int `json:"missing"`
	// Errors counts pull requests whose expected verdict could not be computed.
	Errors int `json:"errors"`
}

// compare holds the final check-run write of each head against want.
func (l *run) compare(ws []want) Verdicts {
	last := map[string]githubsim.CheckRunWrite{}
	for _, w := range l.sim.CheckRunWrites() {
		if w.Name == checks.CheckName {
			last[w.Repo+"@"+w.HeadSHA] = w
		}
	}
	v := Verdicts{PullRequests: len(ws)}
	add := func(s string) {
		v.MismatchCount++
		if len(v.Mismatches) < 20 {
			v.Mismatches = append(v.Mismatches, s)
		}
	}
	for _, w := range ws {
		if w.err != "" {
			v.Errors++
			add(fmt.Sprintf("%s: expected verdict not computed: %s", w.pr.key(), w.err))
			continue
		}
		got, ok := last[w.pr.repo+"@"+w.head]
		switch {
		case !ok || got.Status != "completed":
			v.Missing++
			add(fmt.Sprintf("%s (%s) head %.7s: no completed check run (want %s %q)", w.pr.key(), w.pr.kind, w.head, w.conclusion, w.title))
		case got.Conclusion != w.conclusion || got.Title != w.title:
			add(fmt.Sprintf("%s (%s) head %.7s: check says %s %q, want %s %q", w.pr.key(), w.pr.kind, w.head, got.Conclusion, got.Title, w.conclusion, w.title))
			if os.Getenv("LOADTEST_TRACE") != "" {
				l.trace(w.pr)
			}
		default:
			v.Correct++
		}
	}
	return v
}

// Violation is a passing check on a head that needed an approval it did not have.
type Violation struct {
	Repo, Head string
	At         time.Time
	Approved   time.Time
}

// safety reads the whole history of check-run writes: a success on a head
// of an agent's Terraform change is a violation unless it came after the
// eligible approval of that head was submitted.
func (l *run) safety() []string {
	var out []string
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.sim.CheckRunWrites() {
		if w.Name != checks.CheckName || w.Conclusion != string(checks.Success) {
			continue
		}
		h := l.heads[w.Repo+"@"+w.HeadSHA]
		if h == nil || !h.needsApproval {
			continue
		}
		if h.approvedAt.IsZero() || w.At.Before(h.approvedAt) {
			out = append(out, fmt.Sprintf("%s@%.7s passed at %s, approved at %v", w.Repo, w.HeadSHA, w.At.Format(time.RFC3339Nano), h.approvedAt))
		}
	}
	return out
}

// SyncStats describe the initial sync: installation.created for every
// installation makes the server list and evaluate every open pull request.
type SyncStats struct {
	Evaluations int     `json:"evaluations"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"evaluations_per_second"`
}

func (l *run) syncStats(d time.Duration) SyncStats {
	n := 0
	for _, recs := range l.rec.snapshot() {
		n += len(recs)
	}
	return SyncStats{Evaluations: n, Seconds: d.Seconds(), PerSecond: float64(n) / d.Seconds()}
}

// SweepStats describe the one sweep after a campaign.
type SweepStats struct {
	Evaluations int     `json:"evaluations"`
	Seconds     float64 `json:"seconds"`
	Calls       int     `json:"calls"`
}

// LoadStats are the measured run's figures.
type LoadStats struct {
	Seconds       float64        `json:"seconds"`
	SettleSeconds float64        `json:"settle_seconds"`
	Mutations     map[string]int `json:"mutations"`
	Deliveries    int64          `json:"deliveries"`
	// DeliveriesPerSecond is deliveries handled by the server over the run.
	DeliveriesPerSecond float64           `json:"deliveries_per_second"`
	Statuses            map[string]int    `json:"statuses"`
	AckP50, AckP99      Millis            `json:"-"`
	Ack                 map[string]Millis `json:"ack_ms"`
	// ToCheck is from a state change to the end of the first successful
	// evaluation of that PR that started after it (the check run written,
	// or found already saying the verdict).
	ToCheck        map[string]Millis            `json:"delivery_to_check_ms"`
	ToCheckSamples int                          `json:"delivery_to_check_samples"`
	ToCheckByKind  map[string]map[string]Millis `json:"delivery_to_check_by_change_ms"`
	// ToDelivery is from a change to its first delivery reaching the
	// server; DeliveryToEnd from there to the evaluation's end.
	ToDelivery     map[string]Millis `json:"change_to_delivery_ms"`
	DeliveryToEnd  map[string]Millis `json:"delivery_to_evaluated_ms"`
	ToCheckMissing int               `json:"delivery_to_check_missing"`
	Evaluations    int               `json:"evaluations"`
	FailedAttempts int               `json:"failed_attempts"`
	Calls          int               `json:"calls"`
	Charged        int               `json:"calls_charged"`
	CallsByStatus  map[string]int    `json:"calls_by_status"`
	CallsPerDeliv  float64           `json:"calls_per_delivery"`
	// ChargedPerDeliv leaves out the 304s, which GitHub's rate limit does not charge.
	ChargedPerDeliv float64        `json:"charged_calls_per_delivery"`
	CallsPerEval    float64        `json:"calls_per_evaluation_mean"`
	CallsPerEvalMax int            `json:"calls_per_evaluation_max"`
	CallsOutside    int64          `json:"calls_outside_evaluations"`
	CallsByRoute    map[string]int `json:"calls_by_route"`
	Duplicated      int64          `json:"duplicated"`
	Reordered       int64          `json:"reordered"`
	Refused         int64          `json:"refused_while_down"`
	DroppedBySim    int            `json:"dropped_by_github"`
	Restarts        int64          `json:"restarts"`
	// KilledRunning is how much work the SIGKILLed replica was running
	// (replica-kill): tasks that wait for their lease to lapse in Redis.
	KilledRunning int64 `json:"killed_replica_running,omitempty"`
	// CPUSeconds is the process's CPU time over the run (simulator included).
	CPUSeconds float64 `json:"cpu_seconds"`
	// SaturatedSeconds is how long the driver held back because the
	// simulator's webhook sender had a backlog (the system at capacity).
	SaturatedSeconds float64 `json:"saturated_seconds"`
	// SlowEvaluations took a second or more (latency faults, rate-limit waits).
	SlowEvaluations int `json:"slow_evaluations"`
}

// Millis is a duration in milliseconds.
type Millis float64

func ms(d time.Duration) Millis { return Millis(float64(d.Microseconds()) / 1000) }

func (l *run) fillLoad(rep *Report, received int64, d time.Duration) {
	ld := &rep.Load
	acks, statuses := l.front.takeAcks()
	ld.Deliveries = int64(len(acks))
	ld.DeliveriesPerSecond = float64(received) / d.Seconds()
	ld.Statuses = map[string]int{}
	for k, v := range statuses {
		ld.Statuses[fmt.Sprint(k)] = v
	}
	ld.Ack = map[string]Millis{"p50": ms(percentile(acks, .5)), "p99": ms(percentile(acks, .99)), "max": ms(percentile(acks, 1))}
	ld.Mutations = l.kinds
	ld.Duplicated, ld.Reordered, ld.Refused = l.front.dups.Load(), l.front.reorders.Load(), l.front.refused.Load()
	ld.Restarts = l.restarts.Load()
	ld.KilledRunning = l.killedRunning.Load()
	for _, dv := range l.sim.Deliveries() {
		if dv.Dropped {
			ld.DroppedBySim++
		}
	}

	evals := l.rec.snapshot()
	var lat []time.Duration
	byKind := map[string][]time.Duration{}
	for _, m := range l.mutations {
		switch m.kind {
		case "comment", "rerun-skipped":
			continue // issue_comment is not an event the server evaluates on
		}
		found := false
		for _, e := range evals[m.key] {
			if e.ok && !e.start.Before(m.at) {
				lat = append(lat, e.end.Sub(m.at))
				byKind[m.kind] = append(byKind[m.kind], e.end.Sub(m.at))
				found = true
				break
			}
		}
		if !found {
			ld.ToCheckMissing++
		}
	}
	ld.ToCheckSamples = len(lat)
	ld.ToCheckByKind = map[string]map[string]Millis{}
	for k, ds := range byKind {
		ld.ToCheckByKind[k] = map[string]Millis{"p50": ms(percentile(ds, .5)), "p99": ms(percentile(ds, .99))}
	}
	// The breakdown: change to its delivery reaching the server (GitHub's,
	// here the simulator's, sender), and that to the evaluation's end.
	l.front.mu.Lock()
	byKey := l.front.byKey
	l.front.mu.Unlock()
	var toDelivery, toEnd []time.Duration
	for _, m := range l.mutations {
		switch m.kind {
		case "comment", "rerun-skipped", "rerun":
			continue // a rerun's check_run event names no PR at the top level
		}
		for _, at := range byKey[m.key] {
			if !at.Before(m.at) {
				toDelivery = append(toDelivery, at.Sub(m.at))
				for _, e := range evals[m.key] {
					if e.ok && !e.start.Before(m.at) {
						toEnd = append(toEnd, e.end.Sub(at))
						break
					}
				}
				break
			}
		}
	}
	ld.ToDelivery = map[string]Millis{"p50": ms(percentile(toDelivery, .5)), "p99": ms(percentile(toDelivery, .99))}
	ld.DeliveryToEnd = map[string]Millis{"p50": ms(percentile(toEnd, .5)), "p99": ms(percentile(toEnd, .99))}
	ld.ToCheck = map[string]Millis{"p50": ms(percentile(lat, .5)), "p99": ms(percentile(lat, .99)), "max": ms(percentile(lat, 1))}

	for _, recs := range evals {
		for _, e := range recs {
			ld.Evaluations++
			if !e.ok {
				ld.FailedAttempts++
			}
			ld.CallsPerEvalMax = max(ld.CallsPerEvalMax, e.calls)
			if e.end.Sub(e.start) >= time.Second {
				ld.SlowEvaluations++
			}
		}
	}
	calls := l.sim.Calls()
	ld.Calls = len(calls)
	ld.CallsByStatus = map[string]int{}
	ld.CallsByRoute = map[string]int{}
	for _, c := range calls {
		if c.Status != 304 {
			ld.Charged++
		}
		ld.CallsByStatus[fmt.Sprint(c.Status)]++
		ld.CallsByRoute[c.Method+" "+c.Route]++
	}
	ld.CallsOutside = l.rec.outside.Load()
	if ld.Deliveries > 0 {
		ld.CallsPerDeliv = float64(ld.Calls) / float64(ld.Deliveries)
		ld.ChargedPerDeliv = float64(ld.Charged) / float64(ld.Deliveries)
	}
	if ld.Evaluations > 0 {
		ld.CallsPerEval = float64(ld.Calls-int(ld.CallsOutside)) / float64(ld.Evaluations)
	}
}

// MemStats are memory figures of the whole process (simulator included) and
// the live heap split between the bot and the simulator/driver.
type MemStats struct {
	// PeakRSSMB is VmHWM: the process's peak resident set, simulator included.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// HeapLiveMB is the live heap after a GC at the end of the run.
	HeapLiveMB float64 `json:"heap_live_mb"`
	// BotHeapMB is the part of it allocated outside the simulator and the
	// load driver (sampled heap profile, attributed by stack).
	BotHeapMB float64 `json:"bot_heap_mb"`
	SimHeapMB float64 `json:"sim_heap_mb"`
	// AfterSync is the same split once every open PR was evaluated once.
	AfterSync *HeapSplit `json:"after_sync"`
	// ServerPeakRSSMB is the VmHWM of the bot run as a separate process
	// (Options.ServerBinary): the bot's own peak resident set; 0 in-process.
	ServerPeakRSSMB float64 `json:"server_peak_rss_mb,omitempty"`
	// ServerAfterSyncRSSMB and ServerRSSMB are its VmRSS after the initial
	// sync and at the end.
	ServerAfterSyncRSSMB float64 `json:"server_after_sync_rss_mb,omitempty"`
	ServerRSSMB          float64 `json:"server_rss_mb,omitempty"`
}

// HeapSplit is the live heap split by who allocated it.
type HeapSplit struct {
	BotMB float64 `json:"bot_mb"`
	SimMB float64 `json:"sim_mb"`
}

func (m *MemStats) fill() {
	m.PeakRSSMB = vmHWM()
	h := memNow()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapLiveMB = float64(ms.HeapAlloc) / (1 << 20)
	m.BotHeapMB, m.SimHeapMB = h.BotMB, h.SimMB
}

// memNow collects garbage and splits the live heap by allocating stack.
func memNow() *HeapSplit {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		n, ok = runtime.MemProfile(recs, false)
		if ok {
			recs = recs[:n]
			break
		}
	}
	var bot, sim float64
	rate := float64(runtime.MemProfileRate)
	for _, r := range recs {
		inuse := float64(r.InUseBytes())
		objs := float64(r.InUseObjects())
		if objs == 0 {
			continue
		}
		// Undo the sampling, as pprof does.
		avg := inuse / objs
		scale := 1 / (1 - mathExp(-avg/rate))
		bytes := inuse * scale
		if isSimStack(r.Stack()) {
			sim += bytes
		} else {
			bot += bytes
		}
	}
	return &HeapSplit{BotMB: bot / (1 << 20), SimMB: sim / (1 << 20)}
}

func isSimStack(pcs []uintptr) bool {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, "/bot/githubsim.") || strings.Contains(f.Function, "/bot/loadtest.") ||
			strings.Contains(f.Function, "go-git/go-git") || strings.Contains(f.Function, "runtime/pprof") {
			return true
		}
		if !more {
			return false
		}
	}
}

// vmHWM is the process's peak resident set in MB (Linux), or 0.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// Machine describes where a report was measured.
type Machine struct {
	CPUs    int    `json:"cpus"`
	Model   string `json:"model"`
	LoadAvg string `json:"loadavg"`
	Go      string `json:"go"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// trace prints one pull request's history to stderr (LOADTEST_TRACE=1).
func (l *run) trace(p *prState) {
	var lines []string
	for _, m := range l.mutations {
		if m.key == p.key() {
			lines = append(lines, fmt.Sprintf("%s mutation %s", m.at.Format("15:04:05.000000"), m.kind))
		}
	}
	for _, e := range l.rec.snapshot()[p.key()] {
		lines = append(lines, fmt.Sprintf("%s eval start", e.start.Format("15:04:05.000000")))
		lines = append(lines, fmt.Sprintf("%s eval end ok=%v calls=%d", e.end.Format("15:04:05.000000"), e.ok, e.calls))
	}
	for _, w := range l.sim.CheckRunWrites() {
		if w.Repo == p.repo && strings.Contains(l.headsOf(p), w.HeadSHA) {
			lines = append(lines, fmt.Sprintf("%s write %s %.7s %s %s %q", w.At.Format("15:04:05.000000"), w.Method, w.HeadSHA, w.Status, w.Conclusion, w.Title))
		}
	}
	for _, d := range l.sim.Deliveries() {
		var b struct {
			Number      int `json:"number"`
			PullRequest struct {
				Number int `json:"number"`
			} `json:"pull_request"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		_ = json.Unmarshal(d.Body, &b)
		if b.Repository.FullName == p.repo && (b.PullRequest.Number == p.number || b.Number == p.number) {
			lines = append(lines, fmt.Sprintf("%s delivery %s.%s %s status=%d err=%q dropped=%v redelivery=%v", d.At.Format("15:04:05.000000"), d.Event, d.Action, d.GUID, d.Status, d.Err, d.Dropped, d.Redelivery))
		}
	}
	l.mu.Lock()
	lines = append(lines, l.events...)
	l.mu.Unlock()
	sort.Strings(lines)
	fmt.Fprintf(os.Stderr, "== %s\n%s\n", p.key(), strings.Join(lines, "\n"))
}

func (l *run) headsOf(p *prState) string {
	pr := l.sim.PR(p.repo, p.number)
	var b strings.Builder
	for _, c := range pr.GetHead().GetSHA() {
		b.WriteRune(c)
	}
	return b.String()
}

// movedAt is the second in which the app answered the latest delivery that
// moved pr to head (pull_request opened, synchronize or reopened), as the
// simulator recorded it (whole seconds, GitHub's precision): a comment
// written in a later second follows the app's receipt.
func (l *run) movedAt(pr *prState, head string) (time.Time, bool) {
	var at time.Time
	last := ""
	for _, d := range l.sim.Deliveries() { // in the order GitHub sent them
		if d.Event != "pull_request" || d.Status/100 != 2 || (d.Action != "opened" && d.Action != "synchronize" && d.Action != "reopened") {
			continue
		}
		var ev struct {
			Number     int `json:"number"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			PullRequest struct {
				Head struct {
					SHA string `json:"sha"`
				} `json:"head"`
			} `json:"pull_request"`
		}
		if json.Unmarshal(d.Body, &ev) != nil || ev.Number != pr.number || !strings.EqualFold(ev.Repository.FullName, pr.repo) {
			continue
		}
		last, at = ev.PullRequest.Head.SHA, d.At
	}
	if last != head {
		return time.Time{}, false
	}
	return at, !at.IsZero()
}
