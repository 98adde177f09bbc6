package githubsim

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v62/github"
)

type pullRequest struct {
	id, issueID               int64
	number                    int
	title, body               string
	author                    *user
	headRef, baseRef, headSHA string
	state                     string // open, closed
	draft, merged             bool
	labels                    []string
	createdAt, updatedAt      time.Time
	closedAt, mergedAt        time.Time
	mergeCommitSHA            string
	mergedBy                  *user
	// introduced are the commits a merge brought to the base branch: the
	// pull request's own and, for a rebase merge, their rebased copies.
	introduced map[string]bool
	// mergedOnto is the base branch's commit the merge was made onto: a
	// merged pull request's commits and files stay those it merged.
	mergedOnto string
	reviews    []*review
	reqUsers   []*user
	reqTeams   []*team
	comments   []*comment
	// events are the pull request's issue events the simulator records
	// (base_ref_changed), oldest first.
	events []issueEvent
}

// issueEvent is one of a pull request's issue events.
type issueEvent struct {
	id    int64
	event string
	actor *user
	at    time.Time
}

type review struct {
	id          int64
	user        *user
	state       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	body        string
	commitID    string
	submittedAt time.Time
}

type comment struct {
	id                   int64
	repo                 *repo
	number               int
	user                 *user
	body                 string
	createdAt, updatedAt time.Time
	reactions            []*reaction
	viaApp               bool
}

type reaction struct {
	id        int64
	user      *user
	content   string
	createdAt time.Time
}

type diffStats struct {
	files                []fileChange
	commits              []*object.Commit
	additions, deletions int
	err                  error
}

// Limits GitHub applies to pull request listings.
const (
	maxPRFiles   = 3000
	maxPRCommits = 250
)

func (r *repo) prLocked(number int) *pullRequest {
	p, ok := r.prs[number]
	mustf(ok, "%s has no pull request #%d", r.fullName(), number)
	return p
}

// prDiff computes (and caches) the PR's files (merge-base..head) and commits (base..head).
func (r *repo) prDiff(p *pullRequest) *diffStats {
	base, _ := r.branchHash(p.baseRef)
	if p.merged && p.mergedOnto != "" {
		base = plumbing.NewHash(p.mergedOnto)
	}
	head := plumbing.NewHash(p.headSHA)
	return r.compareStats(base, head)
}

func (r *repo) compareStats(base, head plumbing.Hash) *diffStats {
	key := [2]plumbing.Hash{base, head}
	if d, ok := r.stats[key]; ok {
		return d
	}
	d := &diffStats{}
	mb := r.mergeBase(base, head)
	d.files, d.err = r.diff(mb, head)
	for _, f := range d.files {
		d.additions += f.additions
		d.deletions += f.deletes
	}
	d.commits = r.commitsBetween(base, head)
	r.stats[key] = d
	return d
}

// association is a user's author_association on a repository.
func (s *state) association(r *repo, u *user) string {
	if u == nil {
		return "NONE"
	}
	if strings.EqualFold(r.owner.login, u.login) {
		return "OWNER"
	}
	if r.owner.typ == "Organization" {
		for _, t := range s.teams {
			if t.org == r.owner && containsFold(t.members, u.login) {
				return "MEMBER"
			}
		}
	}
	if _, ok := r.perms[strings.ToLower(u.login)]; ok {
		return "COLLABORATOR"
	}
	for _, p := range r.prOrder {
		if p.merged && p.author == u {
			return "CONTRIBUTOR"
		}
	}
	return "NONE"
}

func (s *state) labelObj(r *repo, name string) obj {
	id, ok := r.labelIDs[name]
	if !ok {
		id = s.nextID(idLabel)
		r.labelIDs[name] = id
	}
	return nulls(toObj(&github.Label{
		ID: github.Int64(id), NodeID: github.String(nodeID("Label", id)),
		URL:  github.String(s.api("repos/%s/labels/%s", r.fullName(), strings.ReplaceAll(name, " ", "%20"))),
		Name: github.String(name), Color: github.String("ededed"), Default: github.Bool(false),
	}), "description")
}

