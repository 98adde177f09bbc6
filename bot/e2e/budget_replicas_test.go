package e2e_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/google/go-github/v62/github"
)

// TestReplicasSweepsShareOneBudget: GitHub keeps one rate limit per
// installation, whichever replica calls. One replica's work has spent an
// installation's budget below the sweeps' floor; another replica, which
// last saw the budget whole, sweeps next: it reads the shared rate-limit
// state (in Redis), leaves the installation alone and spends nothing, so
// the replicas' sweeps together stay within the installation's budget.
// With only its own view it swept the stale pull requests into the reserve.
func TestReplicasSweepsShareOneBudget(t *testing.T) {
	const limit, floor = 200, 0.5
	url := fencetest.StartRedis(t)
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret, InstallationRateLimit: limit})
	t.Cleanup(sim.Close)
	base := sim.Start()
	c := &cluster{t: t, sim: sim}
	c.setupRepo()
	for _, b := range []string{"claude/s1", "claude/s2", "claude/s3", "claude/s4"} {
		c.agentPR(b) // no webhook: each is stale, a sweep would evaluate it
	}
	ctx := context.Background()
	dial := func() *fence.Redis { return dialShared(t, url) }

	// Replica A: its GitHub client, which spends the installation's budget.
	a, err := ghapp.New(ghapp.Options{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), BaseURL: base,
		RateLimits: state.NewRedisStores(dial().Client()).RateLimits})
	if err != nil {
		t.Fatal(err)
	}
	// Replica B: a whole app, whose workers run the sweep.
	logs := &lockedBuf{}
	b, err := app.New(app.Options{
		Settings: server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)), Shared: dial(), WithoutLanding: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })

	remaining := func(gh *ghapp.App, page int) int {
		t.Helper()
		cl, err := gh.Client(c.inst)
		if err != nil {
			t.Fatal(err)
		}
		// A page of its own is a fresh (charged) request, never a 304.
		if _, _, err := cl.Issues.ListByRepo(ctx, "acme", "infra", &github.IssueListByRepoOptions{ListOptions: github.ListOptions{Page: page}}); err != nil {
			t.Fatal(err)
		}
		rl, ok := gh.RateLimit(c.inst)
		if !ok {
			t.Fatal("no rate limit known after a call")
		}
		return rl.Remaining
	}
	if r := remaining(b.GitHub, 1); r < limit*floor {
		t.Fatalf("B starts with %d of %d remaining", r, limit)
	}
	page := 2
	for remaining(a, page) >= limit*floor {
		page++
	}

	mark := len(sim.Calls())
	if err := b.Server.Sweep(ctx, server.SweepOptions{RateFloor: floor}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "sweep: installation skipped, its rate limit is low") {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // what a sweep queued would be running by now
	charged := 0
	for _, cl := range sim.Calls()[mark:] {
		if cl.Installation == c.inst && cl.Status != 304 {
			charged++
		}
	}
	left := remaining(a, page+1) + 1
	t.Logf("B's sweep made %d charged calls; %d of %d left", charged, left, limit)
	if charged > 0 {
		t.Errorf("B swept an installation that A had spent below the floor (%v of %d): %d charged calls, %d left", floor, limit, charged, left)
	}
}
