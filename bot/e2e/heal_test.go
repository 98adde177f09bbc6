package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/prometheus/client_golang/prometheus"
)

// node is one more Countersign process (app client, evaluator, server) on
// the env's simulator, as after a restart.
type node struct {
	e   *env
	srv *server.Server
	hs  *httptest.Server
}

// restart starts a new process on the same simulator and points the app's
// webhook at it. The previous process is left as it is (stop it first).
func (e *env) restart() *node {
	e.t.Helper()
	var logs io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logs = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", "restarted")
	a, err := app.New(app.Options{
		Settings: server.Settings{AppID: e.sim.AppID(), PrivateKeyPEM: e.sim.PrivateKeyPEM(), GitHubURL: e.sim.URL(), WebhookSecret: []byte(secret)},
		Logger:   log,
		GitHub: ghapp.Options{MaxAttempts: 3, RetryBaseDelay: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond,
			MaxRateLimitWait: 2 * time.Second, Now: e.clock.Now},
		Server:         server.Options{Retry: server.RetryPolicy{Attempts: 200, Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
		WithoutLanding: true,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	srv := a.Server
	hs := httptest.NewServer(srv)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	srv.SetReady(true)
	e.sim.SetWebhook(hs.URL+"/webhook", secret)
	return &node{e: e, srv: srv, hs: hs}
}

// idle waits until the restarted process has settled (app.Settle).
func (n *node) idle() {
	n.e.t.Helper()
	settle(n.e.t, n.e.ctx(), n.e.sim, n.srv.Idle)
}

func gaugeOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// oneRun fails the test unless the head carries exactly one countersign check run.
func (e *env) oneRun(head string) {
	e.t.Helper()
	n := 0
	for _, cr := range e.sim.CheckRuns(repo, head) {
		if cr.GetName() == "countersign" {
			n++
		}
	}
	if n != 1 {
		e.t.Errorf("%d countersign check runs on %.7s, want 1", n, head)
	}
}

// neverPassed fails the test if any write on the head concluded success.
func (e *env) neverPassed(head string) {
	e.t.Helper()
	for i, w := range e.writes(head) {
		if w.Conclusion == "success" {
			e.t.Errorf("write %d on %.7s passed: %+v", i, head, w)
		}
	}
}

// sweepNow runs one sweep on srv and waits until its listings (one
// installation, one repository) are done; the caller then waits for idle.
// The queue-depth gauge alone cannot tell: a running listing is not counted.
func sweepNow(t *testing.T, srv *server.Server) {
	t.Helper()
	before := counterOf(t, srv.Registry(), "countersign_fanouts_total")
	if err := srv.Sweep(context.Background(), server.SweepOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for counterOf(t, srv.Registry(), "countersign_fanouts_total") < before+2 {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the sweep's listings")
		}
		tm := time.NewTimer(5 * time.Millisecond)
		<-tm.C
	}
}

func counterOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestSweepHealsDroppedDeliveries: GitHub never retries a delivery that did
// not arrive. With every delivery dropped, a PR opened, approved by the
// wrong person and then by the right one is judged right by the sweep alone,
// and the sweep leaves a PR whose check is current alone.
func TestSweepHealsDroppedDeliveries(t *testing.T) {
	e := newEnv(t, envOptions{})
	// The installation's own listing (installation, then repository) is done.
	e.eventually("the installation's fan-out is done", func() bool {
		return counterOf(t, e.srv.Registry(), "countersign_fanouts_total") >= 2
	})
	e.idle()
	e.sim.DropDeliveries(1)
	n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"})
	e.idle()
	if cr := e.sim.LatestCheckRun(repo, head, "countersign"); cr != nil {
		t.Fatalf("a check run without any delivery: %+v", cr)
	}

	sweepNow(t, e.srv)
	e.idle()
	e.check(head, "action_required")

	e.sim.SubmitReview(repo, n, "carol", "APPROVE", "") // read access: does not count
	e.idle()
	writes := len(e.writes(head))
	sweepNow(t, e.srv)
	e.idle()
	if cr := e.check(head, "action_required"); !cr.GetCompletedAt().Time.After(e.sim.PR(repo, n).GetUpdatedAt().Time) && len(e.writes(head)) == writes {
		t.Errorf("the sweep did not re-evaluate after carol's review")
	}
	e.neverPassed(head)

	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.idle()
	sweepNow(t, e.srv)
	e.check(head, "success")
	e.idle()
	e.runsJustified(head)

	// A verdict written in the same second as the change it judged is judged
	// once more (GitHub's timestamps have whole seconds), then left alone.
	updated := e.sim.PR(repo, n).GetUpdatedAt().Time
	e.eventually("the clock is past the last change's second", func() bool {
		return time.Now().Truncate(time.Second).After(updated)
	})
	sweepNow(t, e.srv)
	e.idle()

	// Nothing changed: the sweep evaluates nothing and writes nothing.
	writes = len(e.writes(head))
	e.sim.ResetCalls()
	sweepNow(t, e.srv)
	e.idle()
	if got := len(e.writes(head)); got != writes {
		t.Errorf("a sweep of a current check wrote %d times", got-writes)
	}
	for _, c := range e.sim.Calls() {
		if c.Route == "/repos/{owner}/{repo}/pulls/{pull_number}/reviews" {
			t.Errorf("a sweep of a current check re-evaluated it: %s %s", c.Method, c.Path)
		}
	}
}

// TestRedeliveryOnStartHealsFailedDeliveries: deliveries that failed while
// the server was unreachable are redelivered when it starts, once, and the
// check converges; a delivery that later succeeded is not redelivered.
func TestRedeliveryOnStartHealsFailedDeliveries(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"c\" {}\n"})
	e.check(head, "action_required")
	e.idle()

	e.sim.DropDeliveries(1)
	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	e.idle()
	e.sim.DropDeliveries(0)
	if cr := e.sim.LatestCheckRun(repo, head, "countersign"); cr.GetConclusion() != "action_required" {
		t.Fatalf("the dropped approval changed the check: %s", cr.GetConclusion())
	}

	redelivered, err := e.srv.RedeliverFailed(e.ctx(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if redelivered == 0 {
		t.Fatal("nothing redelivered")
	}
	e.check(head, "success")
	e.idle()
	e.runsJustified(head)
	for _, d := range e.sim.Deliveries() {
		if d.Redelivery && d.Status != http.StatusAccepted && d.Status != http.StatusOK {
			t.Errorf("redelivery of %s.%s answered %d", d.Event, d.Action, d.Status)
		}
	}

	// Every failed delivery has since succeeded: nothing more to redeliver.
	again, err := e.srv.RedeliverFailed(e.ctx(), time.Hour)
	if err != nil || again != 0 {
		t.Errorf("second redelivery: %d redelivered, %v; want 0", again, err)
	}
}

// TestRestartMidEvaluationHeals: the server stops while an evaluation is
// in flight (the check run is in_progress); a new process on the same
// GitHub finishes it on its start-up sweep, on the same check run, and a
// redelivery of the opening event after the restart does not create a
// second check run on the head.
func TestRestartMidEvaluationHeals(t *testing.T) {
	e := newEnv(t, envOptions{})
	slow := e.sim.Inject(githubsim.Fault{Method: "GET", Route: "/repos/{owner}/{repo}/compare/{basehead}", Latency: 5 * time.Second})
	_, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"d\" {}\n"})
	e.eventually("the check run is in progress", func() bool {
		cr := e.sim.LatestCheckRun(repo, head, "countersign")
		return cr != nil && cr.GetStatus() == "in_progress"
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	e.srv.Shutdown(ctx) // cuts the evaluation short
	cancel()
	slow()
	if cr := e.sim.LatestCheckRun(repo, head, "countersign"); cr.GetStatus() == "completed" {
		t.Fatalf("the stopped evaluation completed the check: %s", cr.GetConclusion())
	}

	nd := e.restart()
	if _, err := nd.srv.RedeliverFailed(e.ctx(), time.Hour); err != nil {
		t.Fatal(err)
	}
	sweepNow(t, nd.srv)
	e.check(head, "action_required")
	nd.idle()
	e.oneRun(head)

	// The opening event again, after the restart (as an operator's manual
	// redelivery): its snapshot predates this process, so the head is looked
	// up, not given a second run.
	for _, d := range e.sim.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			e.sim.Redeliver(d.ID)
		}
	}
	nd.idle()
	e.oneRun(head)
	e.check(head, "action_required")
	e.neverPassed(head)
}

// TestPolicyChangeOnDefaultBranchReevaluates: a policy pushed to the default
// branch re-evaluates the open pull requests it governs.
func TestPolicyChangeOnDefaultBranchReevaluates(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"e\" {}\n"})
	e.check(head, "action_required")
	e.idle()
	e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Loosen the policy",
		Files: map[string]string{".github/countersign.yml": "protected_paths:\n  presets: []\nreview:\n  agent:\n    approvals: 0\n"}})
	e.check(head, "success")
	e.idle()
	e.runsJustified(head)
}