func (s *state) teamObj(t *team) obj {
	m := nulls(toObj(&github.Team{
		ID: github.Int64(t.id), NodeID: github.String(nodeID("Team", t.id)),
		URL:     github.String(s.api("organizations/%d/team/%d", t.org.id, t.id)),
		HTMLURL: github.String(s.html("orgs/%s/teams/%s", t.org.login, t.slug)),
		Name:    github.String(t.name), Slug: github.String(t.slug),
		Privacy: github.String("closed"), Permission: github.String("pull"),
		MembersURL:      github.String(s.api("organizations/%d/team/%d/members{/member}", t.org.id, t.id)),
		RepositoriesURL: github.String(s.api("organizations/%d/team/%d/repos", t.org.id, t.id)),
	}), "description", "parent")
	m["type"] = "organization"
	m["organization_id"] = t.org.id
	m["notification_setting"] = "notifications_enabled"
	return m
}

func (s *state) branchObj(r *repo, ref, sha string) obj {
	return obj{
		"label": r.owner.login + ":" + ref,
		"ref":   ref,
		"sha":   sha,
		"user":  s.userObj(r.owner),
		"repo":  s.repoObj(r),
	}
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// webhookTeam drops the fields REST has and webhook payloads do not.
func webhookTeam(t obj) obj {
	delete(t, "type")
	delete(t, "organization_id")
	return t
}

func (s *state) prObj(r *repo, p *pullRequest) obj { return s.prObjFor(r, p, false) }

func (s *state) prObjFor(r *repo, p *pullRequest, webhook bool) obj {
	fn := r.fullName()
	api := func(f string, a ...any) string { return s.api("repos/"+fn+f, a...) }
	base, _ := r.branchHash(p.baseRef)
	d := r.prDiff(p)
	labels := []obj{}
	for _, l := range p.labels {
		labels = append(labels, s.labelObj(r, l))
	}
	users := []obj{}
	for _, u := range p.reqUsers {
		users = append(users, s.userObj(u))
	}
	teams := []obj{}
	for _, t := range p.reqTeams {
		teams = append(teams, s.teamObj(t))
	}
	if webhook {
		for _, t := range teams {
			webhookTeam(t)
		}
	}
	link := func(h string) obj { return obj{"href": h} }
	self := api("/pulls/%d", p.number)
	htmlURL := s.html("%s/pull/%d", fn, p.number)
	var body any
	if p.body != "" {
		body = p.body
	}
	mergeable := any(true)
	mstate := "clean"
	if p.state == "closed" {
		mergeable, mstate = nil, "unknown"
	} else if p.draft {
		mstate = "draft"
	}
	var mergedBy any
	if p.mergedBy != nil {
		mergedBy = s.userObj(p.mergedBy)
	}
	var mergeSHA any
	if p.mergeCommitSHA != "" {
		mergeSHA = p.mergeCommitSHA
	}
	changed := len(d.files)
	return obj{
		"url":                 self,
		"id":                  p.id,
		"node_id":             nodeID("PullRequest", p.id),
		"html_url":            htmlURL,
		"diff_url":            htmlURL + ".diff",
		"patch_url":           htmlURL + ".patch",
		"issue_url":           api("/issues/%d", p.number),
		"commits_url":         self + "/commits",
		"review_comments_url": self + "/comments",
		"review_comment_url":  api("/pulls/comments{/number}"),
		"comments_url":        api("/issues/%d/comments", p.number),
		"statuses_url":        api("/statuses/%s", p.headSHA),
		"number":              p.number,
		"state":               p.state,
		"locked":              false,
		"title":               p.title,
		"user":                s.userObj(p.author),
		"body":                body,
		"labels":              labels,
		"milestone":           nil,
		"active_lock_reason":  nil,
		"created_at":          timeOrNil(p.createdAt),
		"updated_at":          timeOrNil(p.updatedAt),
		"closed_at":           timeOrNil(p.closedAt),
		"merged_at":           timeOrNil(p.mergedAt),
		"merge_commit_sha":    mergeSHA,
		"assignee":            nil,
		"assignees":           []obj{},
		"requested_reviewers": users,
		"requested_teams":     teams,
		"head":                s.branchObj(r, p.headRef, p.headSHA),
		"base":                s.branchObj(r, p.baseRef, base.String()),
		"_links": obj{
			"self": link(self), "html": link(htmlURL), "issue": link(api("/issues/%d", p.number)),
			"comments": link(api("/issues/%d/comments", p.number)), "review_comments": link(self + "/comments"),
			"review_comment": link(api("/pulls/comments{/number}")), "commits": link(self + "/commits"),
			"statuses": link(api("/statuses/%s", p.headSHA)),
		},
		"author_association":    s.association(r, p.author),
		"auto_merge":            nil,
		"draft":                 p.draft,
		"merged":                p.merged,
		"mergeable":             mergeable,
		"rebaseable":            mergeable,
		"mergeable_state":       mstate,
		"merged_by":             mergedBy,
		"comments":              len(p.comments),
		"review_comments":       0,
		"maintainer_can_modify": false,
		"commits":               len(d.commits),
		"additions":             d.additions,
		"deletions":             d.deletions,
		"changed_files":         changed,
	}
}

// prSimpleObj is the pull-request-simple shape of list endpoints.
func (s *state) prSimpleObj(r *repo, p *pullRequest) obj {
	m := s.prObj(r, p)
	for _, k := range []string{"merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments", "review_comments", "maintainer_can_modify", "commits", "additions", "deletions", "changed_files"} {
		delete(m, k)
	}
	return m
}

func (s *state) reviewObj(r *repo, p *pullRequest, rv *review, webhook bool) obj {
	st := rv.state
	if webhook {
		st = strings.ToLower(st)
	}
	htmlURL := s.html("%s/pull/%d#pullrequestreview-%d", r.fullName(), p.number, rv.id)
	prURL := s.api("repos/%s/pulls/%d", r.fullName(), p.number)
	var body any
	if rv.body != "" {
		body = rv.body
	}
	return obj{
		"id":                 rv.id,
		"node_id":            nodeID("PullRequestReview", rv.id),
		"user":               s.userObj(rv.user),
		"body":               body,
		"state":              st,
		"html_url":           htmlURL,
		"pull_request_url":   prURL,
		"_links":             obj{"html": obj{"href": htmlURL}, "pull_request": obj{"href": prURL}},
		"submitted_at":       timeOrNil(rv.submittedAt),
		"commit_id":          rv.commitID,
		"author_association": s.association(r, rv.user),
	}
}

func reactionRollup(url string, rs []*reaction) obj {
	m := obj{"url": url, "total_count": len(rs)}
	for _, c := range reactionContents {
		m[c] = 0
	}
	for _, x := range rs {
		m[x.content] = m[x.content].(int) + 1
	}
	return m
}

var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func (s *state) commentObj(c *comment) obj {
	fn := c.repo.fullName()
	url := s.api("repos/%s/issues/comments/%d", fn, c.id)
	var app any
	if c.viaApp {
		app = s.appObj()
	}
	return obj{
		"id":                       c.id,
		"node_id":                  nodeID("IssueComment", c.id),
		"url":                      url,
		"html_url":                 s.html("%s/pull/%d#issuecomment-%d", fn, c.number, c.id),
		"body":                     c.body,
		"user":                     s.userObj(c.user),
		"created_at":               timeOrNil(c.createdAt),
		"updated_at":               timeOrNil(c.updatedAt),
		"issue_url":                s.api("repos/%s/issues/%d", fn, c.number),
		"author_association":       s.association(c.repo, c.user),
		"performed_via_github_app": app,
		"reactions":                reactionRollup(url+"/reactions", c.reactions),
	}
}

func (s *state) reactionObj(x *reaction) obj {
	return obj{
		"id": x.id, "node_id": nodeID("Reaction", x.id), "user": s.userObj(x.user),
		"content": x.content, "created_at": timeOrNil(x.createdAt),
	}
}

// issueObj is the issue view of a pull request, as in issue_comment webhooks.
func (s *state) issueObj(r *repo, p *pullRequest) obj {
	fn := r.fullName()
	iurl := s.api("repos/%s/issues/%d", fn, p.number)
	htmlURL := s.html("%s/pull/%d", fn, p.number)
	labels := []obj{}
	for _, l := range p.labels {
		labels = append(labels, s.labelObj(r, l))
	}
	var body any
	if p.body != "" {
		body = p.body
	}
	return obj{
		"url": iurl, "repository_url": s.api("repos/%s", fn), "labels_url": iurl + "/labels{/name}",
		"comments_url": iurl + "/comments", "events_url": iurl + "/events", "html_url": htmlURL,
		"id": p.issueID, "node_id": nodeID("PullRequest", p.id), "number": p.number, "title": p.title,
		"user": s.userObj(p.author), "labels": labels, "state": p.state, "locked": false,
		"assignee": nil, "assignees": []obj{}, "milestone": nil, "comments": len(p.comments),
		"created_at": timeOrNil(p.createdAt), "updated_at": timeOrNil(p.updatedAt), "closed_at": timeOrNil(p.closedAt),
		"author_association": s.association(r, p.author), "active_lock_reason": nil, "draft": p.draft,
		"body": body, "state_reason": nil, "timeline_url": iurl + "/timeline", "performed_via_github_app": nil,
		"reactions": reactionRollup(iurl+"/reactions", nil),
		"pull_request": obj{
			"url": s.api("repos/%s/pulls/%d", fn, p.number), "html_url": htmlURL,
			"diff_url": htmlURL + ".diff", "patch_url": htmlURL + ".patch", "merged_at": timeOrNil(p.mergedAt),
		},
	}
}

// prEventLocked emits a pull_request webhook.
func (s *state) prEventLocked(r *repo, p *pullRequest, action string, sender *user, extra obj) {
	payload := obj{"action": action, "number": p.number, "pull_request": s.prObjFor(r, p, true)}
	for k, v := range extra {
		payload[k] = v
	}
	s.emitRepoLocked("pull_request", action, r, sender, payload)
}

// OpenPR opens a pull request, returns its number and emits pull_request.opened.
func (s *Sim) OpenPR(fullName string, spec PRSpec) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	if spec.Base == "" {
		spec.Base = r.defaultBranch
	}
	head, ok := r.branchHash(spec.Head)
	mustf(ok, "%s has no branch %q", fullName, spec.Head)
	_, ok = r.branchHash(spec.Base)
	mustf(ok, "%s has no branch %q", fullName, spec.Base)
	r.nextNumber++
	now := s.ts()
	p := &pullRequest{
		id: s.nextID(idPR), number: r.nextNumber, title: spec.Title, body: spec.Body,
		author: s.userLocked(spec.Author), headRef: spec.Head, baseRef: spec.Base, headSHA: head.String(),
		state: "open", draft: spec.Draft, labels: append([]string(nil), spec.Labels...), createdAt: now, updatedAt: now,
	}
	p.issueID = p.id + 1000000000
	r.prs[p.number] = p
	r.prOrder = append(r.prOrder, p)
	s.prEventLocked(r, p, "opened", p.author, nil)
	return p.number
}

