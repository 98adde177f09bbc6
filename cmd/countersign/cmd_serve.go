package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/sandbox"
	"github.com/countersign/countersign/bot/server"
)

// runServe runs 'countersign serve': the GitHub App server. Settings come
// from flags and COUNTERSIGN_* environment variables (docs/configuration.md).
func runServe(ctx context.Context, args []string, s streams) int {
	return serve(ctx, args, os.Getenv, s, nil)
}

// serve is runServe with the environment and, for tests, a hook told the
// webhook and metrics listeners' addresses once both listen.
func serve(ctx context.Context, args []string, getenv func(string) string, s streams, listening func(addr, metricsAddr string)) int {
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

	// Several replicas share a Redis: the work queue, the delivery ids, the
	// per-pull-request lock and the order of their check-run writes.
	var shared *fence.Redis
	if set.RedisURL != "" {
		f, err := fence.Dial(ctx, set.RedisURL)
		if err != nil {
			log.Error("cannot reach Redis (--redis-url / COUNTERSIGN_REDIS_URL)", slog.Any("error", err))
			return exitError
		}
		defer f.Close()
		shared = f
	}
	a, err := app.New(app.Options{Settings: *set, Logger: log, Shared: shared})
	if err != nil {
		log.Error("cannot set up the app", slog.Any("error", err))
		return exitError
	}
	srv := a.Server
	ln, err := net.Listen("tcp", set.Listen)
	if err != nil {
		log.Error("cannot listen", slog.String("listen", set.Listen), slog.Any("error", err))
		// Stop the workers New started; nothing was queued.
		_ = srv.Shutdown(context.Background())
		return exitError
	}
	// The probes and /metrics on their own listener, never the webhook's.
	ops, err := net.Listen("tcp", set.MetricsListen)
	if err != nil {
		log.Error("cannot listen for the probes and metrics (--metrics-listen / COUNTERSIGN_METRICS_LISTEN)", slog.String("metrics_listen", set.MetricsListen), slog.Any("error", err))
		ln.Close()
		_ = srv.Shutdown(context.Background())
		return exitError
	}
	if listening != nil {
		listening(ln.Addr().String(), ops.Addr().String())
	}
	if set.RedeliverWindow > 0 {
		go srv.RunRedelivery(ctx, set.RedeliverInterval, set.RedeliverWindow)
	}
	if set.SweepInterval > 0 {
		go srv.RunSweeps(ctx, server.SweepOptions{Interval: set.SweepInterval})
	}
	if err := srv.Serve(ctx, ln, ops, set.DrainTimeout); err != nil {
		log.Error("server stopped with an error", slog.Any("error", err))
		return exitError
	}
	log.Info("stopped")
	return exitOK
}
