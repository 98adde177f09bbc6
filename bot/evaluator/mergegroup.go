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
	"github.com/countersign/countersign/checks/detect"
	"github.com/google/go-github/v62/github"
)

// queueRef is a merge queue entry's read-only branch:
// gh-readonly-queue/{base}/pr-{N}-{sha of the commit its group was built on}.
var queueRef = regexp.MustCompile(`^(?:refs/heads/)?gh-readonly-queue/(.+)/pr-([0-9]+)-([0-9a-f]{7,64})$`)

// QueueEntry is one pull request of a merge queue as its read-only
// gh-readonly-queue branch names it.
type QueueEntry struct {
	// Number is the pull request's number.
	Number int
	// BuiltOn is the (possibly abbreviated) SHA of the commit the entry's
	// group was built on: the previous entry's group head or the base branch.
	BuiltOn string
}

// ParseQueueRef reads a merge queue entry from its branch name, with or
// without refs/heads/; ok is false for any other ref.
func ParseQueueRef(ref string) (e QueueEntry, ok bool) {
	m := queueRef.FindStringSubmatch(ref)
	if m == nil {
		return QueueEntry{}, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n <= 0 {
		return QueueEntry{}, false
	}
	return QueueEntry{Number: n, BuiltOn: m[3]}, true
}

// GroupSegments assigns the commits of a merge group to the queue entries
// whose groups added them, from GitHub's read-only queue branches alone
// (never a commit's subject line): walking from the group's head, an entry
// (entries, keyed by its group's head SHA) owns the commits reachable from
// its head but not from the commit it was built on, which is in turn the
// previous entry's head. It returns the owning pull request of each commit
// it could place and the entries' heads; a commit it returns no owner for
// belongs to no entry it could follow.
func GroupSegments(commits []*github.RepositoryCommit, head string, entries map[string]QueueEntry) (owner map[string]int, tips map[string]int) {
	parents := map[string][]string{}
	for _, c := range commits {
		var ps []string
		for _, p := range c.Parents {
			ps = append(ps, p.GetSHA())
		}
		parents[c.GetSHA()] = ps
	}
	find := func(abbrev string) string { // the group commit an abbreviated SHA names
		if _, ok := parents[abbrev]; ok {
			return abbrev
		}
		for sha := range parents {
			if len(abbrev) >= 7 && strings.HasPrefix(sha, abbrev) {
				return sha
			}
		}
		return ""
	}
	reach := func(from string) map[string]bool {
		seen := map[string]bool{}
		stack := []string{from}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, in := parents[x]; !in || seen[x] {
				continue
			}
			seen[x] = true
			stack = append(stack, parents[x]...)
		}
		return seen
	}
	owner, tips = map[string]int{}, map[string]int{}
	cur := find(head)
	for cur != "" && tips[cur] == 0 {
		e, ok := entries[cur]
		if !ok {
			break
		}
		tips[cur] = e.Number
		below := find(e.BuiltOn)
		var under map[string]bool
		if below != "" {
			under = reach(below)
		}
		for sha := range reach(cur) {
			if !under[sha] && owner[sha] == 0 {
				owner[sha] = e.Number
			}
		}
		cur = below
	}
	return owner, tips
}

// sameCommit reports whether a group commit is a copy of one of a pull
// request's commits: the same SHA, or, for a copy GitHub rebased, the same
// author and message.
func sameCommit(c *github.RepositoryCommit, of []detect.Commit) bool {
	cm := c.GetCommit()
	for _, p := range of {
		if p.SHA == c.GetSHA() {
			return true
		}
		if p.AuthorName == cm.GetAuthor().GetName() && strings.EqualFold(p.AuthorEmail, cm.GetAuthor().GetEmail()) &&
			strings.TrimSpace(p.Message) == strings.TrimSpace(cm.GetMessage()) {
			return true
		}
	}
	return false
}

// maxGroupLookups bounds the commit-to-pull-request lookups of one merge
// group; the commits left over count as unaccounted for.
const maxGroupLookups = 50

