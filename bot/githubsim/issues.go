package githubsim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// issue is an issue that is not a pull request. Issues and pull requests
// share one sequence of numbers, as on GitHub.
type issue struct {
	id, number           int64
	title, body          string
	author               *user
	labels               []string
	state                string // open, closed
	createdAt, updatedAt time.Time
	viaApp               bool
}

func (s *state) plainIssueObj(r *repo, is *issue) obj {
	fn := r.fullName()
	iurl := s.api("repos/%s/issues/%d", fn, is.number)
	labels := []obj{}
	for _, l := range is.labels {
		labels = append(labels, s.labelObj(r, l))
	}
	var body any
	if is.body != "" {
		body = is.body
	}
	var app any
	if is.viaApp {
		app = s.appObj()
	}
	return obj{
		"url": iurl, "repository_url": s.api("repos/%s", fn), "labels_url": iurl + "/labels{/name}",
		"comments_url": iurl + "/comments", "events_url": iurl + "/events",
		"html_url": s.html("%s/issues/%d", fn, is.number),
		"id":       is.id, "node_id": nodeID("Issue", is.id), "number": is.number, "title": is.title,
		"user": s.userObj(is.author), "labels": labels, "state": is.state, "locked": false,
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "comments": 0,
		"created_at": timeOrNil(is.createdAt), "updated_at": timeOrNil(is.updatedAt), "closed_at": nil,
		"author_association": s.association(r, is.author), "active_lock_reason": nil,
		"body": body, "state_reason": nil, "timeline_url": iurl + "/timeline", "performed_via_github_app": app,
		"reactions": reactionRollup(iurl+"/reactions", nil),
	}
}

// hCreateIssue opens an issue. Labels that do not exist yet are created, as
// GitHub does for callers with write access to issues.
func hCreateIssue(c *reqCtx) {
	var in struct {
		Title  *string  `json:"title"`
		Body   *string  `json:"body"`
		Labels []string `json:"labels"`
	}
	if !c.decodeBody(&in) {
		return
	}
	if in.Title == nil || strings.TrimSpace(*in.Title) == "" {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed: title is missing", "https://docs.github.com/rest/issues/issues#create-an-issue")
		return
	}
	s := c.s
	r := c.repo
	r.nextNumber++
	now := s.ts()
	is := &issue{id: s.nextID(idIssue), number: int64(r.nextNumber), title: *in.Title, author: s.botUser(),
		state: "open", createdAt: now, updatedAt: now, viaApp: true}
	if in.Body != nil {
		is.body = *in.Body
	}
	for _, l := range in.Labels {
		if strings.TrimSpace(l) != "" && !containsFold(is.labels, l) {
			is.labels = append(is.labels, l)
		}
	}
	r.issues = append(r.issues, is)
	c.json(http.StatusCreated, s.plainIssueObj(r, is))
}

func hGetIssue(c *reqCtx) {
	n, err := strconv.Atoi(c.p["issue_number"])
	if err != nil {
		c.notFound()
		return
	}
	for _, is := range c.repo.issues {
		if is.number == int64(n) {
			c.json(200, c.s.plainIssueObj(c.repo, is))
			return
		}
	}
	if p := c.repo.prs[n]; p != nil {
		c.json(200, c.s.issueObj(c.repo, p))
		return
	}
	c.notFound()
}

// hListIssues lists issues and pull requests (GitHub's issues listing has
// both; pull requests carry a pull_request key), newest first, filtered by
// state (default open), labels (each must be present) and creator.
func hListIssues(c *reqCtx) {
	st := c.query("state")
	if st == "" {
		st = "open"
	}
	if st != "open" && st != "closed" && st != "all" {
		c.invalid("Validation Failed")
		return
	}
	var want []string
	for _, l := range strings.Split(c.query("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			want = append(want, l)
		}
	}
	creator := c.query("creator")
	type item struct {
		number int
		o      obj
	}
	var items []item
	match := func(state string, labels []string, author *user) bool {
		if st != "all" && state != st {
			return false
		}
		for _, l := range want {
			if !containsFold(labels, l) {
				return false
			}
		}
		return creator == "" || (author != nil && strings.EqualFold(author.login, creator))
	}
	for _, is := range c.repo.issues {
		if match(is.state, is.labels, is.author) {
			items = append(items, item{int(is.number), c.s.plainIssueObj(c.repo, is)})
		}
	}
	for _, p := range c.repo.prOrder {
		if match(p.state, p.labels, p.author) {
			items = append(items, item{p.number, c.s.issueObj(c.repo, p)})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].number > items[j].number })
	if c.query("direction") == "asc" {
		sort.Slice(items, func(i, j int) bool { return items[i].number < items[j].number })
	}
	out := []obj{}
	for _, it := range items {
		out = append(out, it.o)
	}
	c.json(200, paginate(c, out))
}

// Issues returns a repository's issues (not pull requests), oldest first.
func (s *Sim) Issues(fullName string) []*github.Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	var out []*github.Issue
	for _, is := range r.issues {
		out = append(out, decode[github.Issue](s.plainIssueObj(r, is)))
	}
	return out
}
