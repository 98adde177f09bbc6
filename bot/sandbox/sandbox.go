// Package sandbox runs Countersign against the embedded GitHub simulator in
// one process, seeded with an organization, teams, users, agent bots, a
// repository of infrastructure code and four pull requests, and serves a
// web page (server-rendered forms, no JavaScript) to act as any simulated
// user and watch the countersign check change.
//
// Every action goes the way it goes on GitHub: the simulator changes its
// state and sends a signed webhook, the bot's server verifies and queues it,
// the evaluator reads the pull request through the REST API and writes the
// check run back.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/details"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// DefaultListen is where the sandbox listens unless told otherwise: this
// machine only, since anyone who reaches it can act as any simulated user.
const DefaultListen = "127.0.0.1:8080"

// Options configures a sandbox.
type Options struct {
	// Listen is the address to serve on; DefaultListen when empty.
	Listen string
	// MetricsListen, when set, is the address /healthz, /readyz and
	// /metrics are served on; empty serves none of them.
	MetricsListen string
	// Logger receives the bot's and the sandbox's logs; nil discards them.
	Logger *slog.Logger
}

// Sandbox is the simulator and the bot, wired as on GitHub.
type Sandbox struct {
	// Sim is the seeded GitHub simulator.
	Sim *githubsim.Sim
	// Server is the bot's webhook intake; its listener also serves the sandbox pages.
	Server *server.Server
	// Store holds the verdicts the details pages show.
	Store details.Verdicts
	// Signer makes the details pages' tokens.
	Signer *details.Signer

	app     *app.App
	log     *slog.Logger
	url     string
	metrics string // the metrics listener's address, or ""
	secret  string
	cancel  context.CancelFunc
	done    chan error
	actions *actionLog

	installation int64 // the app's installation on acme

	mu  sync.Mutex
	prs []prRef // pull requests opened through the sandbox, in order
}

type prRef struct {
	repo   string
	number int
}

// Start listens, starts the simulator and the bot, seeds the simulator
// (waiting until the bot has judged every seeded pull request) and serves
// until Close.
func Start(ctx context.Context, o Options) (*Sandbox, error) {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listening on %s: %w", o.Listen, err)
	}
	base := "http://" + reachable(ln.Addr().String()) + "/"
	var ops net.Listener
	if o.MetricsListen != "" {
		if ops, err = net.Listen("tcp", o.MetricsListen); err != nil {
			ln.Close()
			return nil, fmt.Errorf("sandbox: listening for the probes and metrics on %s: %w", o.MetricsListen, err)
		}
	}

	secret := randomHex(32)
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret, AppSlug: "countersign"})
	apiBase := sim.Start()

	sb := &Sandbox{
		Sim: sim, log: log, url: base, secret: secret, done: make(chan error, 1), actions: &actionLog{},
	}
	a, err := app.New(app.Options{
		Settings: server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: apiBase,
			WebhookSecret: []byte(secret), PublicURL: base},
		Logger: log,
		GitHub: ghapp.Options{RetryBaseDelay: 50 * time.Millisecond, MaxRetryDelay: time.Second},
		Server: server.Options{Retry: server.RetryPolicy{Attempts: 5, Initial: 200 * time.Millisecond, Max: 2 * time.Second}},
		// The sandbox's own pull-request pages stand in for GitHub's.
		DetailsPRURL: func(owner, repo string, number int) string { return sb.prPage(owner+"/"+repo, number) },
	})
	if err != nil {
		ln.Close()
		if ops != nil {
			ops.Close()
		}
		sim.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	sb.app, sb.Server, sb.Store, sb.Signer = a, a.Server, a.Details, a.Signer
	srv := a.Server
	sb.routes()
	sb.apiRoutes()

	sctx, cancel := context.WithCancel(context.Background())
	sb.cancel = cancel
	if ops != nil {
		sb.metrics = ops.Addr().String()
	}
	go func() { sb.done <- srv.Serve(sctx, ln, ops, 10*time.Second) }()

	// As with a real app: the state exists first, then the webhook is set.
	sim.SetWebhook(base+"webhook", secret)
	if err := sb.seed(ctx); err != nil {
		sb.Close()
		return nil, err
	}
	return sb, nil
}

// URL is the sandbox's address, ending in "/".
func (sb *Sandbox) URL() string { return sb.url }

// MetricsAddr is the host:port of the probes and /metrics, or "" when
// Options.MetricsListen was not set.
func (sb *Sandbox) MetricsAddr() string { return sb.metrics }

// Close stops the bot (draining its queue) and the simulator.
func (sb *Sandbox) Close() error {
	sb.cancel()
	err := <-sb.done
	sb.Sim.Close()
	return err
}

// Settle waits until the simulator has delivered every webhook and the bot
// has nothing queued or running, or ctx is done.
func (sb *Sandbox) Settle(ctx context.Context) error {
	return app.Settle(ctx, sb.Sim, sb.app.Idle)
}

func (sb *Sandbox) addPR(repo string, number int) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.prs = append(sb.prs, prRef{repo: repo, number: number})
}

func (sb *Sandbox) pullRequests() []prRef {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return append([]prRef(nil), sb.prs...)
}

func (sb *Sandbox) hasPR(repo string, number int) bool {
	for _, p := range sb.pullRequests() {
		if strings.EqualFold(p.repo, repo) && p.number == number {
			return true
		}
	}
	return false
}

// reachable turns a listener address into one a browser can open.
func reachable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("sandbox: no randomness: " + err.Error()))
	}
	return hex.EncodeToString(b)
}
