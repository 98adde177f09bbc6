// Package evaluator implements server.Backend against GitHub: it gathers the
// facts of a pull request, runs the policy engine and publishes the
// countersign check run on the PR's head.
package evaluator

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
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

// headLock returns the lock that serialises the check-run writes on one
// head in this process (several pull requests may share a head; the server
// serialises the evaluations of each one). Replicas order theirs with the Fence.
func (e *Evaluator) headLock(repo, head string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(repo) + "@" + head))
	return &e.locks[h.Sum32()%uint32(len(e.locks))]
}

// lockHead takes the head's lock in this process and, with a HeadLocker,
// across the replicas; it returns the context to write under and the unlock.
func (e *Evaluator) lockHead(ctx context.Context, repo, head string) (context.Context, func(), error) {
	mu := e.headLock(repo, head)
	mu.Lock()
	if e.opt.HeadLocker == nil {
		return ctx, mu.Unlock, nil
	}
	held, release, err := e.opt.HeadLocker.Hold(ctx, "head:"+strings.ToLower(repo)+"@"+head)
	if err != nil {
		mu.Unlock()
		return nil, nil, fmt.Errorf("locking the head's check run: %w", err)
	}
	return held, func() { release(); mu.Unlock() }, nil
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

	since, err := e.commandsSince(ctx, job, pr, run.StartedAt)
	if err != nil {
		log.Warn("could not read when the pull request moved to its head", "err", err)
		return fmt.Errorf("evaluating %s at %s: %w", job.Key(), short(head), err)
	}
	g, gerr := pull.Gather(ctx, pc, pull.GatherOptions{HeadSeenAt: since})
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
	if v.Conclusion == checks.Success {
		sv, err := e.sharedHead(ctx, client, job, head, v)
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
		return fmt.Errorf("publishing the verdict on %s: %s", short(head), ghapp.Reason(perr))
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
	reason := ghapp.Reason(err)
	return &checks.Verdict{
		Conclusion:     checks.Failure,
		Title:          clip("Could not evaluate: "+reason, checks.MaxTitleRunes),
		Repo:           job.Owner + "/" + job.Repo,
		Number:         job.Number,
		HeadSHA:        head,
		Agents:         []string{},
		Commits:        []checks.CommitVerdict{},
		ProtectedFiles: []checks.ProtectedFile{},
		Requirements:   []checks.Requirement{},
		Errors:         []string{"could not evaluate: " + reason + "; Countersign will try again"},
	}
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

// run returns the check run of a head, creating it in_progress when there is
// none. The latest run of the name from this app (what GitHub's required
// check reads) is looked up once per head and cached; the lookup is skipped
// for a newHead this process has not met before (a failed create leaves the
// head known, so it is looked up next time). GitHub does not let a completed
// run change its status or conclusion, so when the latest run says success a
// new in_progress run replaces it before the head is judged again: a
// re-evaluation that dies half-way never leaves a stale pass behind. Every
// run of a head carries the started_at of the first, when Countersign first
// saw the head, to which commands are bound.
func (e *Evaluator) run(ctx context.Context, client *github.Client, owner, repo, head string, newHead bool, log *slog.Logger) (state.CheckRun, error) {
	full := owner + "/" + repo
	ctx, unlock, err := e.lockHead(ctx, full, head)
	if err != nil {
		return state.CheckRun{}, err
	}
	defer unlock()
	rs, known, err := e.stores.CheckRuns.CheckRun(ctx, full, head)
	if err != nil {
		return rs, fmt.Errorf("reading the check-run record: %w", err)
	}
	if !known {
		// Recorded before the create, so that a failed create leaves the head known.
		if err := e.stores.CheckRuns.PutCheckRun(ctx, full, head, rs); err != nil {
			return rs, fmt.Errorf("writing the check-run record: %w", err)
		}
	}
	if rs.ID == 0 && (known || !newHead) {
		found, err := e.findRun(ctx, client, owner, repo, head)
		if err != nil {
			return rs, err
		}
		if found != nil {
			rs = state.CheckRun{ID: found.GetID(), Status: found.GetStatus(), Conclusion: found.GetConclusion(), StartedAt: found.GetStartedAt().Time}
		}
	}
	if rs.ID == 0 || (rs.Status == "completed" && rs.Conclusion == string(checks.Success)) {
		title, summary := "Evaluating", "Countersign is gathering the facts of this pull request."
		if rs.ID != 0 {
			title, summary = "Evaluating again", "Countersign is evaluating this pull request again; the pass it showed is withdrawn until then."
		}
		if rs.StartedAt.IsZero() {
			rs.StartedAt = time.Now()
		}
		cr, _, err := client.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{
			Name:      checks.CheckName,
			HeadSHA:   head,
			Status:    github.String("in_progress"),
			StartedAt: &github.Timestamp{Time: rs.StartedAt},
			Output:    &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
		})
		if err != nil {
			return rs, err
		}
		rs = shownRun(rs, cr)
		log.Debug("check run created", "check_run", rs.ID, "title", title)
	}
	if err := e.stores.CheckRuns.PutCheckRun(ctx, full, head, rs); err != nil {
		return rs, fmt.Errorf("writing the check-run record: %w", err)
	}
	return rs, nil
}

// findRun looks up the app's latest countersign check run on a head (what
// GitHub's required check reads); nil when there is none.
func (e *Evaluator) findRun(ctx context.Context, client *github.Client, owner, repo, head string) (*github.CheckRun, error) {
	appID := int64(0)
	if e.opt.App != nil {
		appID = e.opt.App.ID()
	}
	opt := &github.ListCheckRunsOptions{CheckName: github.String(checks.CheckName), ListOptions: github.ListOptions{PerPage: 100}}
	if appID != 0 {
		opt.AppID = github.Int64(appID)
	}
	res, _, err := client.Checks.ListCheckRunsForRef(ctx, owner, repo, head, opt)
	if err != nil {
		return nil, err
	}
	var found *github.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() != checks.CheckName || cr.GetHeadSHA() != head || (appID != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != appID) {
			continue
		}
		if found == nil || cr.GetID() > found.GetID() {
			found = cr
		}
	}
	return found, nil
}

