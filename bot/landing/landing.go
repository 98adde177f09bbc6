// Package landing is the GitHub side of the landing record: it gathers the
// facts of a push to a protected branch (the commits new to it, the merged
// pull requests that introduced them and their countersign check runs),
// has checks.Account judge them, writes the countersign/landing check run on
// the pushed head, raises the bypass alarm (an issue labelled
// countersign:bypass, an audit log line and a metric) for a change that
// landed without countersignature, and answers deployment protection rule
// requests from those records. It implements server.Landing.
package landing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/promreg"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits of one push's accounting.
const (
	// maxPushCommits is how many commits GitHub lists in a push payload at most.
	maxPushCommits = 2048
	// maxLookups bounds the commits/{sha}/pulls look-ups of one push; a push
	// needing more is recorded as a failure saying so.
	maxLookups = 250
)

// Options configures a Recorder.
type Options struct {
	// App is the authenticated GitHub App.
	App *ghapp.App
	// Logger receives logs, the audit lines among them; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
}

// Recorder writes landing records and answers the deploy gate.
type Recorder struct {
	opt    Options
	log    *slog.Logger
	bypass prometheus.Counter
	// client returns the installation's client; tests swap it.
	client func(installation int64) (*github.Client, error)
}

var _ server.Landing = (*Recorder)(nil)

// New returns a Recorder.
func New(o Options) *Recorder {
	r := &Recorder{opt: o, log: o.Logger}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.bypass = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "countersign_bypass_total",
		Help: "Pushes to a protected branch that landed a change without countersignature (each counted once, when its bypass alarm is raised).",
	})
	if o.Registerer != nil {
		r.bypass = promreg.Register(o.Registerer, r.bypass)
	}
	r.client = func(inst int64) (*github.Client, error) {
		if r.opt.App == nil {
			return nil, errors.New("landing: no GitHub App configured")
		}
		return r.opt.App.Client(inst)
	}
	return r
}

func (r *Recorder) appID() int64 {
	if r.opt.App == nil {
		return 0
	}
	return r.opt.App.ID()
}

// Record accounts for a push to a protected branch and writes its record.
func (r *Recorder) Record(ctx context.Context, job server.PushJob) error {
	log := r.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "branch", job.Branch,
		"head_sha", job.After, "delivery", job.DeliveryID, "reason", job.Reason)
	client, err := r.client(job.Installation)
	if err != nil {
		return err
	}
	protected := job.Branch == job.DefaultBranch
	if !protected {
		// Which other branches are protected is read from the default
		// branch's policy: a branch cannot unprotect itself.
		p, perr := readPolicy(ctx, client, job.Owner, job.Repo, job.DefaultBranch, "")
		var pe *pull.PolicyError
		switch {
		case errors.As(perr, &pe):
			log.Info("the default branch's policy is invalid; pushes to other branches are not recorded", "err", pe.Err)
			return nil
		case perr != nil:
			return fmt.Errorf("reading the default branch's policy to tell whether %s is protected: %s", job.Branch, ghapp.Reason(perr))
		}
		protected = checks.ProtectedBranch(p, job.Branch, job.DefaultBranch)
	}
	if !protected {
		log.Debug("not a protected branch; no landing record")
		return nil
	}

	p, perr := readPolicy(ctx, client, job.Owner, job.Repo, job.Branch, job.After)
	var l *checks.Landing
	var pe *pull.PolicyError
	var gerr error
	switch {
	case errors.As(perr, &pe):
		l = checks.Account(config.Default(), &checks.Push{Repo: job.Owner + "/" + job.Repo, Branch: job.Branch, Before: job.Before, After: job.After,
			Pusher: job.Pusher, Sender: job.Sender, Incomplete: "the policy is invalid: " + pe.Err.Error()})
		l.Policy = pe.Source
	case perr != nil:
		gerr = fmt.Errorf("reading the policy at %s: %s", short(job.After), ghapp.Reason(perr))
		l = checks.Account(config.Default(), &checks.Push{Repo: job.Owner + "/" + job.Repo, Branch: job.Branch, Before: job.Before, After: job.After,
			Pusher: job.Pusher, Sender: job.Sender, Incomplete: gerr.Error()})
	default:
		push, err := r.gather(ctx, client, job)
		if err != nil {
			gerr = err
			push.Incomplete = err.Error()
		}
		l = checks.Account(p, push)
	}
	url, werr := r.write(ctx, client, job, l)
	if werr != nil {
		log.Warn("could not write the landing record", "conclusion", l.Conclusion, "err", ghapp.Reason(werr))
		return fmt.Errorf("writing the landing record on %s: %s", short(job.After), ghapp.Reason(werr))
	}
	log.Info("landing recorded", "conclusion", l.Conclusion, "title", l.Title)
	if gerr != nil {
		return gerr
	}
	if len(l.Unaccounted) == 0 {
		return nil
	}
	return r.alarm(ctx, client, job, p, l, url, log)
}

