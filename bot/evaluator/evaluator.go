// Package evaluator implements server.Backend against GitHub: it gathers the
// facts of a pull request, runs the policy engine and publishes the
// countersign check run on the PR's head.
package evaluator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/gitfacts"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
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
	// DetailsURL sets each check run's details_url to
	// PublicURL/details/{owner}/{repo}/{number}/{head_sha}. Turn it on only
	// when the server serves that page; it needs PublicURL. Default off.
	DetailsURL bool
	// DetailsToken, when set, gives the access token appended to the details
	// URL as ?token=…, bound to the repository, PR number and head.
	DetailsToken func(owner, repo string, number int, head string) string
	// OnPublish, when set, is told each verdict the check run now shows
	// (written, or already showing it), e.g. to serve the details page. It
	// must return quickly and must not modify the verdict.
	OnPublish func(owner, repo string, number int, head string, v *checks.Verdict)
	// FetchGitFacts reads pull requests beyond GitHub's listing limits (3,000
	// files, 250 commits) with git over HTTPS with the installation token;
	// nil means gitfacts.FetchFacts.
	FetchGitFacts pull.FetchGitFacts
	// CacheEntries bounds the cache of immutable per-commit facts; 0 means pull.DefaultCacheEntries.
	CacheEntries int
	// Stores keeps the mutable records (check runs, head moves, edited
	// comments); a nil field means an in-memory store of this process.
	Stores state.Stores
	// Fence, when set, orders the check-run writes of several replicas so
	// that none publishes an older verdict over a newer one (bot/fence, in
	// Redis). Nil means one replica, whose queue already orders them.
	Fence Fence
	// HeadLocker, when set, serializes the creation and writes of one head's
	// check run across replicas (several pull requests may share a head),
	// so that no replica creates a second run for a head another is
	// creating one for (bot/fence.Redis.Hold). Nil means this process only.
	HeadLocker server.Locker
}

// Evaluator evaluates pull requests and publishes their check runs. It is
// safe for concurrent use; the server serialises evaluations of one PR.
type Evaluator struct {
	opt     Options
	log     *slog.Logger
	cache   *pull.Cache // immutable per-commit facts
	stores  state.Stores
	locks   [64]sync.Mutex // serialise the check-run writes of one head (by hash)
	metrics *metrics

	// newContext makes the facts source of one evaluation; tests swap it.
	newContext func(client *github.Client, job server.Job) pull.Context
	// client returns the installation's client; tests swap it.
	client func(installation int64) (*github.Client, error)
}

var _ server.Backend = (*Evaluator)(nil)

// New returns an Evaluator.
func New(o Options) *Evaluator {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.FetchGitFacts == nil {
		o.FetchGitFacts = gitfacts.FetchFacts
	}
	mem := state.NewMemoryStores()
	if o.Stores.CheckRuns == nil {
		o.Stores.CheckRuns = mem.CheckRuns
	}
	if o.Stores.HeadMoves == nil {
		o.Stores.HeadMoves = mem.HeadMoves
	}
	if o.Stores.EditedComments == nil {
		o.Stores.EditedComments = mem.EditedComments
	}
	if o.Stores.Reliances == nil {
		o.Stores.Reliances = mem.Reliances
	}
	e := &Evaluator{
		opt:     o,
		log:     log,
		cache:   pull.NewCache(o.CacheEntries),
		stores:  o.Stores,
		metrics: newMetrics(o.Registerer),
	}
	e.client = func(inst int64) (*github.Client, error) {
		if e.opt.App == nil {
			return nil, errors.New("evaluator: no GitHub App configured")
		}
		return e.opt.App.Client(inst)
	}
	e.newContext = func(client *github.Client, job server.Job) pull.Context {
		var token func(ctx context.Context) (string, error)
		if e.opt.App != nil {
			token = func(ctx context.Context) (string, error) { return e.opt.App.Token(ctx, job.Installation) }
		}
		return pull.NewGitHub(pull.GitHubOptions{
			Client: client, Owner: job.Owner, Repo: job.Repo, Number: job.Number,
			Cache: e.cache, Token: token, FetchGitFacts: e.opt.FetchGitFacts, Logger: e.log,
			Edits: e.stores.EditedComments, Snapshot: job.Snapshot,
		})
	}
	return e
}