// TestSweepReadsTheRunMarker: every countersign check run carries its
// marker in external_id; the sweep decides staleness from it, not from the
// title, and a run without a readable marker (an older version's, another
// writer's) is evaluated again (fail closed).
func TestSweepReadsTheRunMarker(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"m\" {}\n"})
	cr := e.check(head, "action_required")
	e.idle()
	for _, r := range e.sim.CheckRuns(repo, head) {
		if r.GetName() != "countersign" {
			continue
		}
		if m, ok := checks.ParseMarker(r.GetExternalID()); !ok || (r.GetStatus() == "completed") != (m.State == checks.MarkJudged) {
			t.Errorf("check run %d (%s) has external_id %q", r.GetID(), r.GetStatus(), r.GetExternalID())
		}
	}
	e.eventually("the clock is past the verdict's second", func() bool {
		return time.Now().Truncate(time.Second).After(cr.GetCompletedAt().Time)
	})
	sweepNow(t, e.srv)
	e.idle()
	writes := len(e.writes(head))

	e.sim.SetCheckRunExternalID(repo, e.sim.LatestCheckRun(repo, head, "countersign").GetID(), "")
	sweepNow(t, e.srv)
	e.idle()
	if got := len(e.writes(head)); got == writes {
		t.Fatalf("the sweep left a check run without a marker alone")
	}
	latest := e.check(head, "action_required")
	if m, ok := checks.ParseMarker(latest.GetExternalID()); !ok || m.State != checks.MarkJudged {
		t.Errorf("after the sweep the run's external_id is %q", latest.GetExternalID())
	}
}