// alarm raises the bypass alarm for a push that landed commits without
// countersignature: the audit log line, the metric and, unless the policy
// says landing.alert: none, one issue per push (found again rather than
// opened twice on a redelivery or a re-run).
func (r *Recorder) alarm(ctx context.Context, client *github.Client, job server.PushJob, p *config.Policy, l *checks.Landing, recordURL string, log *slog.Logger) error {
	shas := make([]string, len(l.Unaccounted))
	for i, u := range l.Unaccounted {
		shas[i] = u.SHA
	}
	if p.Landing.AlertMode() == config.AlertNone {
		log.Warn("landed without countersignature", "audit", true, "pusher", job.Pusher, "sender", job.Sender, "commits", shas, "alert", "none")
		r.bypass.Inc()
		return nil
	}
	title := l.BypassTitle()
	existing, err := r.findIssue(ctx, client, job.Owner, job.Repo, title)
	if err != nil {
		return fmt.Errorf("looking for the bypass issue of %s: %s", short(job.After), ghapp.Reason(err))
	}
	if existing != nil {
		log.Info("bypass issue already open for this push", "issue", existing.GetNumber())
		return nil
	}
	is, _, err := client.Issues.Create(ctx, job.Owner, job.Repo, &github.IssueRequest{
		Title: github.String(title), Body: github.String(l.BypassBody(recordURL, p.Overrides.Teams, p.Overrides.Users)),
		Labels: &[]string{checks.BypassLabel},
	})
	if err != nil {
		return fmt.Errorf("opening the bypass issue of %s: %s", short(job.After), ghapp.Reason(err))
	}
	log.Warn("landed without countersignature", "audit", true, "pusher", job.Pusher, "sender", job.Sender, "commits", shas, "issue", is.GetNumber())
	r.bypass.Inc()
	return nil
}

