package evaluator

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// unedited is a pull request's facts with edited comments left out: a
// `/countersign approve` or `override` that was edited after it was written
// is void, so it can never count, whatever it says now.
type unedited struct {
	*pull.GitHub
	client      *github.Client
	owner, repo string
	number      int
	voided      *pull.Cache

	once     sync.Once
	comments []pull.Comment
	err      error
}

// withoutEdited wraps a pull request's facts so that edited comments are
// dropped: those GitHub shows as updated after they were written, and those
// an issue_comment.edited delivery named (GitHub's timestamps have one
// second of precision, so an edit within the second shows no change).
func (e *Evaluator) withoutEdited(g *pull.GitHub, client *github.Client, job server.Job) pull.Context {
	return &unedited{GitHub: g, client: client, owner: job.Owner, repo: job.Repo, number: job.Number, voided: e.cache}
}

// voidKey is the cache key recording that a comment was edited.
func voidKey(owner, repo string, id int64) string {
	return "edited-comment\x00" + strings.ToLower(owner+"/"+repo) + "\x00" + strconv.FormatInt(id, 10)
}

// voidComment records that a comment was edited, so its commands never count.
func (e *Evaluator) voidComment(owner, repo string, id int64) {
	e.cache.Put(voidKey(owner, repo, id), true)
}

// Comments lists the issue comments that were never edited, oldest first.
func (u *unedited) Comments(ctx context.Context) ([]pull.Comment, error) {
	u.once.Do(func() {
		opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for {
			cs, resp, err := u.client.Issues.ListComments(ctx, u.owner, u.repo, u.number, opt)
			if err != nil {
				u.err = err
				return
			}
			for _, c := range cs {
				if _, void := u.voided.Get(voidKey(u.owner, u.repo, c.GetID())); void || edited(c) {
					continue
				}
				u.comments = append(u.comments, pull.Comment{ID: c.GetID(), Login: c.GetUser().GetLogin(),
					UserType: c.GetUser().GetType(), Body: c.GetBody(), CreatedAt: c.GetCreatedAt().Time})
			}
			if resp.NextPage == 0 {
				return
			}
			opt.Page = resp.NextPage
		}
	})
	return u.comments, u.err
}

// edited reports whether a comment was changed after it was written.
func edited(c *github.IssueComment) bool {
	return c.UpdatedAt != nil && c.CreatedAt != nil && c.GetUpdatedAt().After(c.GetCreatedAt().Time)
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
	g, gerr := pull.Gather(ctx, pc, pull.GatherOptions{HeadSeenAt: e.commandsSince(job, pr, seen)})
	var pe *pull.PolicyError
	var v *checks.Verdict
	switch {
	case errors.As(gerr, &pe):
		v = checks.Invalid(pe.Err, pe.Source, g.Facts)
	case gerr != nil:
		return nil, gerr
	default:
		v = checks.Evaluate(g.Policy, g.Facts)
	}
	return &judged{pc: pc, pr: pr, g: g, v: v}, nil
}

// headSeen returns when Countersign first saw a head: the start of its
// check run there, from the cache or GitHub. It creates nothing; with no
// check run yet it returns the zero time (every comment is then stale).
func (e *Evaluator) headSeen(ctx context.Context, client *github.Client, owner, repo, head string) (time.Time, error) {
	if v, ok := e.runs.Get(owner + "/" + repo + "@" + head); ok {
		rs := v.(*runState)
		rs.mu.Lock()
		id, at := rs.id, rs.startedAt
		rs.mu.Unlock()
		if id != 0 {
			return at, nil
		}
	}
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
		return time.Time{}, errors.New(ghapp.Reason(err))
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
	return found.GetStartedAt().Time, nil
}
