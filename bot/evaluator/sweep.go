package evaluator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

var (
	_ server.Sweeper     = (*Evaluator)(nil)
	_ server.Redeliverer = (*Evaluator)(nil)
)

func (e *Evaluator) app() (*ghapp.App, error) {
	if e.opt.App == nil {
		return nil, errors.New("evaluator: no GitHub App configured")
	}
	return e.opt.App, nil
}

// Installations lists the app's unsuspended installation ids.
func (e *Evaluator) Installations(ctx context.Context) ([]int64, error) {
	a, err := e.app()
	if err != nil {
		return nil, err
	}
	return a.Installations(ctx)
}

// RateBudget returns what GitHub last said of an installation's primary rate limit.
func (e *Evaluator) RateBudget(installation int64) (remaining, limit int, known bool) {
	if e.opt.App == nil {
		return 0, 0, false
	}
	rl, ok := e.opt.App.RateLimit(installation)
	if !ok || (!rl.Reset.IsZero() && !rl.Reset.After(time.Now())) {
		return 0, 0, false // unknown, or the window has reset since
	}
	return rl.Remaining, rl.Limit, true
}

// StalePullRequests lists the repository's open pull requests whose
// countersign check run on the current head is missing, not completed,
// completed before the pull request last changed, or judged under another
// policy file (or CODEOWNERS file, when the policy uses code owners) than
// the one now at the tip of its base branch. The listings and the base
// files' reads (once per base branch per sweep) are conditional requests,
// so a sweep of unchanged pull requests is answered with 304s, which GitHub
// does not charge.
func (e *Evaluator) StalePullRequests(ctx context.Context, installation int64, owner, repo string) ([]server.Job, error) {
	client, err := e.client(installation)
	if err != nil {
		return nil, err
	}
	var prs []*github.PullRequest
	opt := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := client.PullRequests.List(ctx, owner, repo, opt)
		if err != nil {
			return nil, fmt.Errorf("listing open pull requests of %s/%s: %s", owner, repo, ghapp.Reason(err))
		}
		prs = append(prs, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var jobs []server.Job
	bases := map[string]pull.BaseFiles{}
	for _, pr := range prs {
		head := pr.GetHead().GetSHA()
		if head == "" {
			continue
		}
		branch := pr.GetBase().GetRef()
		base := func(owners bool) (pull.BaseFiles, error) {
			bf, ok := bases[branch]
			if ok && (!owners || bf.CodeOwners != "") {
				return bf, nil
			}
			bf, err := pull.ReadBaseFiles(ctx, client, owner, repo, branch, owners)
			if err != nil {
				return bf, err
			}
			bases[branch] = bf
			return bf, nil
		}
		why, err := e.staleness(ctx, client, owner, repo, head, pr.GetUpdatedAt().Time, base)
		if err != nil {
			return jobs, err
		}
		if why == "" {
			continue
		}
		jobs = append(jobs, server.Job{Installation: installation, Owner: owner, Repo: repo,
			Number: pr.GetNumber(), HeadSHA: head, Reason: "sweep: " + why})
	}
	return jobs, nil
}

// staleness says why a head's check run needs a new evaluation, or "".
// base reads the files at the tip of the pull request's base branch (with
// owners, CODEOWNERS too).
func (e *Evaluator) staleness(ctx context.Context, client *github.Client, owner, repo, head string, updated time.Time, base func(owners bool) (pull.BaseFiles, error)) (string, error) {
	opt := &github.ListCheckRunsOptions{CheckName: github.String(checks.CheckName), Filter: github.String("latest"), ListOptions: github.ListOptions{PerPage: 100}}
	appID := int64(0)
	if e.opt.App != nil {
		appID = e.opt.App.ID()
		opt.AppID = github.Int64(appID)
	}
	res, _, err := client.Checks.ListCheckRunsForRef(ctx, owner, repo, head, opt)
	if err != nil {
		return "", fmt.Errorf("listing the check runs of %s/%s@%.7s: %s", owner, repo, head, ghapp.Reason(err))
	}
	var latest *github.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() != checks.CheckName || cr.GetHeadSHA() != head || (appID != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != appID) {
			continue
		}
		if latest == nil || cr.GetID() > latest.GetID() {
			latest = cr
		}
	}
	switch {
	case latest == nil:
		return "no check run on the head", nil
	case latest.GetStatus() != "completed":
		return "check run " + latest.GetStatus(), nil
	}
	// The run's external_id says what it showed (checks.RunMarker); a run
	// without a marker this version can read is evaluated again.
	marker, ok := checks.ParseMarker(latest.GetExternalID())
	switch {
	case !ok:
		return "check run without a readable marker", nil
	case marker.State == checks.MarkIncomplete || marker.State == checks.MarkEvaluating:
		return "check run could not evaluate", nil
	case !latest.GetCompletedAt().Time.Truncate(time.Second).After(updated):
		// Both are stamped by GitHub in whole seconds: a change in the same
		// second as the verdict may have come after it.
		return "check run older than the pull request's last change", nil
	case !marker.Files:
		return "check run's marker does not record the policy file it was judged under", nil
	}
	// The policy and CODEOWNERS are read at the base branch's tip: a push
	// that changed them, whose delivery was lost or whose work died with a
	// process, leaves verdicts judged under the old ones.
	bf, err := base(marker.CodeOwners != "")
	if err != nil {
		return "", fmt.Errorf("%s/%s: %s", owner, repo, ghapp.Reason(err))
	}
	switch {
	case bf.PolicyBlob != marker.PolicyBlob:
		return "the base branch's policy file changed since the check run was judged", nil
	case marker.CodeOwners != "" && bf.CodeOwners != marker.CodeOwners:
		return "the base branch's CODEOWNERS changed since the check run was judged", nil
	}
	return "", nil
}

// HookDeliveries lists the app's webhook delivery attempts made at or after since, newest first.
func (e *Evaluator) HookDeliveries(ctx context.Context, since time.Time) ([]server.HookDelivery, error) {
	a, err := e.app()
	if err != nil {
		return nil, err
	}
	ds, err := a.HookDeliveries(ctx, since)
	out := make([]server.HookDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, server.HookDelivery{ID: d.GetID(), GUID: d.GetGUID(), Event: d.GetEvent(), Action: d.GetAction(),
			Status: d.GetStatus(), StatusCode: d.GetStatusCode(), DeliveredAt: d.GetDeliveredAt().Time})
	}
	return out, err
}

// Redeliver asks GitHub to deliver a webhook delivery again.
func (e *Evaluator) Redeliver(ctx context.Context, id int64) error {
	a, err := e.app()
	if err != nil {
		return err
	}
	return a.Redeliver(ctx, id)
}