// findIssue returns the app's bypass issue titled title, if there is one.
func (r *Recorder) findIssue(ctx context.Context, client *github.Client, owner, repo, title string) (*github.Issue, error) {
	opt := &github.IssueListByRepoOptions{State: "all", Labels: []string{checks.BypassLabel}, ListOptions: github.ListOptions{PerPage: 100}}
	for range 20 {
		list, resp, err := client.Issues.ListByRepo(ctx, owner, repo, opt)
		if err != nil {
			return nil, err
		}
		for _, is := range list {
			if is.IsPullRequest() || is.GetTitle() != title {
				continue
			}
			if is.GetUser().GetType() != "Bot" {
				continue // a person's issue of that title is not the alarm
			}
			return is, nil
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opt.Page = resp.NextPage
	}
	return nil, fmt.Errorf("more than 2000 %s issues to look through", checks.BypassLabel)
}

// write creates the countersign/landing check run on the pushed head and
// returns its web address.
func (r *Recorder) write(ctx context.Context, client *github.Client, job server.PushJob, l *checks.Landing) (string, error) {
	text, err := l.Text()
	if err != nil {
		text = "The machine-readable record was too long to keep: " + err.Error()
	}
	conclusion := string(l.Conclusion)
	if l.Conclusion != checks.Success {
		conclusion = string(checks.Failure)
	}
	cr, _, err := client.Checks.CreateCheckRun(ctx, job.Owner, job.Repo, github.CreateCheckRunOptions{
		Name:        checks.LandingCheckName,
		HeadSHA:     job.After,
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: &github.Timestamp{Time: time.Now()},
		Output: &github.CheckRunOutput{
			Title:   github.String(clip(l.Title, checks.MaxTitleRunes)),
			Summary: github.String(l.Markdown()),
			Text:    github.String(text),
		},
	})
	if err != nil {
		return "", err
	}
	return cr.GetHTMLURL(), nil
}

// gather reads the facts of a push: its new commits (from the payload, or
// the comparison when the payload cannot tell), the merged pull requests
// that introduced them and their countersign check runs. On an error the
// returned push holds what was known.
func (r *Recorder) gather(ctx context.Context, client *github.Client, job server.PushJob) (*checks.Push, error) {
	push := &checks.Push{Repo: job.Owner + "/" + job.Repo, Branch: job.Branch, Before: job.Before, After: job.After,
		Pusher: job.Pusher, Sender: job.Sender, PRs: map[int]*checks.MergedPR{}}
	commits, err := r.newCommits(ctx, client, job)
	if err != nil {
		return push, err
	}
	push.Commits = commits
	byPR := map[int]*github.PullRequest{}
	index := map[string]int{}
	for i, c := range commits {
		index[c.Commit.SHA] = i
	}
	lookups := 0
	for i := len(commits) - 1; i >= 0; i-- {
		if commits[i].PR != 0 {
			continue
		}
		if lookups == maxLookups {
			return push, fmt.Errorf("the push has more than %d commits to look up", maxLookups)
		}
		lookups++
		sha := commits[i].Commit.SHA
		pr, err := mergedPRFor(ctx, client, job, sha)
		if err != nil {
			return push, fmt.Errorf("listing the pull requests of %s: %s", short(sha), ghapp.Reason(err))
		}
		if pr == nil {
			continue
		}
		commits[i].PR = pr.GetNumber()
		if _, seen := byPR[pr.GetNumber()]; seen {
			continue
		}
		byPR[pr.GetNumber()] = pr
		if remainingUnassigned(commits[:i]) {
			// A merge commit brings the pull request's own commits along,
			// with their SHAs: one listing finds them all.
			own, err := prCommitSHAs(ctx, client, job, pr.GetNumber())
			if err != nil {
				return push, fmt.Errorf("listing the commits of #%d: %s", pr.GetNumber(), ghapp.Reason(err))
			}
			for _, s := range own {
				if j, ok := index[s]; ok && commits[j].PR == 0 {
					commits[j].PR = pr.GetNumber()
				}
			}
		}
	}
	for n, pr := range byPR {
		mp := &checks.MergedPR{
			PullRequest: detect.PullRequest{Number: n, AuthorLogin: pr.GetUser().GetLogin(), AuthorType: pr.GetUser().GetType(), AuthorID: pr.GetUser().GetID(),
				HeadRef: pr.GetHead().GetRef(), Title: pr.GetTitle(), Body: pr.GetBody()},
			HeadSHA: pr.GetHead().GetSHA(), URL: pr.GetHTMLURL(), MergedBy: pr.GetMergedBy().GetLogin(),
		}
		for _, lb := range pr.Labels {
			mp.Labels = append(mp.Labels, lb.GetName())
		}
		check, err := r.latestRun(ctx, client, job.Owner, job.Repo, mp.HeadSHA, checks.CheckName)
		if err != nil {
			return push, fmt.Errorf("reading the countersign check of #%d: %s", n, ghapp.Reason(err))
		}
		mp.Check = check
		push.PRs[n] = mp
	}
	return push, nil
}

func remainingUnassigned(cs []checks.LandedCommit) bool {
	return slices.ContainsFunc(cs, func(c checks.LandedCommit) bool { return c.PR == 0 })
}

// mergedPRFor returns the merged pull request into the branch that
// introduced sha, as commits/{sha}/pulls lists it, or nil.
func mergedPRFor(ctx context.Context, client *github.Client, job server.PushJob, sha string) (*github.PullRequest, error) {
	prs, _, err := client.PullRequests.ListPullRequestsWithCommit(ctx, job.Owner, job.Repo, sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, err
	}
	var found *github.PullRequest
	for _, pr := range prs {
		if pr.MergedAt == nil || pr.GetBase().GetRef() != job.Branch {
			continue
		}
		if pr.GetMergeCommitSHA() == sha {
			return pr, nil
		}
		if found == nil {
			found = pr
		}
	}
	return found, nil
}

func prCommitSHAs(ctx context.Context, client *github.Client, job server.PushJob, number int) ([]string, error) {
	var out []string
	opt := &github.ListOptions{PerPage: 100}
	for {
		cs, resp, err := client.PullRequests.ListCommits(ctx, job.Owner, job.Repo, number, opt)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, c.GetSHA())
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// latestRun returns the newest check run named name that this app wrote on sha, or nil.
func (r *Recorder) latestRun(ctx context.Context, client *github.Client, owner, repo, sha, name string) (*checks.CheckResult, error) {
	found, err := r.latestRunText(ctx, client, owner, repo, sha, name)
	if err != nil || found == nil {
		return nil, err
	}
	return &checks.CheckResult{HeadSHA: found.GetHeadSHA(), Status: found.GetStatus(), Conclusion: found.GetConclusion(),
		Title: found.GetOutput().GetTitle(), Summary: found.GetOutput().GetSummary()}, nil
}

// latestRunText returns the newest check run named name that this app wrote on sha, or nil.
func (r *Recorder) latestRunText(ctx context.Context, client *github.Client, owner, repo, sha, name string) (*github.CheckRun, error) {
	opt := &github.ListCheckRunsOptions{CheckName: github.String(name), ListOptions: github.ListOptions{PerPage: 100}}
	if id := r.appID(); id != 0 {
		opt.AppID = github.Int64(id)
	}
	res, _, err := client.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, opt)
	if err != nil {
		return nil, err
	}
	var found *github.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() != name || cr.GetHeadSHA() != sha {
			continue
		}
		if id := r.appID(); id != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != id {
			continue
		}
		if found == nil || cr.GetID() > found.GetID() {
			found = cr
		}
	}
	return found, nil
}

