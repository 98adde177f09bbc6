//go:build conformance

package conformance

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// exampleEvents are the events whose real example payloads the bot must
// acknowledge: the ones it handles, and the ones it may be subscribed to.
var exampleEvents = []string{"pull_request", "pull_request_review", "check_run", "check_suite", "installation",
	"installation_repositories", "push", "issue_comment", "merge_group", "member", "membership", "organization", "team"}

// eventsWithoutExamples are handled events of which the pinned
// @octokit/webhooks-examples (7.6.1) has no example payload. Their shape is
// still checked: the simulator's deliveries of them are validated against the
// schemas in TestSimulatorConformance, and bot/e2e drives the bot with them.
var eventsWithoutExamples = []string{"deployment_protection_rule"}

// simBackend records the jobs the server queues and hands those of
// repositories the simulator knows to the real evaluator, with the
// simulator's installation id in place of the example's.
type simBackend struct {
	inner server.Backend
	inst  int64
	known map[string]bool // "owner/repo"

	mu   sync.Mutex
	jobs []server.Job
	errs []error
}

func (b *simBackend) Evaluate(ctx context.Context, job server.Job) error {
	b.mu.Lock()
	b.jobs = append(b.jobs, job)
	b.mu.Unlock()
	if !b.known[job.Owner+"/"+job.Repo] {
		return nil
	}
	job.Installation = b.inst
	err := b.inner.Evaluate(ctx, job)
	if err != nil {
		b.mu.Lock()
		b.errs = append(b.errs, fmt.Errorf("%s: %w", job.Key(), err))
		b.mu.Unlock()
	}
	return err
}

func (b *simBackend) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	if !b.known[owner+"/"+repo] {
		return nil, nil
	}
	return b.inner.OpenPullRequests(ctx, b.inst, owner, repo)
}

func (b *simBackend) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	return b.inner.InstallationRepos(ctx, b.inst)
}

func (b *simBackend) evaluated(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.ContainsFunc(b.jobs, func(j server.Job) bool { return j.Key() == key })
}

// TestBotAcceptsGitHubExamples posts every real example payload of the
// events the bot handles, signed, to the server's POST /webhook: each must
// be acknowledged, and the pull request the examples name (Hello-World #2,
// seeded in the simulator) must be evaluated and get its check run.
func TestBotAcceptsGitHubExamples(t *testing.T) {
	sp := loadSpec(t)
	for event := range server.HandledEvents() {
		if !slices.Contains(exampleEvents, event) && !slices.Contains(eventsWithoutExamples, event) {
			t.Errorf("the server handles %q, which this test sends no examples of; add it to exampleEvents", event)
		}
	}
	examples := loadExamples(t, exampleEvents...)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sim := githubsim.New(githubsim.Options{})
	base := sim.Start()
	t.Cleanup(sim.Close)
	// The repository and pull request GitHub's examples are about.
	const repo, number = "Codertocat/Hello-World", 2
	sim.AddUser("Codertocat")
	sim.AddRepo(repo, map[string]string{"README.md": "# Hello World\n"})
	inst := sim.Install("Codertocat", repo)
	author := githubsim.Identity{Name: "Codertocat", Email: "codertocat@example.com", Login: "Codertocat"}
	sim.Push(repo, "first", githubsim.CommitSpec{Author: author, Message: "first", Files: map[string]string{"a.txt": "a\n"}})
	sim.OpenPR(repo, githubsim.PRSpec{Author: "Codertocat", Head: "first", Base: "main", Title: "First"})
	head := sim.Push(repo, "changes", githubsim.CommitSpec{Author: author, Message: "Update the README with new information.", Files: map[string]string{"README.md": "# Hello World\n\nMore.\n"}})
	if n := sim.OpenPR(repo, githubsim.PRSpec{Author: "Codertocat", Head: "changes", Base: "main", Title: "Update the README with new information."}); n != number {
		t.Fatalf("seeded PR is #%d, want #%d", n, number)
	}

	const secret = "examples-secret"
	var backend *simBackend
	a, err := app.New(app.Options{
		Settings:       server.Settings{AppID: 1, PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
		Logger:         quiet,
		WithoutLanding: true,
		WrapBackend: func(ev *evaluator.Evaluator) server.Backend {
			backend = &simBackend{inner: ev, inst: inst, known: map[string]bool{repo: true}}
			return backend
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := a.Server
	srv.SetReady(true)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	statuses := map[int]int{}
	for i, ex := range examples {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(ex.Body)
		req, _ := http.NewRequest("POST", hs.URL+"/webhook", bytes.NewReader(ex.Body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "GitHub-Hookshot/conformance")
		req.Header.Set("X-GitHub-Event", ex.Event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("00000000-0000-0000-0000-%012d", i+1))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name(), err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if resp.StatusCode/100 != 2 {
			t.Errorf("%s: POST /webhook answered %d %q, want 2xx for a real GitHub payload", ex.Name(), resp.StatusCode, bytes.TrimSpace(msg))
		}
	}
	var codes []string
	for c, n := range statuses {
		codes = append(codes, fmt.Sprintf("%d×%d", c, n))
	}
	sort.Strings(codes)
	t.Logf("%d example payloads of %d events posted: %v", len(examples), len(exampleEvents), codes)

	// The examples name Hello-World #2: it is evaluated and gets a check run.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && (sim.LatestCheckRun(repo, head, "countersign") == nil || !backend.evaluated(fmt.Sprintf("%s#%d", repo, number))) {
		time.Sleep(20 * time.Millisecond)
	}
	if !backend.evaluated(fmt.Sprintf("%s#%d", repo, number)) {
		t.Errorf("no example made the server evaluate %s#%d", repo, number)
	}
	if sim.LatestCheckRun(repo, head, "countersign") == nil {
		backend.mu.Lock()
		t.Errorf("no countersign check run on %s#%d's head after evaluating it (evaluation errors: %v)", repo, number, backend.errs)
		backend.mu.Unlock()
	}

	// What the bot sent and was served on the way is held to GitHub's description too.
	calls := sim.Calls()
	t.Run("responses", func(t *testing.T) { validateCalls(t, sp, calls) })
	t.Run("requests", func(t *testing.T) { validateRequests(t, sp, calls) })
}
