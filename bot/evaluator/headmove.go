package evaluator

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// headMovedAt returns when the pull request last moved to its current head:
// a `/countersign` comment written before then was written for another head
// (possibly the same head before a force-push away and back) and is stale.
//
// It is the updated_at of a pull_request.opened or synchronize delivery that
// carries the current head, else what the HeadMoves store recorded when the
// pull request was first observed at this head. When the store has it at
// another head, or not at all (a restart of an in-memory store, an evicted
// record), it cannot tell when the head last moved and takes the pull
// request's updated_at, which is never earlier than the last push:
// conservative, since every later change (a comment too) moves it, so a
// command written before the first evaluation after a restart must be
// written again. With an in-memory store the record is per process:
// replicas that did not observe an intermediate head rely on the
// synchronize delivery's timestamp.
func (e *Evaluator) headMovedAt(ctx context.Context, job server.Job, pr *pull.PR) (time.Time, error) {
	full := job.Owner + "/" + job.Repo
	var at time.Time
	if s := job.Snapshot; s != nil && s.GetHead().GetSHA() == pr.HeadSHA &&
		(job.Reason == "pull_request.synchronize" || job.Reason == "pull_request.opened") {
		at = s.GetUpdatedAt().Time
	}
	hm, known, err := e.stores.HeadMoves.HeadMove(ctx, full, job.Number)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the head-move record: %w", err)
	}
	switch {
	case known && hm.Head == pr.HeadSHA:
		if hm.At.After(at) {
			at = hm.At
		}
	case at.IsZero():
		at = pr.UpdatedAt
		if at.IsZero() {
			at = time.Now()
		}
	}
	if !known || hm.Head != pr.HeadSHA || !hm.At.Equal(at) {
		if err := e.stores.HeadMoves.PutHeadMove(ctx, full, job.Number, state.HeadMove{Head: pr.HeadSHA, At: at}); err != nil {
			return time.Time{}, fmt.Errorf("writing the head-move record: %w", err)
		}
	}
	return at, nil
}

// commandsSince is the time after which a comment applies to the current
// head: the later of when Countersign first saw the head (its check run's
// start; zero makes every comment stale) and when the pull request last
// moved to it.
func (e *Evaluator) commandsSince(ctx context.Context, job server.Job, pr *pull.PR, runStart time.Time) (time.Time, error) {
	if runStart.IsZero() {
		return time.Time{}, nil
	}
	moved, err := e.headMovedAt(ctx, job, pr)
	if err != nil {
		return time.Time{}, err
	}
	if moved.After(runStart) {
		return moved, nil
	}
	return runStart, nil
}

// headPulls returns the numbers of the open pull requests whose head is sha;
// self is the open pull request being evaluated, which is at sha.
//
// It asks commits/{sha}/pulls first, but GitHub lists open pull requests
// there only when the commit is not on the default branch (for one that is,
// only the merged pull request that introduced it). So when the answer
// leaves out self, the endpoint did not list the open ones, and headPulls
// lists the repository's open pull requests instead, keeping those at sha.
func headPulls(ctx context.Context, client *github.Client, owner, repo, sha string, self int) ([]int, error) {
	var out []int
	listed := false
	opt := &github.ListOptions{PerPage: 100}
	for {
		prs, resp, err := client.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, opt)
		if err != nil {
			return nil, err
		}
		for _, p := range prs {
			if p.GetState() == "open" && p.GetHead().GetSHA() == sha {
				out = append(out, p.GetNumber())
				listed = listed || p.GetNumber() == self
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if listed {
		return out, nil
	}
	out = nil
	lopt := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, lopt)
		if err != nil {
			return nil, fmt.Errorf("listing the open pull requests: %w", err)
		}
		for _, p := range prs {
			if p.GetState() == "open" && p.GetHead().GetSHA() == sha {
				out = append(out, p.GetNumber())
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		lopt.Page = resp.NextPage
	}
}

// severity orders conclusions: a check run on a shared head shows the worst.
func severity(c checks.Conclusion) int {
	switch c {
	case checks.Success:
		return 0
	case checks.ActionRequired:
		return 1
	}
	return 2
}

// sharedHead judges the other open pull requests whose head is head, each
// under its own base's policy, and returns the worst verdict among them and
// v: the check run attaches to the commit, so every pull request at that
// head reads it. It is called only before a pass is published. An error
// (the lookup or another pull request's facts) must not end in a pass.
func (e *Evaluator) sharedHead(ctx context.Context, client *github.Client, job server.Job, head string, v *checks.Verdict) (*checks.Verdict, error) {
	numbers, err := headPulls(ctx, client, job.Owner, job.Repo, head, job.Number)
	if err != nil {
		return nil, fmt.Errorf("listing the pull requests at %s: %s", short(head), ghapp.Reason(err))
	}
	worst, blocker := v, 0
	for _, n := range numbers {
		if n == job.Number {
			continue
		}
		j, err := e.judge(ctx, client, server.Job{Installation: job.Installation, Owner: job.Owner, Repo: job.Repo, Number: n,
			HeadSHA: head, Reason: job.Reason, DeliveryID: job.DeliveryID})
		if err != nil {
			return nil, fmt.Errorf("evaluating #%d, which shares the head %s: %s", n, short(head), ghapp.Reason(err))
		}
		if (j.pr.State != "" && j.pr.State != "open") || j.pr.HeadSHA != head {
			continue
		}
		if severity(j.v.Conclusion) > severity(worst.Conclusion) {
			worst, blocker = j.v, n
		}
	}
	if blocker == 0 {
		return v, nil
	}
	out := *worst
	out.Title = clip(fmt.Sprintf("PR #%d: %s (head shared with #%d)", blocker, worst.Title, job.Number), checks.MaxTitleRunes)
	return &out, nil
}