// MergeGroup evaluates every pull request of a merge group now (never
// assuming an earlier verdict still holds) and publishes the countersign
// check run on the group's head commit: success only when each of them
// evaluates to success and every commit of the group is attributed to one
// of them, else failure naming what does not hold.
//
// The group's commits are those between the base branch and its head (every
// entry ahead in the queue included, whatever base_sha says). Each is
// attributed through GitHub's read-only queue branches (GroupSegments) and
// must then be one of its pull request's commits, a rebased copy of one
// (same author and message), or the entry's own head committed by GitHub
// (its merge or squash commit); any other is looked up with GitHub's
// commit-to-pull-request association. A commit attributed by none of these
// fails the group: a subject line such as "(#N)" never attributes a commit.
func (e *Evaluator) MergeGroup(ctx context.Context, job server.MergeGroupJob) error {
	log := e.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "merge_group", job.HeadRef,
		"head_sha", job.HeadSHA, "delivery", job.DeliveryID)
	client, err := e.client(job.Installation)
	if err != nil {
		return err
	}
	var commits []*github.RepositoryCommit
	var listErr error
	base := strings.TrimPrefix(job.BaseRef, "refs/heads/")
	if base == "" {
		base = job.BaseSHA
	}
	if base != "" {
		commits, listErr = groupCommits(ctx, client, job, base)
	} else {
		listErr = errors.New("the merge group has no base, so its commits cannot be accounted for")
	}
	entries := map[string]QueueEntry{}
	if listErr == nil {
		entries, listErr = queueEntries(ctx, client, job, commits)
	}
	owner, tips := GroupSegments(commits, job.HeadSHA, entries)
	var numbers []int
	for _, n := range owner {
		if !slices.Contains(numbers, n) {
			numbers = append(numbers, n)
		}
	}
	slices.Sort(numbers)

	var members []checks.GroupMember
	var retry error
	evaluated := map[int]bool{}
	failed := map[int]bool{}
	prCommits := map[int][]detect.Commit{}
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
			failed[n] = true
			return
		}
		members = append(members, checks.GroupMember{Number: n, State: j.pr.State, Verdict: j.v})
		owned[j.pr.HeadSHA] = true
		if j.g != nil && j.g.Facts != nil {
			prCommits[n] = j.g.Facts.Commits
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
		attributed := func(c *github.RepositoryCommit) bool {
			sha := c.GetSHA()
			if owned[sha] {
				return true
			}
			n := owner[sha]
			switch {
			case n == 0:
				return false
			case failed[n]: // the group fails on n already
				return true
			case tips[sha] == n && strings.EqualFold(c.GetCommit().GetCommitter().GetEmail(), "noreply@github.com"):
				return true // the entry's merge, squash or last rebased commit
			}
			return sameCommit(c, prCommits[n])
		}
		lookups := 0
		associated := map[string]bool{}
		for _, c := range commits {
			sha := c.GetSHA()
			if attributed(c) || lookups >= maxGroupLookups {
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
			if !associated[c.GetSHA()] && !attributed(c) {
				unaccounted = append(unaccounted, short(c.GetSHA()))
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

// queueEntries returns the merge queue entries a group's commits can be
// attributed through, keyed by their group's head: the group's own (its
// head ref) and, when that was built on a commit of the group, the other
// entries of the queue from their read-only branches (one listing).
func queueEntries(ctx context.Context, client *github.Client, job server.MergeGroupJob, commits []*github.RepositoryCommit) (map[string]QueueEntry, error) {
	out := map[string]QueueEntry{}
	own, ok := ParseQueueRef(job.HeadRef)
	if !ok {
		return out, nil
	}
	out[job.HeadSHA] = own
	stacked := false
	for _, c := range commits {
		if c.GetSHA() != job.HeadSHA && len(own.BuiltOn) >= 7 && strings.HasPrefix(c.GetSHA(), own.BuiltOn) {
			stacked = true
		}
	}
	if !stacked {
		return out, nil
	}
	m := queueRef.FindStringSubmatch(job.HeadRef)
	refs, _, err := client.Git.ListMatchingRefs(ctx, job.Owner, job.Repo, &github.ReferenceListOptions{Ref: "heads/gh-readonly-queue/" + m[1] + "/"})
	if err != nil {
		return nil, fmt.Errorf("the merge queue's branches: %s", ghapp.Reason(err))
	}
	for _, r := range refs {
		if e, ok := ParseQueueRef(r.GetRef()); ok && r.GetObject().GetSHA() != "" && r.GetObject().GetSHA() != job.HeadSHA {
			out[r.GetObject().GetSHA()] = e
		}
	}
	return out, nil
}

// groupCommits lists the commits between a merge group's base (branch or
// commit) and its head.
func groupCommits(ctx context.Context, client *github.Client, job server.MergeGroupJob, base string) ([]*github.RepositoryCommit, error) {
	var out []*github.RepositoryCommit
	opt := &github.ListOptions{PerPage: 100}
	for {
		cmp, resp, err := client.Repositories.CompareCommits(ctx, job.Owner, job.Repo, base, job.HeadSHA, opt)
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
