// Package app assembles Countersign's GitHub App from its settings: the
// GitHub App client (bot/ghapp), the evaluator that gathers facts and
// publishes check runs (bot/evaluator), the landing record (bot/landing),
// the webhook intake and its work queue (bot/server) and the details pages
// (bot/details). `countersign
// serve`, the sandbox, the load test and the test harnesses all build it
// here, against GitHub or the simulator alike, so that what they run is
// the product.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/countersign/countersign/bot/details"
	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/landing"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures New.
type Options struct {
	// Settings are `countersign serve`'s settings: the app's id and private
	// key, the webhook secret, GitHub's REST URL, the public URL (which
	// turns the details links on), the workers, queue size and drain timeout.
	Settings server.Settings
	// Logger receives every component's logs; nil means slog.Default().
	Logger *slog.Logger
	// Registry receives every component's metrics; nil means a new one.
	Registry *prometheus.Registry
	// GitHub tunes the GitHub App client (transport, retries, clock, cache);
	// its id, key, URL, logger and registerer come from the fields above.
	GitHub ghapp.Options
	// Server tunes the webhook intake (retry policy, timeouts, clock); its
	// backend, secret, logger, registry, workers, queue size, drain timeout
	// and Redis come from the other fields.
	Server server.Options
	// Shared is the Redis that replicas behind one load balancer share (the
	// work queue, delivery ids, per-pull-request lock and the order of the
	// check-run writes); nil means one replica.
	Shared *fence.Redis
	// Fence orders the check-run writes of several replicas; nil means
	// Shared's, or none for one replica.
	Fence evaluator.Fence
	// Stores keeps the mutable records; a nil field means in Redis with
	// Shared, else in this process's memory.
	Stores state.Stores
	// DetailsPRURL returns a pull request's web page for the details page;
	// nil means the page under GitHub's web URL (from Settings.GitHubURL).
	DetailsPRURL func(owner, repo string, number int) string
	// WithoutLanding leaves out the landing record (the countersign/landing
	// check on pushes to protected branches, bot/landing); tests that count
	// API calls per pull-request event set it.
	WithoutLanding bool
	// WrapBackend, when set, wraps the evaluator before the server uses it
	// (the load test counts evaluations through it). It must delegate.
	WrapBackend func(*evaluator.Evaluator) server.Backend
}

// App is one running Countersign process.
type App struct {
	// GitHub is the authenticated GitHub App client.
	GitHub *ghapp.App
	// Evaluator gathers the facts, runs the engine and publishes the check runs.
	Evaluator *evaluator.Evaluator
	// Landing records pushes to protected branches; nil WithoutLanding.
	Landing *landing.Recorder
	// Server is the webhook intake and its work queue; it is the http.Handler
	// to serve, with the details pages under details.Pattern.
	Server *server.Server
	// Details holds the verdicts the details pages show (in Redis when
	// Shared is set); Signer makes their tokens.
	Details details.Verdicts
	Signer  *details.Signer
	// Registry holds every component's metrics.
	Registry *prometheus.Registry
}

// New builds the app from o. The server is not ready (SetReady) and listens
// nowhere until the caller serves it.
func New(o Options) (*App, error) {
	set := o.Settings
	if len(set.WebhookSecret) == 0 {
		return nil, errors.New("app: no webhook secret")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	gh := o.GitHub
	gh.AppID, gh.PrivateKeyPEM, gh.BaseURL = set.AppID, set.PrivateKeyPEM, set.GitHubURL
	gh.Registerer, gh.Logger = reg, log
	if gh.RateLimits == nil {
		gh.RateLimits = o.Stores.RateLimits
	}
	if gh.RateLimits == nil && o.Shared != nil {
		// Every replica spends against the one budget of an installation.
		gh.RateLimits = state.NewRedisStores(o.Shared.Client()).RateLimits
	}
	client, err := ghapp.New(gh)
	if err != nil {
		return nil, fmt.Errorf("app: the GitHub App client: %w", err)
	}
	a := &App{
		GitHub:   client,
		Details:  details.NewStore(0),
		Signer:   details.NewSigner(set.WebhookSecret),
		Registry: reg,
	}
	f, stores := o.Fence, o.Stores
	var headLocker server.Locker
	if o.Shared != nil {
		// Every replica must see the same records, verdicts and order.
		if f == nil {
			f = o.Shared
		}
		redis := state.NewRedisStores(o.Shared.Client())
		if stores.CheckRuns == nil {
			stores.CheckRuns = redis.CheckRuns
		}
		if stores.HeadMoves == nil {
			stores.HeadMoves = redis.HeadMoves
		}
		if stores.EditedComments == nil {
			stores.EditedComments = redis.EditedComments
		}
		if stores.Reliances == nil {
			// Another replica may run the fan-out of a change of standing.
			stores.Reliances = redis.Reliances
		}
		headLocker = o.Shared
		a.Details = details.NewRedisStore(o.Shared.Client())
	}
	a.Evaluator = evaluator.New(evaluator.Options{
		App:          client,
		PublicURL:    set.PublicURL,
		Logger:       log,
		Registerer:   reg,
		DetailsURL:   set.PublicURL != "",
		DetailsToken: a.Signer.Token,
		OnPublish:    a.Details.Put,
		Fence:        f,
		Stores:       stores,
		HeadLocker:   headLocker,
	})
	so := o.Server
	so.Backend = a.Evaluator
	if o.WrapBackend != nil {
		so.Backend = o.WrapBackend(a.Evaluator)
	}
	if !o.WithoutLanding {
		a.Landing = landing.New(landing.Options{App: client, Logger: log, Registerer: reg})
		so.Landing = a.Landing
	}
	so.WebhookSecret, so.Logger, so.Registry = set.WebhookSecret, log, reg
	if set.Workers != 0 {
		so.Workers = set.Workers
	}
	if set.QueueSize != 0 {
		so.QueueSize = set.QueueSize
	}
	if set.DrainTimeout != 0 {
		so.DrainTimeout = set.DrainTimeout
	}
	if o.Shared != nil {
		so.Redis, so.Locker = o.Shared.Client(), o.Shared
	}
	a.Server, err = server.New(so)
	if err != nil {
		return nil, fmt.Errorf("app: the server: %w", err)
	}
	prURL := o.DetailsPRURL
	if prURL == nil {
		prURL = details.PRURLUnder(details.WebURL(set.GitHubURL))
	}
	a.Server.Handle(details.Pattern, details.Handler(details.Options{
		Signer: a.Signer, Store: a.Details, Logger: log, PRURL: prURL,
	}))
	return a, nil
}

// Idle reports whether the app has nothing queued, waiting to retry or
// running (server.IdleIn is the definition).
func (a *App) Idle() bool { return a.Server.Idle() }

// Shutdown stops taking work and drains the queue until ctx is done.
func (a *App) Shutdown(ctx context.Context) error { return a.Server.Shutdown(ctx) }