// newCommits lists the commits the push brought to the branch, oldest
// first. The payload lists them with their files unless it was cut at
// GitHub's limit; a forced push or a new branch is compared instead, and
// each commit read for its files.
func (r *Recorder) newCommits(ctx context.Context, client *github.Client, job server.PushJob) ([]checks.LandedCommit, error) {
	fromPayload := len(job.Commits) < maxPushCommits && !job.Forced && !(job.Created && job.Branch != job.DefaultBranch)
	if len(job.Commits) == 0 && job.Before != job.After {
		fromPayload = false
	}
	if fromPayload {
		out := make([]checks.LandedCommit, 0, len(job.Commits))
		for _, c := range job.Commits {
			out = append(out, payloadCommit(c))
		}
		return out, nil
	}
	base := job.Before
	if job.Created || strings.Trim(base, "0") == "" {
		base = job.DefaultBranch
	}
	if job.Created && job.Branch == job.DefaultBranch {
		return nil, errors.New("the first push to the default branch has no earlier commit to compare with")
	}
	cmp, _, err := client.Repositories.CompareCommits(ctx, job.Owner, job.Repo, base, job.After, &github.ListOptions{PerPage: 250})
	if err != nil {
		return nil, fmt.Errorf("comparing %s with %s: %s", short(base), short(job.After), ghapp.Reason(err))
	}
	if cmp.GetTotalCommits() > len(cmp.Commits) {
		return nil, fmt.Errorf("the push brought %d commits, beyond the %d GitHub lists in a comparison", cmp.GetTotalCommits(), len(cmp.Commits))
	}
	out := make([]checks.LandedCommit, 0, len(cmp.Commits))
	for _, rc := range cmp.Commits {
		full, _, err := client.Repositories.GetCommit(ctx, job.Owner, job.Repo, rc.GetSHA(), &github.ListOptions{PerPage: 300})
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: %s", short(rc.GetSHA()), ghapp.Reason(err))
		}
		lc := checks.LandedCommit{Commit: repoCommit(full)}
		for _, f := range full.Files {
			lc.Files = append(lc.Files, checks.File{Path: f.GetFilename(), PreviousPath: f.GetPreviousFilename(), Status: f.GetStatus(),
				Additions: f.GetAdditions(), Deletions: f.GetDeletions()})
		}
		out = append(out, lc)
	}
	return out, nil
}

