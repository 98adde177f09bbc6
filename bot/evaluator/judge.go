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

// voidComment records that a comment was edited, so its commands never
// count: GitHub's timestamps have one second of precision, so an edit
// within the second the comment was written shows no change in updated_at.
func (e *Evaluator) voidComment(ctx context.Context, owner, repo string, id int64) error {
	return e.stores.EditedComments.MarkEdited(ctx, owner+"/"+repo, id, time.Now())
}

// judged is a pull request evaluated now, without publishing anything.
type judged struct {
	pc pull.Context
	pr *pull.PR
	g  *pull.Gathered
	v  *checks.Verdict
}

// judge gathers the facts of the job's pull request and evaluates them, as
// Evaluate does, but publishes nothing and creates no check run: a command
// is answered from it while the pull request's own evaluation publishes.
func (e *Evaluator) judge(ctx context.Context, client *github.Client, job server.Job) (*judged, error) {
	job.Snapshot = nil
	pc := e.newContext(client, job)
	pr, err := pc.PR(ctx)
	if err != nil {
		return nil, err
	}
	seen, err := e.headSeen(ctx, client, job.Owner, job.Repo, pr.HeadSHA)
	if err != nil {
		return nil, err
	}
	opts, err := e.gatherOptions(ctx, client, job, pr, seen)
	if err != nil {
		return nil, err
	}
	g, gerr := pull.Gather(ctx, pc, opts)
	var pe *pull.PolicyError
	var v *checks.Verdict
	switch {
	case errors.As(gerr, &pe):
		v = checks.Invalid(pe.Err, pe.Source, g.Facts)
	case gerr != nil:
		return nil, gerr
	default:
		v = g.Compiled.Evaluate(g.Facts)
	}
	return &judged{pc: pc, pr: pr, g: g, v: v}, nil
}

// headSeen returns when Countersign first saw a head: the start of its
// check run there, from the cache or GitHub. It creates nothing; with no
// check run yet it returns the zero time (every comment is then stale).
func (e *Evaluator) headSeen(ctx context.Context, client *github.Client, owner, repo, head string) (time.Time, error) {
	rs, ok, err := e.stores.CheckRuns.CheckRun(ctx, owner+"/"+repo, head)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the check-run record: %w", err)
	}
	if ok && rs.ID != 0 {
		return rs.StartedAt, nil
	}
	found, err := e.findRun(ctx, client, owner, repo, head)
	if err != nil {
		return time.Time{}, errors.New(ghapp.Reason(err))
	}
	return found.GetStartedAt().Time, nil
}
