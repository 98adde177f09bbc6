package e2e_test

import (
	"context"
	"fmt"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// gate holds the first request whose path contains match until opened.
type gate struct {
	base    http.RoundTripper
	match   string
	once    sync.Once
	reached chan struct{}
	open    chan struct{}
}

func newGate(match string) *gate {
	return &gate{base: http.DefaultTransport, match: match, reached: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, g.match) {
		held := false
		g.once.Do(func() { held = true })
		if held {
			close(g.reached)
			<-g.open
		}
	}
	return g.base.RoundTrip(r)
}

// replica is one Countersign process's evaluator, with its own app client
// and caches, publishing through f (nil: unfenced).
func replica(t *testing.T, sim *githubsim.Sim, base string, rt http.RoundTripper, f evaluator.Fence) *evaluator.Evaluator {
	t.Helper()
	a, err := app.New(app.Options{
		Settings:       server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		GitHub:         ghapp.Options{Transport: rt},
		Fence:          f,
		WithoutLanding: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a.Evaluator
}

// TestReplicasNeverPublishAnOlderVerdict: two replicas evaluate the same
// pull request. Replica A reads bob's approval, then stalls; the approval is
// dismissed and replica B publishes "approval required"; then A finishes.
// Unfenced, A's older pass lands last and the check passes a pull request
// that needs an approval. With the Redis fence, A's verdict is recognised
// as older than the published one and is not written.
func TestReplicasNeverPublishAnOlderVerdict(t *testing.T) {
	url := fencetest.StartRedis(t)
	for _, fenced := range []bool{false, true} {
		t.Run(fmt.Sprintf("fenced=%v", fenced), func(t *testing.T) {
			sim := githubsim.New(githubsim.Options{WebhookSecret: secret})
			t.Cleanup(sim.Close)
			base := sim.Start()
			sim.AddOrg("acme")
			for _, u := range []string{"alice", "bob", "carol"} {
				sim.AddUser(u)
			}
			sim.AddBot("claude[bot]", 209825114)
			sim.AddTeam("acme", "infra", "bob", "carol")
			sim.AddRepo(repo, map[string]string{"README.md": "# infra\n", "infra/main.tf": "x\n", ".github/countersign.yml": policy})
			sim.SetPermission(repo, "alice", "write")
			sim.SetPermission(repo, "bob", "write")
			inst := sim.Install("acme", repo)
			head := sim.Push(repo, "claude/tf", githubsim.CommitSpec{Author: alice, Message: "Resize" + agentTrailer,
				Files: map[string]string{"infra/main.tf": "y\n"}})
			n := sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "claude/tf", Base: "main", Title: "Resize"})

			var fa, fb evaluator.Fence
			if fenced {
				ctx := context.Background()
				a, err := fence.Dial(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				b, err := fence.Dial(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close(); b.Close() })
				fa, fb = a, b
			}
			g := newGate("/collaborators/bob/permission")
			replicaA := replica(t, sim, base, g, fa)
			replicaB := replica(t, sim, base, http.DefaultTransport, fb)
			job := server.Job{Installation: inst, Owner: "acme", Repo: "infra", Number: n, HeadSHA: head, Reason: "pull_request_review.submitted"}
			// The head already shows "approval required" before the race: a
			// completed run's conclusion is final on GitHub, so the race is
			// over which verdict the next run shows.
			if err := replicaB.Evaluate(context.Background(), job); err != nil {
				t.Fatal(err)
			}
			review := sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			errA := make(chan error, 1)
			go func() { errA <- replicaA.Evaluate(ctx, job) }()
			select {
			case <-g.reached: // A has read bob's approval and looks him up
			case err := <-errA:
				t.Fatalf("replica A finished before reading bob's standing: %v", err)
			case <-ctx.Done():
				t.Fatal("replica A never looked bob up")
			}
			sim.DismissReview(repo, n, review, "alice")
			job.Reason = "pull_request_review.dismissed"
			if err := replicaB.Evaluate(ctx, job); err != nil {
				t.Fatal(err)
			}
			if cr := sim.LatestCheckRun(repo, head, "countersign"); cr.GetConclusion() != "action_required" {
				t.Fatalf("replica B published %s, want action_required", cr.GetConclusion())
			}
			close(g.open)
			if err := <-errA; err != nil {
				t.Fatal(err)
			}
			got := sim.LatestCheckRun(repo, head, "countersign").GetConclusion()
			if !fenced {
				// The hazard the fence exists for: without it the older pass lands last.
				if got != "success" {
					t.Fatalf("unfenced, the check says %s; the scenario no longer reproduces the stale pass it guards against", got)
				}
				return
			}
			if got != "action_required" {
				t.Errorf("fenced, the check says %s after the older evaluation finished, want action_required", got)
			}
			for _, w := range sim.CheckRunWrites() {
				if w.HeadSHA == head && w.Conclusion == "success" {
					t.Errorf("fenced, a pass was written: %+v", w)
				}
			}
		})
	}
}