// EditPR changes a pull request's title and body and emits pull_request.edited.
func (s *Sim) EditPR(fullName string, number int, title, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	changes := obj{}
	if title != p.title {
		changes["title"] = obj{"from": p.title}
	}
	if body != p.body {
		changes["body"] = obj{"from": p.body}
	}
	p.title, p.body, p.updatedAt = title, body, s.ts()
	s.prEventLocked(r, p, "edited", p.author, obj{"changes": changes})
}

// SetPRBase changes a pull request's base branch, as by login, and emits
// pull_request.edited with changes.base (the old branch and the commit it
// pointed at), as GitHub does when a pull request is retargeted.
func (s *Sim) SetPRBase(fullName string, number int, base, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	_, ok := r.branchHash(base)
	mustf(ok, "%s has no branch %q", fullName, base)
	from := p.baseRef
	fromSHA, _ := r.branchHash(from)
	p.baseRef, p.updatedAt = base, s.ts()
	p.events = append(p.events, issueEvent{id: s.nextID(idIssueEvent), event: "base_ref_changed", actor: s.userLocked(by), at: p.updatedAt})
	s.prEventLocked(r, p, "edited", s.userLocked(by), obj{"changes": obj{"base": obj{
		"ref": obj{"from": from}, "sha": obj{"from": fromSHA.String()},
	}}})
}