func payloadCommit(c *github.HeadCommit) checks.LandedCommit {
	lc := checks.LandedCommit{Commit: detect.Commit{
		SHA: c.GetID(), AuthorName: c.GetAuthor().GetName(), AuthorEmail: c.GetAuthor().GetEmail(), AuthorLogin: c.GetAuthor().GetLogin(),
		CommitterName: c.GetCommitter().GetName(), CommitterEmail: c.GetCommitter().GetEmail(), CommitterLogin: c.GetCommitter().GetLogin(),
		Message: c.GetMessage(), Parents: 1,
	}}
	for _, p := range c.Added {
		lc.Files = append(lc.Files, checks.File{Path: p, Status: checks.StatusAdded})
	}
	for _, p := range c.Removed {
		lc.Files = append(lc.Files, checks.File{Path: p, Status: checks.StatusRemoved})
	}
	for _, p := range c.Modified {
		lc.Files = append(lc.Files, checks.File{Path: p, Status: checks.StatusModified})
	}
	return lc
}

func repoCommit(rc *github.RepositoryCommit) detect.Commit {
	c := rc.GetCommit()
	return detect.Commit{
		SHA: rc.GetSHA(), AuthorName: c.GetAuthor().GetName(), AuthorEmail: c.GetAuthor().GetEmail(), AuthorLogin: rc.GetAuthor().GetLogin(),
		CommitterName: c.GetCommitter().GetName(), CommitterEmail: c.GetCommitter().GetEmail(), CommitterLogin: rc.GetCommitter().GetLogin(),
		Message: c.GetMessage(), Verified: c.GetVerification().GetVerified(), Parents: len(rc.Parents),
	}
}

// readPolicy reads the policy file at ref (a commit, or "" with branch for
// the branch's tip); a repository without one falls back to its
// organization's, or the built-in default, as pull requests do.
func readPolicy(ctx context.Context, client *github.Client, owner, repo, branch, ref string) (*config.Policy, error) {
	at := ref
	if at == "" {
		at = branch
	}
	fc, _, _, err := client.Repositories.GetContents(ctx, owner, repo, config.FileName, &github.RepositoryContentGetOptions{Ref: at})
	src := config.Source{Repo: owner + "/" + repo, Path: config.FileName, Ref: branch, SHA: ref}
	if err == nil {
		if fc == nil {
			return nil, &pull.PolicyError{Source: src, Err: fmt.Errorf("%s: is a directory, not a file", config.FileName)}
		}
		data, err := fc.GetContent()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.FileName, err)
		}
		p, err := config.Parse(config.FileName, []byte(data))
		if err != nil {
			return nil, &pull.PolicyError{Source: src, Err: err}
		}
		p.Source = src
		return p, nil
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusNotFound {
		return nil, err
	}
	// No policy file of its own: the lookup pull requests use (the
	// .yaml mistake, the organization's policy, the built-in default),
	// at the branch's tip.
	head := at
	g := pull.NewGitHub(pull.GitHubOptions{Client: client, Owner: owner, Repo: repo, Number: 0,
		Snapshot: &github.PullRequest{Head: &github.PullRequestBranch{SHA: github.String(head), Ref: github.String(branch)},
			Base: &github.PullRequestBranch{SHA: github.String(head), Ref: github.String(branch)}, State: github.String("open")}})
	return g.Policy(ctx)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func clip(s string, runes int) string {
	r := []rune(s)
	if len(r) <= runes {
		return s
	}
	return string(r[:runes-1]) + "…"
}

// callbackPath checks that a deployment_callback_url is the API's own review
// endpoint for this repository, so the installation token goes nowhere else.
func callbackPath(client *github.Client, owner, repo, callback string) (string, error) {
	u, err := url.Parse(callback)
	if err != nil {
		return "", fmt.Errorf("deployment_callback_url %q: %w", callback, err)
	}
	base := client.BaseURL
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || !strings.HasPrefix(u.Path, base.Path) {
		return "", fmt.Errorf("deployment_callback_url %q is not on the API at %s", callback, base.String())
	}
	rel := strings.TrimPrefix(u.Path, base.Path)
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	if len(segs) != 7 || segs[0] != "repos" || !strings.EqualFold(segs[1], owner) || !strings.EqualFold(segs[2], repo) ||
		segs[3] != "actions" || segs[4] != "runs" || strings.Trim(segs[5], "0123456789") != "" || segs[5] == "" || segs[6] != "deployment_protection_rule" {
		return "", fmt.Errorf("deployment_callback_url %q is not %s/%s's deployment protection rule endpoint", callback, owner, repo)
	}
	return rel, nil
}
