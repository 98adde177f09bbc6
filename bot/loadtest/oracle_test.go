package loadtest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// simClock runs ahead of the wall clock by a settable skew.
type simClock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.skew) }
func (c *simClock) add(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

// The load test's oracle judges a pull request as the app does: after an
// approval by comment, and after that comment is edited (which voids it),
// both give the same conclusion and title.
func TestOracleAgreesWithTheAppOnEditedApprovals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := &simClock{}
	sim := githubsim.New(githubsim.Options{Now: clk.Now})
	t.Cleanup(sim.Close)
	base := sim.Start()
	sim.AddOrg("acme")
	for _, u := range []string{"alice", "bob"} {
		sim.AddUser(u)
	}
	sim.AddTeam("acme", "infra", "bob")
	const repo = "acme/infra"
	sim.AddRepo(repo, map[string]string{
		".github/countersign.yml": "commands:\n  approve: true\nprotected_paths:\n  presets: []\n  rules:\n    - name: terraform\n      presets: [terraform]\n      approvers:\n        teams: [acme/infra]\n",
		"infra/main.tf":           "resource \"null_resource\" \"a\" {}\n",
	})
	sim.SetPermission(repo, "alice", "write")
	sim.SetPermission(repo, "bob", "write")
	inst := sim.Install("acme", repo)
	sim.AddBot("claude[bot]", 209825114)
	sha := sim.Push(repo, "feature", githubsim.CommitSpec{
		Author:  githubsim.Identity{Name: "Alice", Email: "alice@acme.test", Login: "alice"},
		Message: "Change infra\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
		Files:   map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"},
	})
	n := sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "main", Title: "Change infra"})

	a, err := app.New(app.Options{
		Settings:       server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte("x")},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		GitHub:         ghapp.Options{CacheEntries: -1},
		WithoutLanding: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	ev := a.Evaluator
	client, err := a.GitHub.Client(inst)
	if err != nil {
		t.Fatal(err)
	}
	agree := func(step, conclusion string) {
		t.Helper()
		if err := ev.Evaluate(ctx, server.Job{Installation: inst, Owner: "acme", Repo: "infra", Number: n, Reason: "test"}); err != nil {
			t.Fatalf("%s: the app: %v", step, err)
		}
		cr := sim.LatestCheckRun(repo, sha, "countersign")
		w := oracle(ctx, client, &prState{repo: repo, owner: "acme", name: "infra", number: n}, nil)
		if w.err != "" {
			t.Fatalf("%s: the oracle: %s", step, w.err)
		}
		if cr.GetConclusion() != w.conclusion || cr.GetOutput().GetTitle() != w.title {
			t.Fatalf("%s: the app says %s %q, the oracle %s %q", step, cr.GetConclusion(), cr.GetOutput().GetTitle(), w.conclusion, w.title)
		}
		if w.conclusion != conclusion {
			t.Fatalf("%s: both say %s %q, want %s", step, w.conclusion, w.title, conclusion)
		}
	}
	agree("opened", "action_required")
	clk.add(time.Minute)
	id := sim.Comment(repo, n, "bob", "/countersign approve")
	agree("approved by comment", "success")
	clk.add(time.Minute)
	sim.EditComment(repo, id, "bob", "/countersign approve\n\n(edited)")
	agree("approval edited", "action_required")
}
