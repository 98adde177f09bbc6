package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// writeGate holds the first request whose body contains match until
// opened, then sends it whatever became of its context: a write GitHub
// received and applies late (a GC pause, a slow GitHub).
type writeGate struct {
	base    http.RoundTripper
	match   []byte
	once    sync.Once
	reached chan struct{}
	open    chan struct{}
}

func (g *writeGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, g.match) {
			held := false
			g.once.Do(func() { held = true })
			if held {
				close(g.reached)
				<-g.open
				r = r.Clone(context.WithoutCancel(r.Context()))
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
		}
	}
	return g.base.RoundTrip(r)
}

// TestStaleWriteAfterLapsedLeaseIsReevaluated: replica A judges a pull
// request with bob's approval and its write of the pass stalls past the
// fence's lease; the approval is dismissed and replica B, finding the lock
// lapsed, writes "approval required"; then A's pass lands, last. The fence
// cannot stop a write already sent, so A's evaluation must report that the
// pull request needs a new evaluation (server.ErrEvaluateAgain, which the
// queue turns into one), and that evaluation leaves the check blocking.
func TestStaleWriteAfterLapsedLeaseIsReevaluated(t *testing.T) {
	url := fencetest.StartRedis(t)
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

	ctx := context.Background()
	fences := make([]evaluator.Fence, 2)
	for i := range fences {
		d, err := fence.Dial(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		f, err := fence.New(fence.Options{Client: d.Client(), Lease: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		fences[i] = f
	}
	g := &writeGate{base: http.DefaultTransport, match: []byte(`"conclusion":"success"`), reached: make(chan struct{}), open: make(chan struct{})}
	replicaA := replica(t, sim, base, g, fences[0])
	replicaB := replica(t, sim, base, http.DefaultTransport, fences[1])
	job := server.Job{Installation: inst, Owner: "acme", Repo: "infra", Number: n, HeadSHA: head, Reason: "pull_request_review.submitted"}
	if err := replicaB.Evaluate(ctx, job); err != nil {
		t.Fatal(err)
	}
	review := sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")

	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errA := make(chan error, 1)
	go func() { errA <- replicaA.Evaluate(tctx, job) }()
	select {
	case <-g.reached: // A is writing its pass
	case err := <-errA:
		t.Fatalf("replica A finished without writing a pass: %v", err)
	case <-tctx.Done():
		t.Fatal("replica A never wrote its pass")
	}
	sim.DismissReview(repo, n, review, "alice")
	job.Reason = "pull_request_review.dismissed"
	if err := replicaB.Evaluate(tctx, job); err != nil { // waits out A's lease
		t.Fatal(err)
	}
	close(g.open)
	err := <-errA
	if got := sim.LatestCheckRun(repo, head, "countersign").GetConclusion(); got != "success" {
		t.Fatalf("the check says %s after A's late write; the scenario no longer reproduces the stale pass", got)
	}
	if !errors.Is(err, server.ErrEvaluateAgain) {
		t.Fatalf("replica A's pass landed after B's newer verdict and A returned %v, want server.ErrEvaluateAgain", err)
	}
	// What the queue runs on ErrEvaluateAgain: A's job again, as a new
	// evaluation (a new token, fresh facts), on any replica.
	job.Reason = "pull_request_review.submitted"
	if err := replicaA.Evaluate(tctx, job); err != nil {
		t.Fatal(err)
	}
	if got := sim.LatestCheckRun(repo, head, "countersign").GetConclusion(); got != "action_required" {
		t.Errorf("after the new evaluation the check says %s, want action_required", got)
	}
}
