// Package evaluator implements server.Backend against GitHub: it gathers the
// facts of a pull request, runs the policy engine and publishes the
// countersign check run on the PR's head.
package evaluator

import (
	"context"
	"errors"
	"log/slog"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures an Evaluator.
type Options struct {
	// App is the authenticated GitHub App.
	App *ghapp.App
	// PublicURL is the server's public base URL, used for details links.
	PublicURL string
	// Logger receives evaluation logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// DetailsURL sets the check run's details_url to PublicURL's details page;
	// only turn it on when the server serves that page. Default off.
	DetailsURL bool
}

// Evaluator evaluates pull requests and publishes their check runs.
type Evaluator struct {
	opt Options
	log *slog.Logger
}

var _ server.Backend = (*Evaluator)(nil)

// New returns an Evaluator.
func New(o Options) *Evaluator {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Evaluator{opt: o, log: log}
}

// Evaluate judges the job's pull request at its current head and publishes the check run.
func (e *Evaluator) Evaluate(ctx context.Context, job server.Job) error {
	return errors.New("evaluator: not implemented")
}

// OpenPullRequests lists a repository's open pull requests as jobs.
func (e *Evaluator) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	return nil, errors.New("evaluator: not implemented")
}

// InstallationRepos lists the "owner/name" repositories an installation covers.
func (e *Evaluator) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	return nil, errors.New("evaluator: not implemented")
}
