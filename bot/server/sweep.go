package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of the sweep.
const (
	// DefaultSweepInterval is how often open pull requests are swept.
	DefaultSweepInterval = 15 * time.Minute
	// DefaultSweepRateFloor is the share of an installation's hourly rate
	// limit below which a sweep leaves the installation alone.
	DefaultSweepRateFloor = 0.10
)

// Sweeper is what the sweep needs of a Backend besides InstallationRepos.
// The evaluator implements it.
type Sweeper interface {
	// Installations lists the app's (unsuspended) installation ids.
	Installations(ctx context.Context) ([]int64, error)
	// RateBudget returns what GitHub last said of an installation's primary
	// rate limit: calls remaining and the hourly limit; known is false
	// before any call was made with the installation.
	RateBudget(installation int64) (remaining, limit int, known bool)
	// StalePullRequests lists the repository's open pull requests whose
	// countersign check run is missing on the current head, not completed,
	// or completed before the pull request last changed (a push, a review,
	// an edit), each as a job whose Reason says which.
	StalePullRequests(ctx context.Context, installation int64, owner, repo string) ([]Job, error)
}

// SweepOptions configures RunSweeps.
type SweepOptions struct {
	// Interval between sweeps; 0 sweeps once at start only, negative never.
	Interval time.Duration
	// RateFloor is the share (0–1) of an installation's rate limit that must
	// remain for it to be swept; 0 means DefaultSweepRateFloor.
	RateFloor float64
}

// RunSweeps sweeps at once, then every Interval until ctx is done or the
// server drains; with Redis, one replica of the cluster sweeps each interval. A sweep lists every installation's repositories and their
// open pull requests and queues the evaluation of those whose check run is
// missing, stale, unfinished or older than their last change: deliveries
// that never arrived (GitHub does not retry them) heal within one interval.
func (s *Server) RunSweeps(ctx context.Context, o SweepOptions) {
	if o.Interval < 0 {
		return
	}
	sweep := func(ctx context.Context) {
		if err := s.Sweep(ctx, o); err != nil {
			s.log.Warn("sweep: could not start", slog.Any("error", err))
		}
	}
	if o.Interval == 0 {
		sweep(ctx)
		return
	}
	// One replica of the cluster sweeps each interval.
	s.every(ctx, "sweep", o.Interval, sweep)
}

// Sweep lists the app's installations and queues one sweep of each; the
// repositories and pull requests are listed by the queue's workers, with its
// retries, so a sweep's concurrency is the server's. It returns an error
// when the installations cannot be listed or the backend cannot sweep.
func (s *Server) Sweep(ctx context.Context, o SweepOptions) error {
	sw, ok := s.backend.(Sweeper)
	if !ok {
		return fmt.Errorf("server: the backend (%T) cannot sweep", s.backend)
	}
	if s.draining.Load() {
		return nil
	}
	if o.RateFloor <= 0 || o.RateFloor >= 1 {
		o.RateFloor = DefaultSweepRateFloor
	}
	insts, err := sw.Installations(ctx)
	if err != nil {
		return fmt.Errorf("listing installations: %w", err)
	}
	// GitHub answers again: the work given up since the last sweep runs now.
	s.replayParked(ctx)
	tasks := make([]task, 0, len(insts))
	for _, id := range insts {
		tasks = append(tasks, s.sweepInstallationTask(sw, id, o.RateFloor))
	}
	s.log.Info("sweep: installations queued", slog.Int("installations", len(tasks)))
	return s.q.submit(ctx, tasks, false)
}

// lowBudget reports (and logs) an installation whose remaining rate limit
// is below the floor.
func (s *Server) lowBudget(sw Sweeper, installation int64, floor float64, what string) bool {
	rem, lim, known := sw.RateBudget(installation)
	if !known || lim <= 0 || float64(rem) >= floor*float64(lim) {
		return false
	}
	s.log.Warn("sweep: installation skipped, its rate limit is low", slog.Int64("installation", installation),
		slog.String("at", what), slog.Int("remaining", rem), slog.Int("limit", lim), slog.Float64("floor", floor))
	return true
}

func (s *Server) sweepInstallationTask(sw Sweeper, installation int64, floor float64) task {
	j := Job{Installation: installation, Reason: "sweep"}
	sp := taskSpec{Op: opSweepInstallation, Job: j, Floor: floor}
	return task{key: "sweep:installation:" + itoa(installation), kind: kindFanout, job: j, spec: sp, run: func(ctx context.Context) error {
		if s.lowBudget(sw, installation, floor, "installation") {
			return nil
		}
		repos, err := s.backend.InstallationRepos(ctx, installation)
		if err != nil {
			return fmt.Errorf("sweep: listing the repositories of installation %d: %w", installation, err)
		}
		var tasks []task
		for _, full := range repos {
			o, n, ok := strings.Cut(full, "/")
			if !ok || o == "" || n == "" {
				return fmt.Errorf("sweep: installation %d: repository %q is not owner/name", installation, full)
			}
			tasks = append(tasks, s.sweepRepoTask(sw, installation, o, n, floor))
		}
		return s.q.submit(ctx, tasks, false)
	}}
}

func (s *Server) sweepRepoTask(sw Sweeper, installation int64, owner, repo string, floor float64) task {
	j := Job{Installation: installation, Owner: owner, Repo: repo, Reason: "sweep"}
	sp := taskSpec{Op: opSweepRepo, Job: j, Floor: floor}
	return task{key: "sweep:repo:" + owner + "/" + repo, kind: kindFanout, job: j, spec: sp, run: func(ctx context.Context) error {
		if s.lowBudget(sw, installation, floor, owner+"/"+repo) {
			return nil
		}
		jobs, err := sw.StalePullRequests(ctx, installation, owner, repo)
		if err != nil {
			return fmt.Errorf("sweep: %s/%s: %w", owner, repo, err)
		}
		tasks := make([]task, 0, len(jobs))
		for _, pj := range jobs {
			if pj.Installation == 0 {
				pj.Installation = installation
			}
			if pj.Owner == "" {
				pj.Owner, pj.Repo = owner, repo
			}
			pj.Snapshot = nil
			s.log.Info("sweep: pull request needs evaluating", slog.String("repo", owner+"/"+repo),
				slog.Int("pr", pj.Number), slog.String("head_sha", pj.HeadSHA), slog.String("reason", pj.Reason))
			tasks = append(tasks, s.evalTask(ctx, pj))
		}
		return s.q.submit(ctx, tasks, false)
	}}
}