// shownRun is the record of the run GitHub answered with (created or
// updated): the head's latest countersign run. The time the head was first
// seen is kept when GitHub's answer lacks it or is later.
func shownRun(rs state.CheckRun, cr *github.CheckRun) state.CheckRun {
	out := state.CheckRun{ID: cr.GetID(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), StartedAt: rs.StartedAt}
	if t := cr.GetStartedAt().Time; !t.IsZero() && (out.StartedAt.IsZero() || t.Before(out.StartedAt)) {
		out.StartedAt = t
	}
	return out
}

// publish completes the check run with the verdict, unless the run already says exactly that.
func (e *Evaluator) publish(ctx context.Context, client *github.Client, job server.Job, run state.CheckRun, head, prURL string, v *checks.Verdict, log *slog.Logger) error {
	if prURL == "" {
		prURL = "https://github.com/" + job.Owner + "/" + job.Repo + "/pull/" + strconv.Itoa(job.Number)
	}
	conclusion := string(v.Conclusion)
	switch v.Conclusion {
	case checks.Success, checks.ActionRequired, checks.Failure:
	default:
		conclusion = string(checks.Failure) // never neutral or skipped: GitHub counts those as passing
	}
	title := clip(v.Title, checks.MaxTitleRunes)
	summary := v.Markdown()
	if len(summary) > checks.MaxSummary {
		cut := checks.MaxSummary - 3
		for cut > 0 && !utf8.RuneStart(summary[cut]) {
			cut--
		}
		summary = summary[:cut] + "…"
	}
	opt := github.UpdateCheckRunOptions{
		Name:        checks.CheckName,
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: &github.Timestamp{Time: time.Now()},
		Output:      &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
		Actions:     checkRunActions(conclusion),
	}
	if u := e.detailsURL(job, head); u != "" {
		opt.DetailsURL = github.String(u)
	} else if conclusion == string(checks.ActionRequired) {
		// GitHub refuses action_required without a details_url; where the
		// action is taken is the pull request itself.
		opt.DetailsURL = github.String(prURL)
	}
	digest := sha256.Sum256([]byte(conclusion + "\x00" + title + "\x00" + summary + "\x00" + opt.GetDetailsURL()))

	full := job.Owner + "/" + job.Repo
	ctx, unlock, err := e.lockHead(ctx, full, head)
	if err != nil {
		return err
	}
	defer unlock()
	rs, _, err := e.stores.CheckRuns.CheckRun(ctx, full, head)
	if err != nil {
		return fmt.Errorf("reading the check-run record: %w", err)
	}
	if rs.ID == 0 {
		rs = run // the record was lost since run returned
	}
	record := func(r state.CheckRun) {
		if err := e.stores.CheckRuns.PutCheckRun(ctx, full, head, r); err != nil {
			// GitHub shows what it shows; the record only saves a lookup or a write.
			log.Warn("could not write the check-run record", "err", err)
		}
	}
	// The sweep compares completed_at with the pull request's updated_at, in
	// whole seconds: a sweep's evaluation always writes, so that a check
	// completed in the same second as the change it judged (or stamped by a
	// clock behind GitHub's) is judged once more, not on every sweep.
	if rs.Status == "completed" && rs.Conclusion == conclusion && rs.Digest == digest && !strings.HasPrefix(job.Reason, "sweep") && e.opt.Fence == nil {
		log.Debug("check run already says this; not written again", "check_run", rs.ID)
		return nil
	}
	// A completed run's conclusion is final on GitHub: a different one is
	// published as a new run of the same name, which GitHub then shows.
	renew := rs.Status == "completed" && rs.Conclusion != conclusion
	var shown *github.CheckRun
	err = e.fencedWrite(ctx, job, conclusion, log, func(ctx context.Context) error {
		var err error
		if renew {
			shown, _, err = client.Checks.CreateCheckRun(ctx, job.Owner, job.Repo, github.CreateCheckRunOptions{
				Name: opt.Name, HeadSHA: head, DetailsURL: opt.DetailsURL, Status: opt.Status, Conclusion: opt.Conclusion,
				StartedAt: &github.Timestamp{Time: rs.StartedAt}, CompletedAt: opt.CompletedAt, Output: opt.Output, Actions: opt.Actions,
			})
			return err
		}
		shown, _, err = client.Checks.UpdateCheckRun(ctx, job.Owner, job.Repo, rs.ID, opt)
		return err
	})
	if errors.Is(err, errSuperseded) {
		return err
	}
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == 404 || er.Response.StatusCode == 422) {
			// The run is gone (deleted suite), or GitHub refused to change
			// it (completed meanwhile, e.g. by another replica): read the
			// latest run back next time.
			rs.ID, rs.Status, rs.Conclusion = 0, "", ""
		}
		rs.Digest = [32]byte{}
		record(rs)
		return err
	}
	if renew {
		log.Info("conclusion changed: published as a new check run", "from", rs.Conclusion, "to", conclusion, "check_run", shown.GetID())
	}
	rs = shownRun(rs, shown)
	if rs.Status != "completed" || rs.Conclusion != conclusion {
		// GitHub shows something else than was written: do not trust the record.
		rs.ID, rs.Status, rs.Conclusion = 0, "", ""
		record(rs)
		return fmt.Errorf("the check run shows %s/%s after writing %s", shown.GetStatus(), shown.GetConclusion(), conclusion)
	}
	rs.Digest = digest
	record(rs)
	return nil
}

