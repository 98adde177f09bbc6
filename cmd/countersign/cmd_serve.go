package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/countersign/countersign/bot/details"
	"github.com/countersign/countersign/bot/evaluator"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/landing"
	"github.com/countersign/countersign/bot/sandbox"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/prometheus/client_golang/prometheus"
)

// runServe runs 'countersign serve': the GitHub App server. Settings come
// from flags and COUNTERSIGN_* environment variables (docs/configuration.md).
func runServe(ctx context.Context, args []string, s streams) int {
	return serve(ctx, args, os.Getenv, s, nil)
}

// serve is runServe with the environment and, for tests, a hook told the
// listening address once the server is ready.
func serve(ctx context.Context, args []string, getenv func(string) string, s streams, listening func(addr string)) int {
	if sandboxRequested(args) {
		return serveSandbox(ctx, args, getenv, s, listening)
	}
	set, err := server.LoadSettings(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		server.SettingsUsage(s.out)
		fmt.Fprintln(s.out)
		fmt.Fprintf(s.out, "  --%-20s %-33s %s\n", "sandbox", "", "run the bot against a simulated GitHub on "+sandbox.DefaultListen+", no credentials ('countersign serve --sandbox -h')")
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(s.err, "countersign serve: invalid settings:\n%v\n\nRun 'countersign serve -h' for the settings.\n", err)
		return exitError
	}
	log := set.NewLogger(s.err)
	log.Info("starting countersign serve", slog.Any("settings", set))

	reg := prometheus.NewRegistry()
	app, err := ghapp.New(ghapp.Options{
		AppID:         set.AppID,
		PrivateKeyPEM: set.PrivateKeyPEM,
		BaseURL:       set.GitHubURL,
		Registerer:    reg,
		Logger:        log,
	})
	if err != nil {
		log.Error("cannot set up the GitHub App client", slog.Any("error", err))
		return exitError
	}
	// The details page: linked from each check run when a public URL is set.
	detailsSigner := details.NewSigner(set.WebhookSecret)
	var detailsStore details.Verdicts = details.NewStore(0)
	// Several replicas share a Redis: the work queue, the delivery ids, the
	// per-pull-request lock and the order of their check-run writes.
	var fenceStore evaluator.Fence
	var shared *fence.Redis
	if set.RedisURL != "" {
		f, err := fence.Dial(ctx, set.RedisURL)
		if err != nil {
			log.Error("cannot reach Redis (--redis-url / COUNTERSIGN_REDIS_URL)", slog.Any("error", err))
			return exitError
		}
		defer f.Close()
		fenceStore, shared = f, f
		detailsStore = details.NewRedisStore(f.Client())
	}
	var stores state.Stores // in memory unless shared
	var headLocker server.Locker
	if shared != nil {
		stores, headLocker = state.NewRedisStores(shared.Client()), shared
	}
	backend := evaluator.New(evaluator.Options{
		Fence:        fenceStore,
		Stores:       stores,
		HeadLocker:   headLocker,
		App:          app,
		PublicURL:    set.PublicURL,
		Logger:       log,
		Registerer:   reg,
		DetailsURL:   set.PublicURL != "",
		DetailsToken: detailsSigner.Token,
		OnPublish:    detailsStore.Put,
	})
	so := server.Options{
		Backend:       backend,
		Landing:       landing.New(landing.Options{App: app, Logger: log, Registerer: reg}),
		WebhookSecret: set.WebhookSecret,
		Logger:        log,
		Registry:      reg,
		Workers:       set.Workers,
		QueueSize:     set.QueueSize,
		DrainTimeout:  set.DrainTimeout,
	}
	if shared != nil {
		so.Redis, so.Locker = shared.Client(), shared
	}
	srv, err := server.New(so)
	if err != nil {
		log.Error("cannot set up the server", slog.Any("error", err))
		return exitError
	}
	srv.Handle(details.Pattern, details.Handler(details.Options{
		Signer: detailsSigner, Store: detailsStore, Logger: log,
		PRURL: details.PRURLUnder(details.WebURL(set.GitHubURL)),
	}))
	ln, err := net.Listen("tcp", set.Listen)
	if err != nil {
		log.Error("cannot listen", slog.String("listen", set.Listen), slog.Any("error", err))
		// Stop the workers New started; nothing was queued.
		_ = srv.Shutdown(context.Background())
		return exitError
	}
	if listening != nil {
		listening(ln.Addr().String())
	}
	if set.RedeliverWindow > 0 {
		go srv.RunRedelivery(ctx, set.RedeliverInterval, set.RedeliverWindow)
	}
	if set.SweepInterval > 0 {
		go srv.RunSweeps(ctx, server.SweepOptions{Interval: set.SweepInterval})
	}
	if err := srv.Serve(ctx, ln, set.DrainTimeout); err != nil {
		log.Error("server stopped with an error", slog.Any("error", err))
		return exitError
	}
	log.Info("stopped")
	return exitOK
}