// ClosePR closes a pull request without merging and emits pull_request.closed.
func (s *Sim) ClosePR(fullName string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	if p.state == "closed" {
		return
	}
	p.state, p.closedAt, p.updatedAt = "closed", s.ts(), s.ts()
	s.prEventLocked(r, p, "closed", p.author, nil)
}

// ReopenPR reopens a closed, unmerged pull request and emits pull_request.reopened.
func (s *Sim) ReopenPR(fullName string, number int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	mustf(p.state == "closed" && !p.merged, "#%d is not a closed, unmerged pull request", number)
	p.state, p.closedAt, p.updatedAt = "open", time.Time{}, s.ts()
	s.prEventLocked(r, p, "reopened", p.author, nil)
}

// SetDraft marks a pull request draft (converted_to_draft) or ready (ready_for_review).
func (s *Sim) SetDraft(fullName string, number int, draft bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	if p.draft == draft {
		return
	}
	p.draft, p.updatedAt = draft, s.ts()
	action := "ready_for_review"
	if draft {
		action = "converted_to_draft"
	}
	s.prEventLocked(r, p, action, p.author, nil)
}

// AddLabel adds a label to a pull request and emits pull_request.labeled.
func (s *Sim) AddLabel(fullName string, number int, label, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	if containsFold(p.labels, label) {
		return
	}
	p.labels = append(p.labels, label)
	p.updatedAt = s.ts()
	s.prEventLocked(r, p, "labeled", s.userLocked(by), obj{"label": s.labelObj(r, label)})
}

