package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// profile is a fault campaign: what it injects during the measured run.
type profile struct {
	Name, Text string
	faults     []githubsim.Fault
	drop       float64
	dup        float64
	reorder    float64
	restartAt  float64 // fraction of the duration at which the server is killed; 0: never
	downFor    time.Duration
	// replicaKill: with replicas, restartAt SIGKILLs one replica (not the
	// whole bot) and starts another in its place.
	replicaKill bool
	// primary: a primary rate limit only lifts when the app's clock passes its reset.
	primary bool
}

// text is what the report says of the campaign: its faults, and that each
// random one fires at least once.
func (p profile) text() string {
	if p.drop > 0 || slices.ContainsFunc(p.faults, func(f githubsim.Fault) bool { return f.Probability > 0 }) {
		return p.Text + "; each fault at least once"
	}
	return p.Text
}

// Profiles are the fault campaigns, by name.
var Profiles = map[string]profile{
	"":     {Name: "none", Text: "no faults"},
	"none": {Name: "none", Text: "no faults"},
	"5xx": {Name: "5xx", Text: "10% of REST calls answer 500",
		faults: []githubsim.Fault{{Status: 500, Probability: 0.10}}},
	"ratelimit": {Name: "ratelimit", Text: "1% primary rate limit (403), 2% secondary as 403, 2% secondary as 429 (Retry-After 1s)",
		faults: []githubsim.Fault{
			{PrimaryRateLimit: true, Probability: 0.01},
			{SecondaryRateLimit: true, RetryAfter: time.Second, Probability: 0.02},
			{SecondaryRateLimit: true, Status: 429, RetryAfter: time.Second, Probability: 0.02},
		}, primary: true},
	"latency": {Name: "latency", Text: "2% of REST calls take 2 s longer",
		faults: []githubsim.Fault{{Latency: 2 * time.Second, Probability: 0.02}}},
	"drop": {Name: "drop", Text: "5% of webhook deliveries dropped", drop: 0.05},
	"dupreorder": {Name: "dupreorder", Text: "10% of deliveries delivered twice, 10% held back behind the next one",
		dup: 0.10, reorder: 0.10},
	"restart": {Name: "restart", Text: "the server is killed at 40% of the run (queue lost) and restarted 1 s later",
		restartAt: 0.4, downFor: time.Second},
	"replica-kill": {Name: "replica-kill", Text: "with --replicas 2 or more, one replica is SIGKILLed at 40% of the run (work it acknowledged or ran is in Redis) and a new one started 1 s later",
		restartAt: 0.4, downFor: time.Second, replicaKill: true},
	"chaos": {Name: "chaos", Text: "all of the above at once",
		faults: []githubsim.Fault{
			{Status: 500, Probability: 0.10},
			{PrimaryRateLimit: true, Probability: 0.01},
			{SecondaryRateLimit: true, RetryAfter: time.Second, Probability: 0.02},
			{SecondaryRateLimit: true, Status: 429, RetryAfter: time.Second, Probability: 0.02},
			{Latency: 2 * time.Second, Probability: 0.02},
		}, drop: 0.05, dup: 0.10, reorder: 0.10, restartAt: 0.4, downFor: time.Second, primary: true},
}

