package evaluator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

var (
	// queueRef is a merge group's branch: gh-readonly-queue/{base}/pr-{N}-{sha}.
	queueRef = regexp.MustCompile(`^(?:refs/heads/)?gh-readonly-queue/.+/pr-([0-9]+)-[0-9a-f]{7,64}$`)
	// mergeLine is the subject GitHub gives a merge commit of a pull request.
	mergeLine = regexp.MustCompile(`^Merge pull request #([0-9]+)(?:\s|$)`)
	// squashSubject ends the subject of a squashed pull request: "Title (#N)".
	squashSubject = regexp.MustCompile(`\(#([0-9]+)\)\s*$`)
)

// MergeGroupPRs returns the numbers of the pull requests a merge group
// holds, in ascending order: the one its head ref names
// (gh-readonly-queue/{base}/pr-{N}-{sha}), every "Merge pull request #N"
// commit subject, and the "(#N)" suffix of the subjects of squashed or
// rebased commits that GitHub committed, among the group's commits (the head
// commit's message included).
func MergeGroupPRs(headRef string, commits []*github.RepositoryCommit, headMessage string) []int {
	var out []int
	add := func(s string) {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if m := queueRef.FindStringSubmatch(headRef); m != nil {
		add(m[1])
	}
	if n := subjectPR(headMessage, true); n > 0 {
		add(strconv.Itoa(n))
	}
	for _, c := range commits {
		if n := commitSubjectPR(c); n > 0 {
			add(strconv.Itoa(n))
		}
	}
	slices.Sort(out)
	return out
}

// subjectPR returns the pull request a commit message names as GitHub's
// merge ("Merge pull request #N") or, for a commit GitHub committed, squash
// ("Title (#N)"); 0 for none.
func subjectPR(msg string, byGitHub bool) int {
	first, _, _ := strings.Cut(msg, "\n")
	first = strings.TrimSpace(first)
	m := mergeLine.FindStringSubmatch(first)
	if m == nil && byGitHub {
		m = squashSubject.FindStringSubmatch(first)
	}
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func commitSubjectPR(c *github.RepositoryCommit) int {
	cm := c.GetCommit()
	return subjectPR(cm.GetMessage(), strings.EqualFold(cm.GetCommitter().GetEmail(), "noreply@github.com"))
}

// maxGroupLookups bounds the commit-to-pull-request lookups of one merge
// group; the commits left over count as unaccounted for.
const maxGroupLookups = 50

// MergeGroup evaluates every pull request of a merge group now (never
// assuming an earlier verdict still holds) and publishes the countersign
// check run on the group's head commit: success only when each of them
// evaluates to success, else failure naming those that do not.
func (e *Evaluator) MergeGroup(ctx context.Context, job server.MergeGroupJob) error {
	log := e.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "merge_group", job.HeadRef,
		"head_sha", job.HeadSHA, "delivery", job.DeliveryID)
	client, err := e.client(job.Installation)
	if err != nil {
		return err
	}
	var commits []*github.RepositoryCommit
	var listErr error
	if job.BaseSHA != "" {
		commits, listErr = groupCommits(ctx, client, job)
	} else {
		listErr = errors.New("the merge group has no base commit, so its commits cannot be accounted for")
	}
	numbers := MergeGroupPRs(job.HeadRef, commits, job.HeadMessage)

	var members []checks.GroupMember
	var retry error
	// Every commit of the group must belong to a pull request evaluated
	// here: one of its commits, or GitHub's merge or squash commit of it.
	// Others (an earlier pull request rebased into the group) are looked up
	// with GitHub's commit-to-pull-request association; any left over fails
	// the group (checks.MergeGroup decides).
	evaluated := map[int]bool{}
	owned := map[string]bool{}
	evaluate := func(n int) {
		if evaluated[n] {
			return
		}
		evaluated[n] = true
		pj := server.Job{Installation: job.Installation, Owner: job.Owner, Repo: job.Repo, Number: n, Reason: job.Reason, DeliveryID: job.DeliveryID}
		j, err := e.judge(ctx, client, pj)
		if err != nil {
			members = append(members, checks.GroupMember{Number: n, Error: ghapp.Reason(err)})
			retry = errors.Join(retry, err)
			return
		}
		members = append(members, checks.GroupMember{Number: n, State: j.pr.State, Verdict: j.v})
		owned[j.pr.HeadSHA] = true
		if j.g != nil && j.g.Facts != nil {
			for _, c := range j.g.Facts.Commits {
				owned[c.SHA] = true
			}
		}
	}
	var unaccounted []string
	if listErr != nil {
		retry = listErr
	} else {
		for _, n := range numbers {
			evaluate(n)
		}
		lookups := 0
		associated := map[string]bool{}
		for _, c := range commits {
			sha := c.GetSHA()
			if owned[sha] || evaluated[commitSubjectPR(c)] || lookups >= maxGroupLookups {
				continue
			}
			lookups++
			prs, _, err := client.PullRequests.ListPullRequestsWithCommit(ctx, job.Owner, job.Repo, sha, &github.ListOptions{PerPage: 100})
			if err != nil {
				retry = errors.Join(retry, fmt.Errorf("the pull requests of commit %s: %s", short(sha), ghapp.Reason(err)))
				continue
			}
			for _, p := range prs {
				if p.GetState() == "open" && p.GetNumber() > 0 {
					evaluate(p.GetNumber())
					associated[sha] = true
				}
			}
		}
		for _, c := range commits {
			if sha := c.GetSHA(); !owned[sha] && !evaluated[commitSubjectPR(c)] && !associated[sha] {
				unaccounted = append(unaccounted, short(sha))
			}
		}
	}
	facts := checks.GroupFacts{Ref: job.HeadRef, Members: members, Unaccounted: unaccounted}
	if listErr != nil {
		facts = checks.GroupFacts{Ref: job.HeadRef, ListError: listErr.Error()}
	}
	d := checks.MergeGroup(facts)
	conclusion, title := d.Conclusion, d.Title
	_, _, err = client.Checks.CreateCheckRun(ctx, job.Owner, job.Repo, github.CreateCheckRunOptions{
		Name:        checks.CheckName,
		HeadSHA:     job.HeadSHA,
		Status:      github.String("completed"),
		Conclusion:  github.String(string(conclusion)),
		ExternalID:  github.String(checks.RunMarker{State: checks.MarkGroup}.String()),
		StartedAt:   &github.Timestamp{Time: time.Now()},
		CompletedAt: &github.Timestamp{Time: time.Now()},
		Output: &github.CheckRunOutput{
			Title:   github.String(d.Title),
			Summary: github.String(d.Summary),
		},
	})
	if err != nil {
		log.Warn("could not publish the merge group's check", "err", ghapp.Reason(err))
		return fmt.Errorf("publishing the merge group check on %s: %s", short(job.HeadSHA), ghapp.Reason(err))
	}
	log.Info("merge group evaluated", "conclusion", conclusion, "pull_requests", numbers, "title", title)
	if retry != nil {
		return fmt.Errorf("merge group %s: %s", short(job.HeadSHA), ghapp.Reason(retry))
	}
	return nil
}

// groupCommits lists the commits between a merge group's base and head.
func groupCommits(ctx context.Context, client *github.Client, job server.MergeGroupJob) ([]*github.RepositoryCommit, error) {
	var out []*github.RepositoryCommit
	opt := &github.ListOptions{PerPage: 100}
	for {
		cmp, resp, err := client.Repositories.CompareCommits(ctx, job.Owner, job.Repo, job.BaseSHA, job.HeadSHA, opt)
		if err != nil {
			return nil, errors.New(ghapp.Reason(err))
		}
		out = append(out, cmp.Commits...)
		if resp.NextPage == 0 || len(cmp.Commits) == 0 {
			if total := cmp.GetTotalCommits(); total > len(out) {
				return nil, fmt.Errorf("the merge group has %d commits; %d were listed", total, len(out))
			}
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}
