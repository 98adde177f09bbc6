package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// recorder is a Backend that records evaluations and lists nothing.
type recorder struct {
	mu   sync.Mutex
	jobs []server.Job
}

func (r *recorder) Evaluate(ctx context.Context, job server.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, job)
	return nil
}

func (r *recorder) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	return []server.Job{{Installation: installation, Owner: owner, Repo: repo, Number: 1}}, nil
}

func (r *recorder) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	return []string{"acme/widgets"}, nil
}

func (r *recorder) reasons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, j := range r.jobs {
		out = append(out, j.Reason)
	}
	return out
}

// TestSimulatorDeliveries holds the intake to the webhook shapes the GitHub
// simulator sends: its signed deliveries are accepted and become jobs.
func TestSimulatorDeliveries(t *testing.T) {
	const secret = "sim-webhook-secret"
	rec := &recorder{}
	srv, err := server.New(server.Options{Backend: rec, WebhookSecret: []byte(secret),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	srv.SetReady(true)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	sim := githubsim.New(githubsim.Options{WebhookURL: hs.URL + "/webhook", WebhookSecret: secret})
	sim.Start()
	t.Cleanup(sim.Close)
	sim.AddOrg("acme")
	sim.AddUser("alice")
	sim.AddUser("bob")
	sim.AddRepo("acme/widgets", map[string]string{"README.md": "hi\n"})
	sim.AddRepo("acme/gadgets", map[string]string{"README.md": "hi\n"})
	sim.SetPermission("acme/widgets", "bob", "write")
	inst := sim.Install("acme", "acme/widgets")
	sim.Push("acme/widgets", "feature", githubsim.CommitSpec{
		Author:  githubsim.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice"},
		Message: "change", Files: map[string]string{"a.go": "package a\n"},
	})
	n := sim.OpenPR("acme/widgets", githubsim.PRSpec{Author: "alice", Head: "feature", Base: "main", Title: "t"})
	sim.SubmitReview("acme/widgets", n, "bob", "APPROVE", "lgtm")
	sim.Push("acme/widgets", "main", githubsim.CommitSpec{
		Author:  githubsim.Identity{Name: "Bob", Email: "bob@example.com", Login: "bob"},
		Message: "policy", Files: map[string]string{".github/countersign.yml": "version: 1\n"},
	})
	sim.AddInstallationRepos(inst, "acme/gadgets")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := sim.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range sim.Deliveries() {
		if d.Status != http.StatusOK && d.Status != http.StatusAccepted {
			t.Errorf("%s.%s (%s) answered %d", d.Event, d.Action, d.GUID, d.Status)
		}
	}
	want := []string{"installation.created", "pull_request.opened", "pull_request_review.submitted", "push", "installation_repositories.added"}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := rec.reasons()
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no evaluation for %v; evaluated for %v", missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A redelivery keeps its GUID and is acknowledged without a second evaluation.
	var review githubsim.Delivery
	for _, d := range sim.Deliveries() {
		if d.Event == "pull_request_review" {
			review = d
		}
	}
	sim.Redeliver(review.ID)
	if err := sim.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	ds := sim.Deliveries()
	if last := ds[len(ds)-1]; !last.Redelivery || last.Status != http.StatusOK {
		t.Fatalf("redelivery answered %d (redelivery=%v), want 200", last.Status, last.Redelivery)
	}
}
