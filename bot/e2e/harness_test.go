// Package e2e_test runs the whole product over HTTP: the GitHub simulator on
// loopback, the webhook intake server, and the evaluator, with the
// simulator's webhooks pointed at the server.
package e2e_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
	"github.com/google/go-github/v62/github"
)

const (
	secret = "e2e-webhook-secret"
	repo   = "acme/infra"
	// policy protects Terraform files, approvable only by acme/infra members.
	policy = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/infra]
`
	agentTrailer = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
)

// clock is a settable clock for the app's rate-limit decisions.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.skew) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	sim   *githubsim.Sim
	app   *app.App
	srv   *server.Server
	hook  string
	clock *clock
	inst  int64
}

type envOptions struct {
	policy   string            // "" means the default policy file above; "-" means none
	files    map[string]string // extra files of the initial commit
	landing  bool              // record pushes to protected branches and answer the deploy gate (bot/landing)
	attempts int               // the server's attempts per piece of work before it gives up; 0 means 200
}

var (
	alice = githubsim.Identity{Name: "Alice", Email: "alice@acme.test", Login: "alice"} // delegates to the agent
	dave  = githubsim.Identity{Name: "Dave", Email: "dave@acme.test", Login: "dave"}    // a human developer
)

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret})
	t.Cleanup(sim.Close)
	base := sim.Start()

	var logs io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logs = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{}
	a, err := app.New(app.Options{
		Settings: server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
		Logger:   log,
		GitHub: ghapp.Options{MaxAttempts: 3, RetryBaseDelay: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond,
			MaxRateLimitWait: 2 * time.Second, Now: clk.Now},
		Server:         server.Options{Retry: server.RetryPolicy{Attempts: cmp.Or(o.attempts, 200), Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
		WithoutLanding: !o.landing,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := a.Server
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	srv.SetReady(true)
	sim.SetWebhook(hs.URL+"/webhook", secret)

	sim.AddOrg("acme")
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
		sim.AddUser(u)
	}
	sim.AddBot("claude[bot]", 209825114)
	sim.AddBot("helper[bot]", 777001)
	sim.AddTeam("acme", "infra", "bob", "carol")
	files := map[string]string{
		"README.md":     "# infra\n",
		"infra/main.tf": "resource \"null_resource\" \"a\" {}\n",
		"docs/guide.md": "Guide\n",
	}
	switch o.policy {
	case "":
		files[".github/countersign.yml"] = policy
	case "-":
	default:
		files[".github/countersign.yml"] = o.policy
	}
	for k, v := range o.files {
		files[k] = v
	}
	sim.AddRepo(repo, files)
	sim.SetPermission(repo, "alice", "write")
	sim.SetPermission(repo, "bob", "write")
	sim.SetPermission(repo, "carol", "read")
	sim.SetPermission(repo, "dave", "write")
	sim.SetPermission(repo, "erin", "write")
	e := &env{t: t, sim: sim, app: a, srv: srv, hook: hs.URL + "/webhook", clock: clk}
	e.inst = sim.Install("acme", repo)
	e.idle()
	return e
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// gauge reads one of the server's gauges.
func (e *env) gauge(name string) float64 {
	mfs, err := e.srv.Registry().Gather()
	if err != nil {
		e.t.Fatal(err)
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

// idle waits until the app has settled (app.Settle): every webhook
// delivered, nothing queued, running or waiting to retry.
func (e *env) idle() {
	e.t.Helper()
	settle(e.t, e.ctx(), e.sim, e.app.Idle)
}

// settle fails the test when the app does not settle before ctx is done.
func settle(t *testing.T, ctx context.Context, sim *githubsim.Sim, idle func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := app.Settle(ctx, sim, idle); err != nil {
		t.Fatalf("timed out waiting until the server is idle: %v", err)
	}
}

// eventually polls cond until it holds, failing the test after a deadline.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting until %s", what)
		}
		tm := time.NewTimer(10 * time.Millisecond)
		<-tm.C
	}
}

// check waits until the head's countersign check run is completed with the
// given conclusion and returns it.
func (e *env) check(sha, conclusion string) *github.CheckRun {
	e.t.Helper()
	var cr *github.CheckRun
	e.eventually(fmt.Sprintf("the check on %.7s is %s", sha, conclusion), func() bool {
		cr = e.sim.LatestCheckRun(repo, sha, "countersign")
		return cr != nil && cr.GetStatus() == "completed" && cr.GetConclusion() == conclusion
	})
	return cr
}

// settled waits for the server to finish and returns the head's check run.
func (e *env) settled(sha string) *github.CheckRun {
	e.t.Helper()
	e.idle()
	cr := e.sim.LatestCheckRun(repo, sha, "countersign")
	if cr == nil {
		e.t.Fatalf("no check run on %.7s", sha)
	}
	return cr
}

// writes returns the check-run writes on a head.
func (e *env) writes(sha string) []githubsim.CheckRunWrite {
	var out []githubsim.CheckRunWrite
	for _, w := range e.sim.CheckRunWrites() {
		if w.HeadSHA == sha && w.Name == "countersign" {
			out = append(out, w)
		}
	}
	return out
}

// agentPR pushes an agent-written commit (Alice delegating to Claude Code)
// and opens a PR for it as claude[bot].
func (e *env) agentPR(branch string, files map[string]string) (int, string) {
	sha := e.sim.Push(repo, branch, githubsim.CommitSpec{Author: alice, Message: "Change " + branch + agentTrailer, Files: files})
	n := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: branch, Base: "main", Title: "Change " + branch,
		Body: "🤖 Generated with [Claude Code](https://claude.com/claude-code)"})
	return n, sha
}

// post sends a webhook delivery straight to the server.
func (e *env) post(event, guid string, body []byte, sig string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", guid)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
