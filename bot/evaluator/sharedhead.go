package evaluator

import (
	"context"
	"fmt"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

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

// sharedHead judges the other open pull requests whose head is head, each
// under its own base's policy, and returns the worst verdict among them and
// v: the check run attaches to the commit, so every pull request at that
// head reads it. It is called only before a pass is published. An error
// (the lookup or another pull request's facts) must not end in a pass.
// relied are the logins whose standing the other verdicts read.
func (e *Evaluator) sharedHead(ctx context.Context, client *github.Client, job server.Job, head string, v *checks.Verdict) (_ *checks.Verdict, relied []string, _ error) {
	numbers, err := headPulls(ctx, client, job.Owner, job.Repo, head, job.Number)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the pull requests at %s: %s", short(head), ghapp.Reason(err))
	}
	var others []checks.SharedPR
	for _, n := range numbers {
		if n == job.Number {
			continue
		}
		j, err := e.judge(ctx, client, server.Job{Installation: job.Installation, Owner: job.Owner, Repo: job.Repo, Number: n,
			HeadSHA: head, Reason: job.Reason, DeliveryID: job.DeliveryID})
		if err != nil {
			return nil, nil, fmt.Errorf("evaluating #%d, which shares the head %s: %s", n, short(head), ghapp.Reason(err))
		}
		relied = append(relied, readStanding(j.g)...)
		if (j.pr.State != "" && j.pr.State != "open") || j.pr.HeadSHA != head {
			continue
		}
		others = append(others, checks.SharedPR{Number: n, Verdict: j.v})
	}
	return checks.SharedHead(job.Number, v, others), relied, nil
}