// SubmitReview submits a review (event APPROVE|REQUEST_CHANGES|COMMENT) on
// the current head, returns its id and emits pull_request_review.submitted.
func (s *Sim) SubmitReview(fullName string, number int, login, event, body string) int64 {
	st := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}[strings.ToUpper(event)]
	mustf(st != "", "unknown review event %q", event)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	u := s.userLocked(login)
	rv := &review{id: s.nextID(idReview), user: u, state: st, body: body, commitID: p.headSHA, submittedAt: s.ts()}
	p.reviews = append(p.reviews, rv)
	for i, x := range p.reqUsers {
		if x == u {
			p.reqUsers = append(p.reqUsers[:i:i], p.reqUsers[i+1:]...)
			break
		}
	}
	p.updatedAt = s.ts()
	s.emitRepoLocked("pull_request_review", "submitted", r, u, obj{
		"action": "submitted", "review": s.reviewObj(r, p, rv, true), "pull_request": webhookPR(s.prSimpleObj(r, p)),
	})
	return rv.id
}

// DismissReview dismisses a review and emits pull_request_review.dismissed.
func (s *Sim) DismissReview(fullName string, number int, reviewID int64, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	var rv *review
	for _, x := range p.reviews {
		if x.id == reviewID {
			rv = x
		}
	}
	mustf(rv != nil, "#%d has no review %d", number, reviewID)
	rv.state = "DISMISSED"
	s.emitRepoLocked("pull_request_review", "dismissed", r, s.userLocked(by), obj{
		"action": "dismissed", "review": s.reviewObj(r, p, rv, true), "pull_request": webhookPR(s.prSimpleObj(r, p)),
	})
}