func (e *Evaluator) detailsURL(job server.Job, head string) string {
	if !e.opt.DetailsURL || e.opt.PublicURL == "" {
		return ""
	}
	u := strings.TrimSuffix(e.opt.PublicURL, "/") + "/details/" + url.PathEscape(job.Owner) + "/" + url.PathEscape(job.Repo) + "/" + strconv.Itoa(job.Number) + "/" + head
	if e.opt.DetailsToken != nil {
		u += "?token=" + url.QueryEscape(e.opt.DetailsToken(job.Owner, job.Repo, job.Number, head))
	}
	return u
}

// OpenPullRequests lists a repository's open pull requests as jobs.
func (e *Evaluator) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	client, err := e.client(installation)
	if err != nil {
		return nil, err
	}
	var jobs []server.Job
	opt := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, opt)
		if err != nil {
			return nil, fmt.Errorf("listing open pull requests of %s/%s: %s", owner, repo, ghapp.Reason(err))
		}
		for _, pr := range prs {
			jobs = append(jobs, server.Job{
				Installation: installation, Owner: owner, Repo: repo, Number: pr.GetNumber(),
				HeadSHA: pr.GetHead().GetSHA(), Reason: "resync",
			})
		}
		if resp.NextPage == 0 {
			return jobs, nil
		}
		opt.Page = resp.NextPage
	}
}

// InstallationRepos lists the "owner/name" repositories an installation covers.
func (e *Evaluator) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	client, err := e.client(installation)
	if err != nil {
		return nil, err
	}
	var out []string
	opt := &github.ListOptions{PerPage: 100}
	for {
		res, resp, err := client.Apps.ListRepos(ctx, opt)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of installation %d: %s", installation, ghapp.Reason(err))
		}
		for _, r := range res.Repositories {
			out = append(out, r.GetFullName())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}