// ProfileNames lists the fault profiles.
func ProfileNames() []string {
	var out []string
	for k := range Profiles {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// apply injects the profile's faults and returns what removes them.
func (p profile) apply(l *run) func() {
	var removes []func()
	for _, f := range p.faults {
		if f.Probability > 0 {
			// Each fault fires at least once, on the first call it
			// matches: a campaign short enough for the tests would
			// otherwise inject nothing in a few percent of runs
			// (2% of 75 calls misses one run in five).
			once := f
			once.Probability, once.Times = 0, 1
			removes = append(removes, l.sim.Inject(once))
		}
		removes = append(removes, l.sim.Inject(f))
	}
	if p.drop > 0 {
		l.sim.DropDeliveries(p.drop)
		l.sim.DropNextDeliveries(1) // at least one, as with the faults
	}
	l.front.mu.Lock()
	l.front.dup, l.front.reorder = p.dup, p.reorder
	l.front.mu.Unlock()
	return func() {
		for _, r := range removes {
			r()
		}
		l.sim.DropDeliveries(0)
		l.sim.DropNextDeliveries(0)
		l.front.mu.Lock()
		l.front.dup, l.front.reorder = 0, 0
		l.front.mu.Unlock()
		if p.primary {
			// A primary limit lifts at its reset, within the hour.
			l.clock.Add(2 * time.Hour)
		}
	}
}

// Report is what a load test measured.
type Report struct {
	Options     Options   `json:"-"`
	Profile     string    `json:"profile"`
	ProfileText string    `json:"profile_text"`
	At          string    `json:"at"`
	Machine     Machine   `json:"machine"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	SeedSeconds float64   `json:"seed_seconds"`
	Sync        SyncStats `json:"initial_sync"`
	Load        LoadStats `json:"load"`
	Memory      MemStats  `json:"memory"`
	// BeforeSweep compares the verdicts once the server is idle after the run.
	BeforeSweep Verdicts `json:"before_sweep"`
	// Sweep and AfterSweep: one re-evaluation of every open PR, then again.
	Sweep      *SweepStats `json:"sweep,omitempty"`
	AfterSweep *Verdicts   `json:"after_sweep,omitempty"`
	// Violations are passing checks on heads that needed an approval they did not have.
	Violations []string `json:"violations"`
	Problems   []string `json:"problems,omitempty"`
	Settings   Settings `json:"settings"`
}

// Settings are the options as reported.
type Settings struct {
	Repos      int     `json:"repos"`
	PRs        int     `json:"prs"`
	Rate       float64 `json:"rate"`
	Duration   string  `json:"duration"`
	Deliveries int     `json:"deliveries"`
	Workers    int     `json:"workers"`
	Senders    int     `json:"senders"`
	// ServerProcess: the bot ran as a separate 'countersign serve'.
	ServerProcess bool `json:"server_process,omitempty"`
	// Replicas: that many 'countersign serve' processes shared one Redis.
	Replicas int    `json:"replicas,omitempty"`
	Seed     int64  `json:"seed"`
	Faults   string `json:"faults"`
}

// Failed reports whether the run found a wrong verdict: a pass that should
// not have been, or (after the sweep, or with no faults before it) a pull
// request whose check does not say what the engine says of its final state.
func (r *Report) Failed() bool {
	if len(r.Violations) > 0 || len(r.Problems) > 0 {
		return true
	}
	// Without a sweep to repair it (no faults, or replicas, whose queue is
	// in Redis), every verdict must be right once the servers are idle.
	if (r.Profile == "none" || r.Options.Replicas > 0) && r.BeforeSweep.MismatchCount > 0 {
		return true
	}
	return r.AfterSweep != nil && r.AfterSweep.MismatchCount > 0
}

func (r *Report) settings() {
	o := r.Options
	r.Settings = Settings{Repos: o.Repos, PRs: o.PRs, Rate: o.Rate, Duration: o.Duration.String(),
		Deliveries: o.Deliveries, Workers: o.Workers, Senders: o.Senders, ServerProcess: o.ServerBinary != "", Replicas: o.Replicas,
		Seed: o.Seed, Faults: r.Profile}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	r.settings()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	r.settings()
	ld := r.Load
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(f, a...)) }
	s := r.Settings
	row("run", "%d repos, %d open PRs, target %.0f deliveries/s for %s, %d workers, %d webhook senders, seed %d, faults %s (%s)",
		s.Repos, s.PRs, s.Rate, s.Duration, s.Workers, s.Senders, s.Seed, r.Profile, r.ProfileText)
	if s.Replicas > 0 {
		row("replicas", "%d 'countersign serve' processes sharing one redis-server, behind a round-robin balancer; change to check timed from their \"evaluated\" log records", s.Replicas)
	}
	row("machine", "%d CPUs (%s), GOMAXPROCS %d, load %s, %s, %s", r.Machine.CPUs, r.Machine.Model, r.GOMAXPROCS, r.Machine.LoadAvg, r.Machine.Go, r.At)
	row("initial sync", "%d evaluations in %.1f s (%.0f/s)", r.Sync.Evaluations, r.Sync.Seconds, r.Sync.PerSecond)
	row("mutations", "%s", kv(ld.Mutations))
	row("deliveries", "%.0f/s sustained over the %.1f s run (%d handled in all); statuses %s", ld.DeliveriesPerSecond, ld.Seconds, ld.Deliveries, kv(ld.Statuses))
	row("CPU", "%.1f s of CPU over the %.1f s run (%.2f cores busy, simulator and driver included)", ld.CPUSeconds, ld.Seconds, ld.CPUSeconds/ld.Seconds)
	if ld.SaturatedSeconds > 0 {
		row("saturation", "the driver held back %.1f s of the run: the webhook sender had a backlog (capacity reached)", ld.SaturatedSeconds)
	}
	if ld.Duplicated+ld.Reordered+ld.Refused+ld.Restarts+int64(ld.DroppedBySim) > 0 {
		row("delivery faults", "%d duplicated, %d reordered, %d dropped by GitHub; %d restarts, %d refused while down",
			ld.Duplicated, ld.Reordered, ld.DroppedBySim, ld.Restarts, ld.Refused)
	}
	if ld.KilledRunning > 0 {
		row("replica kill", "the replica was SIGKILLed running %d pieces of work; the run settled %.1f s after it ended (asynq's lease recovery)", ld.KilledRunning, ld.SettleSeconds)
	}
	row("ack latency", "p50 %.2f ms, p99 %.2f ms, max %.2f ms", ld.Ack["p50"], ld.Ack["p99"], ld.Ack["max"])
	row("change to check", "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d changes; %d never followed by a successful evaluation)",
		ld.ToCheck["p50"], ld.ToCheck["p99"], ld.ToCheck["max"], ld.ToCheckSamples, ld.ToCheckMissing)
	var kinds []string
	for _, k := range sortedKeys(ld.ToCheckByKind) {
		kinds = append(kinds, fmt.Sprintf("%s p50 %.0f p99 %.0f", k, ld.ToCheckByKind[k]["p50"], ld.ToCheckByKind[k]["p99"]))
	}
	row("  by change", "%s (ms)", strings.Join(kinds, "; "))
	row("  of which", "change to delivery at the server p50 %.1f ms, p99 %.1f ms; delivery to evaluated p50 %.1f ms, p99 %.1f ms",
		ld.ToDelivery["p50"], ld.ToDelivery["p99"], ld.DeliveryToEnd["p50"], ld.DeliveryToEnd["p99"])
	row("evaluations", "%d (%d failed attempts, %d took 1 s or more); settled %.1f s after the run", ld.Evaluations, ld.FailedAttempts, ld.SlowEvaluations, ld.SettleSeconds)
	row("API calls", "%d (%d charged): %.2f per delivery (%.2f charged), %.2f per evaluation (max %d), %d outside evaluations; statuses %s",
		ld.Calls, ld.Charged, ld.CallsPerDeliv, ld.ChargedPerDeliv, ld.CallsPerEval, ld.CallsPerEvalMax, ld.CallsOutside, kv(ld.CallsByStatus))
	row("calls by route", "%s", kv(ld.CallsByRoute))
	if ld.CallsPerDeliv > 0 {
		row("rate limit", "5,000/h per installation at %.2f calls per delivery: %.0f deliveries/h per installation",
			ld.CallsPerDeliv, 5000/ld.CallsPerDeliv)
	}
	m := r.Memory
	if m.ServerPeakRSSMB > 0 {
		row("server process", "peak RSS (VmHWM) %.0f MB, RSS %.0f MB after the initial sync and %.0f MB at the end ('countersign serve' as child processes: the bot alone, summed over the live replicas)",
			m.ServerPeakRSSMB, m.ServerAfterSyncRSSMB, m.ServerRSSMB)
		row("", "ack latency is through the balancer; the per-evaluation call maximum is measured only with the bot in-process")
	}
	row("memory", "peak RSS %.0f MB (process, simulator included); live heap %.0f MB: bot %.0f MB, simulator+driver %.0f MB", m.PeakRSSMB, m.HeapLiveMB, m.BotHeapMB, m.SimHeapMB)
	if m.AfterSync != nil {
		row("memory after sync", "bot %.0f MB, simulator+driver %.0f MB", m.AfterSync.BotMB, m.AfterSync.SimMB)
	}
	verd := func(name string, v Verdicts) {
		row(name, "%d of %d PRs as expected; %d mismatches (%d without a completed check, %d not computable)",
			v.Correct, v.PullRequests, v.MismatchCount, v.Missing, v.Errors)
		for _, x := range v.Mismatches {
			row("", "  %s", x)
		}
	}
	verd("verdicts", r.BeforeSweep)
	if r.Sweep != nil {
		row("sweep", "%d evaluations in %.1f s, %d calls", r.Sweep.Evaluations, r.Sweep.Seconds, r.Sweep.Calls)
		verd("after sweep", *r.AfterSweep)
	}
	row("safety", "%d passing checks on heads that needed an approval they did not have", len(r.Violations))
	for _, v := range r.Violations {
		row("", "  %s", v)
	}
	for _, p := range r.Problems {
		row("problem", "%s", p)
	}
	result := "PASS"
	if r.Failed() {
		result = "FAIL"
	}
	row("result", "%s", result)
	return tw.Flush()
}

func kv[V any](m map[string]V) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func mathExp(x float64) float64 { return math.Exp(x) }