// Comment adds an issue comment to a pull request, returns its id and emits issue_comment.created.
func (s *Sim) Comment(fullName string, number int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	c := s.addCommentLocked(r, r.prLocked(number), s.userLocked(login), body, false)
	return c.id
}

func (s *state) addCommentLocked(r *repo, p *pullRequest, u *user, body string, viaApp bool) *comment {
	now := s.ts()
	c := &comment{id: s.nextID(idComment), repo: r, number: p.number, user: u, body: body, createdAt: now, updatedAt: now, viaApp: viaApp}
	p.comments = append(p.comments, c)
	s.comments[c.id] = c
	s.emitRepoLocked("issue_comment", "created", r, u, obj{
		"action": "created", "issue": s.issueObj(r, p), "comment": s.commentObj(c),
	})
	return c
}

func (s *state) editCommentLocked(c *comment, by *user, body string) {
	old := c.body
	c.body, c.updatedAt = body, s.ts()
	p := c.repo.prs[c.number]
	s.emitRepoLocked("issue_comment", "edited", c.repo, by, obj{
		"action": "edited", "issue": s.issueObj(c.repo, p), "comment": s.commentObj(c),
		"changes": obj{"body": obj{"from": old}},
	})
}

// EditComment changes an issue comment's body and emits issue_comment.edited.
func (s *Sim) EditComment(fullName string, commentID int64, login, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	c, ok := s.comments[commentID]
	mustf(ok && c.repo == r, "%s has no comment %d", fullName, commentID)
	s.editCommentLocked(c, s.userLocked(login), body)
}

// Comments returns a pull request's issue comments, oldest first.
func (s *Sim) Comments(fullName string, number int) []*github.IssueComment {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	var out []*github.IssueComment
	for _, c := range r.prLocked(number).comments {
		out = append(out, decode[github.IssueComment](s.commentObj(c)))
	}
	return out
}

// Reviews returns a pull request's reviews, oldest first, as GET
// /repos/{owner}/{repo}/pulls/{pull_number}/reviews serves them.
func (s *Sim) Reviews(fullName string, number int) []*github.PullRequestReview {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	p := r.prLocked(number)
	var out []*github.PullRequestReview
	for _, rv := range p.reviews {
		out = append(out, decode[github.PullRequestReview](s.reviewObj(r, p, rv, false)))
	}
	return out
}

// Reactions returns the reactions on an issue comment.
func (s *Sim) Reactions(fullName string, commentID int64) []*github.Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	c, ok := s.comments[commentID]
	if !ok || c.repo != r {
		return nil
	}
	var out []*github.Reaction
	for _, x := range c.reactions {
		out = append(out, decode[github.Reaction](s.reactionObj(x)))
	}
	return out
}

// RequestedReviewers returns the pending review requests of a pull request.
func (s *Sim) RequestedReviewers(fullName string, number int) (users, teams []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.repoLocked(fullName).prLocked(number)
	for _, u := range p.reqUsers {
		users = append(users, u.login)
	}
	for _, t := range p.reqTeams {
		teams = append(teams, t.slug)
	}
	return users, teams
}

// PR returns a pull request as GET /repos/{owner}/{repo}/pulls/{pull_number} serves it.
func (s *Sim) PR(fullName string, number int) *github.PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	return decode[github.PullRequest](s.prObj(r, r.prLocked(number)))
}

func decode[T any](v any) *T {
	var out T
	b, err := jsonMarshal(v)
	if err == nil {
		err = jsonUnmarshal(b, &out)
	}
	mustf(err == nil, "decoding %T: %v", out, err)
	return &out
}

var _ = fmt.Sprint

// webhookPR adapts a REST pull request for a webhook payload.
func webhookPR(m obj) obj {
	if ts, ok := m["requested_teams"].([]obj); ok {
		for _, t := range ts {
			webhookTeam(t)
		}
	}
	return m
}
