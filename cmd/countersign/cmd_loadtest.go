package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/loadtest"
)

// runLoadtest runs 'countersign loadtest': the server, evaluator and GitHub
// App client in-process against the GitHub simulator on loopback, driven at
// a target rate of webhook deliveries, optionally under a fault profile.
func runLoadtest(ctx context.Context, args []string, s streams) int {
	fs := newFlags(s, "loadtest",
		"loadtest [flags]",
		"Runs the server, evaluator and GitHub App client in-process against the GitHub",
		"simulator on loopback and replays pull-request activity at a target rate.",
		"Exits 1 when a check run is wrong (a pass that needed approval, or a final",
		"verdict that is not the engine's for the final state), 2 on a usage error.",
	)
	var o loadtest.Options
	var format string
	var quiet, serverLog, serverProcess bool
	var cpuProfile string
	fs.IntVar(&o.Repos, "repos", 10, "repositories (each in its own organization and installation)")
	fs.IntVar(&o.PRs, "prs", 100, "pull requests open before the measured run")
	fs.Float64Var(&o.Rate, "rate", 100, "target webhook deliveries per second")
	fs.DurationVar(&o.Duration, "duration", 0, "length of the measured run (default 10s unless --deliveries is set)")
	fs.IntVar(&o.Deliveries, "deliveries", 0, "end the measured run after this many deliveries")
	fs.IntVar(&o.Workers, "workers", 4, "the server's --workers")
	fs.IntVar(&o.QueueSize, "queue-size", 0, "the server's --queue-size (default max(1000, 2 x --prs))")
	fs.IntVar(&o.Drivers, "drivers", 4, "goroutines changing the simulator's state")
	fs.IntVar(&o.Senders, "senders", 16, "webhook deliveries the simulator sends at once (1: one at a time, in order)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the activity mix and of the simulator's faults")
	fs.StringVar(&o.Faults, "faults", "none", "fault profile: "+strings.Join(loadtest.ProfileNames(), ", "))
	fs.DurationVar(&o.SettleTimeout, "settle-timeout", 2*time.Minute, "how long the server may take to go idle after the run")
	fs.StringVar(&format, "format", "table", "table or json")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.BoolVar(&serverProcess, "server-process", false, "run the bot as a separate 'countersign serve' process and report its own peak RSS (no fault profile, no --deliveries; latencies are not measured)")
	fs.IntVar(&o.Replicas, "replicas", 0, "run the bot as N 'countersign serve' processes sharing one redis-server (started here), behind a round-robin balancer (faults: none or replica-kill)")
	fs.BoolVar(&serverLog, "server-log", false, "the server's warnings on stderr")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	if format != "table" && format != "json" {
		fmt.Fprintf(s.err, "countersign loadtest: --format %q is not table or json\n", format)
		return exitError
	}
	if _, ok := loadtest.Profiles[o.Faults]; !ok {
		fmt.Fprintf(s.err, "countersign loadtest: --faults %q is not one of %s\n", o.Faults, strings.Join(loadtest.ProfileNames(), ", "))
		return exitError
	}
	if o.Repos < 1 || o.PRs < 1 || o.Rate <= 0 || o.Workers < 1 || o.Workers > 1024 || o.Senders < 1 || o.Senders > 1024 {
		fmt.Fprintln(s.err, "countersign loadtest: --repos, --prs, --rate, --workers and --senders must be positive (--workers and --senders at most 1024)")
		return exitError
	}
	if o.Replicas < 0 || o.Replicas > 16 {
		fmt.Fprintln(s.err, "countersign loadtest: --replicas must be from 1 to 16")
		return exitError
	}
	if o.Faults == "replica-kill" && o.Replicas < 2 {
		fmt.Fprintln(s.err, "countersign loadtest: --faults replica-kill needs --replicas 2 or more")
		return exitError
	}
	if o.Replicas > 0 {
		if o.Faults != "none" && o.Faults != "replica-kill" {
			fmt.Fprintln(s.err, "countersign loadtest: --replicas takes --faults none or replica-kill")
			return exitError
		}
		if o.Deliveries > 0 {
			fmt.Fprintln(s.err, "countersign loadtest: --replicas takes no --deliveries")
			return exitError
		}
		serverProcess = true
	} else if serverProcess {
		if o.Faults != "none" || o.Deliveries > 0 {
			fmt.Fprintln(s.err, "countersign loadtest: --server-process takes no --faults and no --deliveries")
			return exitError
		}
	}
	if serverProcess {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(s.err, "countersign loadtest: --server-process: %v\n", err)
			return exitError
		}
		o.ServerBinary = exe
	}
	if !quiet {
		o.Progress = s.err
	}
	if serverLog {
		o.Log = s.err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintf(s.err, "countersign loadtest: --cpuprofile: %v\n", err)
			return exitError
		}
		defer f.Close()
		o.CPUProfile = f
	}
	rep, err := loadtest.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(s.err, "countersign loadtest: %v\n", err)
		return exitError
	}
	if format == "json" {
		err = rep.WriteJSON(s.out)
	} else {
		err = rep.WriteTable(s.out)
	}
	if err != nil {
		fmt.Fprintf(s.err, "countersign loadtest: %v\n", err)
		return exitError
	}
	if rep.Failed() {
		return exitRequired
	}
	return exitOK
}
