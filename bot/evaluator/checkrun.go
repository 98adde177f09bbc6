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

	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

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

// run returns the check run of a head, creating it in_progress when there is
// none. The latest run of the name from this app (what GitHub's required
// check reads) is looked up once per head and cached; the lookup is skipped
// for a newHead this process has not met before (a failed create leaves the
// head known, so it is looked up next time). GitHub does not let a completed
// run change its status or conclusion, so when the latest run says success a
// new in_progress run replaces it before the head is judged again: a
// re-evaluation that dies half-way never leaves a stale pass behind. Every
// run of a head carries the started_at of the first, when Countersign first
// saw the head, to which commands are bound when no move to the head is
// recorded (commandsSince).
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
		title, summary := checks.InProgress(rs.ID != 0)
		if rs.StartedAt.IsZero() {
			rs.StartedAt = time.Now()
		}
		cr, _, err := client.Checks.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{
			Name:       checks.CheckName,
			HeadSHA:    head,
			Status:     github.String("in_progress"),
			StartedAt:  &github.Timestamp{Time: rs.StartedAt},
			ExternalID: github.String(checks.RunMarker{State: checks.MarkEvaluating}.String()),
			Output:     &github.CheckRunOutput{Title: github.String(title), Summary: github.String(summary)},
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
	out := state.CheckRun{ID: cr.GetID(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), StartedAt: rs.StartedAt, Writes: rs.Writes}
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
		ExternalID:  github.String(checks.MarkerOf(v).String()),
	}
	if u := e.detailsURL(job, head); u != "" {
		opt.DetailsURL = github.String(u)
	} else if conclusion == string(checks.ActionRequired) {
		// GitHub refuses action_required without a details_url; where the
		// action is taken is the pull request itself.
		opt.DetailsURL = github.String(prURL)
	}
	digest := sha256.Sum256([]byte(conclusion + "\x00" + title + "\x00" + summary + "\x00" + opt.GetDetailsURL() + "\x00" + opt.GetExternalID()))

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
	if v.Conclusion == checks.Success && rs.Writes != run.Writes {
		// Another pull request at this head published a verdict while this
		// evaluation judged it (and the others at the head, on what they
		// were then): its pass may rest on facts that verdict saw change.
		return errJudgedMeanwhile
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
				StartedAt: &github.Timestamp{Time: rs.StartedAt}, CompletedAt: opt.CompletedAt, Output: opt.Output, Actions: opt.Actions, ExternalID: opt.ExternalID,
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
		if errors.Is(err, server.ErrEvaluateAgain) || errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == 404 || er.Response.StatusCode == 422) {
			// The run is gone (deleted suite), GitHub refused to change it
			// (completed meanwhile, e.g. by another replica), or the write
			// may have landed after another replica's (a new run, or none):
			// read the latest run back next time.
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
	rs.Writes++
	record(rs)
	return nil
}

// errJudgedMeanwhile is publish's refusal to write a pass over a verdict
// another evaluation of the head published after this one began; the work
// fails and is retried, judging again on fresh facts.
var errJudgedMeanwhile = errors.New("another pull request at this head published a verdict while this one was judged; judging again")

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
