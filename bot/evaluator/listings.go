package evaluator

import (
	"context"
	"fmt"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
	"github.com/google/go-github/v62/github"
)

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
