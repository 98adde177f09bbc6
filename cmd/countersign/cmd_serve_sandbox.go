package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/countersign/countersign/bot/sandbox"
)

// sandboxRequested reports whether 'countersign serve' was asked for the sandbox.
func sandboxRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		switch a {
		case "--sandbox", "-sandbox", "--sandbox=true", "-sandbox=true":
			return true
		}
	}
	return false
}

// serveSandbox runs 'countersign serve --sandbox': the bot and a seeded,
// embedded GitHub simulator in one process, with pages to act as its users.
// It needs no GitHub credentials and reads none.
func serveSandbox(ctx context.Context, args []string, getenv func(string) string, s streams, listening func(addr, metricsAddr string)) int {
	fs := flag.NewFlagSet("countersign serve --sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("sandbox", true, "run the sandbox")
	listen := fs.String("listen", "", "address to serve on (default "+sandbox.DefaultListen+"; COUNTERSIGN_LISTEN)")
	metrics := fs.String("metrics-listen", "", "address to serve /healthz, /readyz and /metrics on (default none; COUNTERSIGN_METRICS_LISTEN)")
	level := fs.String("log-level", "", "debug|info|warn|error (default warn; COUNTERSIGN_LOG_LEVEL)")
	format := fs.String("log-format", "", "json|text (default text; COUNTERSIGN_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(s.out, "Usage: countersign serve --sandbox [--listen ADDR] [--metrics-listen ADDR] [--log-level LEVEL] [--log-format json|text]")
			fmt.Fprintln(s.out)
			fmt.Fprintln(s.out, "Runs the bot against a simulated GitHub, seeded with an organization, a repository and pull requests.")
			return exitOK
		}
		fmt.Fprintf(s.err, "countersign serve --sandbox: %v (the sandbox takes --listen, --metrics-listen, --log-level and --log-format only)\n", err)
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.err, "countersign serve --sandbox: unexpected argument %q\n", fs.Arg(0))
		return exitError
	}
	pick := func(flagVal, env, def string) string {
		if flagVal != "" {
			return flagVal
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(pick(*level, "COUNTERSIGN_LOG_LEVEL", "warn"))); err != nil {
		fmt.Fprintf(s.err, "countersign serve --sandbox: --log-level / COUNTERSIGN_LOG_LEVEL: %v\n", err)
		return exitError
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var log *slog.Logger
	switch f := strings.ToLower(pick(*format, "COUNTERSIGN_LOG_FORMAT", "text")); f {
	case "text":
		log = slog.New(slog.NewTextHandler(s.err, opts))
	case "json":
		log = slog.New(slog.NewJSONHandler(s.err, opts))
	default:
		fmt.Fprintf(s.err, "countersign serve --sandbox: --log-format / COUNTERSIGN_LOG_FORMAT: %q is not json or text\n", f)
		return exitError
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Listen: pick(*listen, "COUNTERSIGN_LISTEN", sandbox.DefaultListen),
		MetricsListen: pick(*metrics, "COUNTERSIGN_METRICS_LISTEN", ""), Logger: log})
	if err != nil {
		fmt.Fprintf(s.err, "countersign serve --sandbox: %v\n", err)
		return exitError
	}
	fmt.Fprintf(s.out, "Countersign sandbox: open %s\n", sb.URL())
	fmt.Fprintln(s.out, "  the bot and a simulated GitHub (organization acme, repository acme/platform); Ctrl-C stops it")
	if m := sb.MetricsAddr(); m != "" {
		fmt.Fprintf(s.out, "  probes and metrics on http://%s/metrics\n", m)
	}
	if listening != nil {
		listening(strings.TrimSuffix(strings.TrimPrefix(sb.URL(), "http://"), "/"), sb.MetricsAddr())
	}
	<-ctx.Done()
	if err := sb.Close(); err != nil {
		log.Error("sandbox stopped with an error", slog.Any("error", err))
		return exitError
	}
	return exitOK
}