// Evaluate judges the job's pull request at its current head and publishes the check run.
func (e *Evaluator) Evaluate(ctx context.Context, job server.Job) (err error) {
	start := time.Now()
	log := e.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "pr", job.Number, "delivery", job.DeliveryID, "reason", job.Reason)
	outcome := "error"
	defer func() { e.metrics.observe(outcome) }()

	client, err := e.client(job.Installation)
	if err != nil {
		return err
	}
	ctx = e.beginFence(ctx, job, log)
	pc := e.newContext(client, job)
	pr, err := pc.PR(ctx)
	if err != nil {
		log.Warn("could not read the pull request", "err", ghapp.Reason(err))
		if job.HeadSHA != "" {
			// The head the event saw gets a failing check rather than none.
			if run, rerr := e.run(ctx, client, job.Owner, job.Repo, job.HeadSHA, false, log); rerr == nil {
				e.publish(ctx, client, job, run, job.HeadSHA, "", failed(job, job.HeadSHA, err), log)
			}
		}
		return fmt.Errorf("reading %s: %s", job.Key(), ghapp.Reason(err))
	}
	head := pr.HeadSHA
	log = log.With("head_sha", head)
	if pr.State != "" && pr.State != "open" {
		log.Info("pull request is not open; nothing to publish", "state", pr.State)
		outcome = "skipped"
		return nil
	}

	// A head first met in a pull_request.opened or synchronize delivery
	// newer than this process (the intake keeps the snapshot only then)
	// cannot carry a check run yet, so its lookup is skipped.
	newHead := job.Snapshot != nil && job.Snapshot.GetHead().GetSHA() == head &&
		(job.Reason == "pull_request.opened" || job.Reason == "pull_request.synchronize")
	run, err := e.run(ctx, client, job.Owner, job.Repo, head, newHead, log)
	if err != nil {
		log.Warn("could not start the check run", "err", ghapp.Reason(err))
		return fmt.Errorf("starting the check run on %s: %s", short(head), ghapp.Reason(err))
	}

	// Until this verdict is published, a change of anyone's standing
	// evaluates the pull request again (ReadsStanding).
	if err := e.stores.Reliances.PutReliance(ctx, job.Owner+"/"+job.Repo, job.Number, state.Reliance{Head: head, Pending: true}); err != nil {
		return fmt.Errorf("evaluating %s at %s: writing the reliance record: %w", job.Key(), short(head), err)
	}
	opts, err := e.gatherOptions(ctx, client, job, pr, run.StartedAt)
	if err != nil {
		log.Warn("could not read when the pull request moved to its head or base", "err", err)
		return fmt.Errorf("evaluating %s at %s: %w", job.Key(), short(head), err)
	}
	g, gerr := pull.Gather(ctx, pc, opts)
	var v *checks.Verdict
	var pe *pull.PolicyError
	switch {
	case errors.As(gerr, &pe):
		v = checks.Invalid(pe.Err, pe.Source, g.Facts)
		log.Info("invalid policy", "file", pe.Source.Repo+"/"+pe.Source.Path, "err", pe.Err)
	case gerr != nil:
		v = failed(job, head, gerr)
		if g != nil && g.Policy != nil {
			v.Policy = g.Policy.Source
		}
		log.Warn("could not gather the facts", "err", ghapp.Reason(gerr))
	default:
		v = g.Compiled.Evaluate(g.Facts)
	}
	// The check run is the commit's, and every open pull request at this
	// head reads it: a pass is published only when each of them passes.
	var sharedErr error
	relied := readStanding(g)
	if v.Conclusion == checks.Success {
		sv, others, err := e.sharedHead(ctx, client, job, head, v)
		relied = append(relied, others...)
		if err != nil {
			sharedErr = err
			sv = failed(job, head, err)
			sv.Policy = v.Policy
			log.Warn("could not evaluate the other pull requests at this head", "err", err)
		}
		v = sv
	}
	if perr := e.publish(ctx, client, job, run, head, pr.URL, v, log); perr != nil {
		if errors.Is(perr, errSuperseded) {
			outcome = "superseded"
			return nil
		}
		log.Warn("could not publish the verdict", "conclusion", v.Conclusion, "err", ghapp.Reason(perr))
		if errors.Is(perr, server.ErrEvaluateAgain) {
			return fmt.Errorf("publishing the verdict on %s: %w", short(head), perr)
		}
		return fmt.Errorf("publishing the verdict on %s: %s", short(head), ghapp.Reason(perr))
	}
	if err := e.stores.Reliances.PutReliance(ctx, job.Owner+"/"+job.Repo, job.Number, state.Reliance{Head: head, Logins: relied}); err != nil {
		// The pending record stays: any change of standing evaluates it again.
		log.Warn("could not write the reliance record", "err", err)
	}
	if e.opt.OnPublish != nil {
		e.opt.OnPublish(job.Owner, job.Repo, job.Number, head, v)
	}
	outcome = string(v.Conclusion)
	log.Info("evaluated", "conclusion", v.Conclusion, "title", v.Title, "duration", time.Since(start).Round(time.Millisecond))
	switch {
	case sharedErr != nil:
		return fmt.Errorf("evaluating %s at %s: %s", job.Key(), short(head), sharedErr)
	case gerr != nil && pe == nil:
		return fmt.Errorf("evaluating %s at %s: %s", job.Key(), short(head), ghapp.Reason(gerr))
	case g != nil && g.Retry:
		return fmt.Errorf("evaluating %s at %s: %s", job.Key(), short(head), g.Facts.Incomplete)
	}
	return nil
}

// failed is the failing verdict for facts that could not be gathered.
func failed(job server.Job, head string, err error) *checks.Verdict {
	return checks.CouldNotEvaluate(job.Owner+"/"+job.Repo, job.Number, head, ghapp.Reason(err))
}

func clip(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	r := []rune(s)
	return string(r[:runes-1]) + "…"
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
