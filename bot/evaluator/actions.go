package evaluator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/ghfacts"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// Identifiers of the check run's buttons (requested actions).
const (
	// ActionRequestReview requests review from those who can approve what is missing.
	ActionRequestReview = "request-review"
	// ActionRecheck evaluates the pull request again.
	ActionRecheck = "recheck"
)

// checkRunActions are the buttons a completed check run carries: an
// action_required check offers to request review and to check again, any
// other only to check again. The list is always sent, so it replaces the
// buttons of the run's previous conclusion. GitHub allows 3, with labels of
// at most 20 characters, descriptions of 40 and identifiers of 20.
func checkRunActions(conclusion string) []*github.CheckRunAction {
	recheck := &github.CheckRunAction{Label: "Re-check", Description: "Evaluate this pull request again", Identifier: ActionRecheck}
	if conclusion != string(checks.ActionRequired) {
		return []*github.CheckRunAction{recheck}
	}
	return []*github.CheckRunAction{
		{Label: "Request review", Description: "Ask those who can approve to review", Identifier: ActionRequestReview},
		recheck,
	}
}

// buttonLabel names a button for replies.
func buttonLabel(identifier string) string {
	for _, a := range checkRunActions(string(checks.ActionRequired)) {
		if a.Identifier == identifier {
			return a.Label
		}
	}
	return identifier
}

// RequestedAction carries out a click on one of the check run's buttons. The
// clicker needs CommandPermission on the repository (GitHub does not check
// it for the app); a refused click is answered on the pull request.
func (e *Evaluator) RequestedAction(ctx context.Context, job server.ActionJob) (int, error) {
	log := e.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "pr", job.Number,
		"delivery", job.DeliveryID, "check_run", job.CheckRunID, "action", job.Identifier, "login", job.Login)
	client, err := e.client(job.Installation)
	if err != nil {
		return 0, err
	}
	if job.Identifier != ActionRecheck && job.Identifier != ActionRequestReview {
		log.Warn("unknown button; ignored")
		return 0, nil
	}
	if job.Number == 0 {
		n, err := e.prForHead(ctx, client, job.Owner, job.Repo, job.HeadSHA)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			log.Info("no open pull request has this head; button ignored")
			return 0, nil
		}
		job.Number = n
	}
	access, err := ghfacts.Permission(ctx, client, job.Owner, job.Repo, job.Login)
	if err != nil {
		return 0, e.failed(log, err)
	}
	perm := access.Permission
	if config.PermissionRank(perm) < config.PermissionRank(CommandPermission) {
		log.Info("button refused: permission", "permission", perm)
		return 0, e.reply(ctx, client, job.Job, fmt.Sprintf("@%s the %q button needs %s permission or more on %s/%s; @%s has %s.",
			job.Login, buttonLabel(job.Identifier), CommandPermission, job.Owner, job.Repo, job.Login, orNone(perm)))
	}
	if job.Identifier == ActionRecheck {
		log.Info("re-check requested")
		return job.Number, nil
	}
	j, err := e.judge(ctx, client, job.Job)
	if err != nil {
		return 0, e.failed(log, err)
	}
	done, why, err := e.requestReview(ctx, client, job.Job, j, nil)
	if err != nil {
		return 0, e.failed(log, err)
	}
	if !done {
		return 0, e.reply(ctx, client, job.Job, fmt.Sprintf("@%s %q did nothing: %s", job.Login, buttonLabel(job.Identifier), why))
	}
	return 0, nil
}

// prForHead finds the open pull request whose head is sha, 0 for none.
func (e *Evaluator) prForHead(ctx context.Context, client *github.Client, owner, repo, sha string) (int, error) {
	if sha == "" {
		return 0, nil
	}
	opt := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for {
		prs, resp, err := client.PullRequests.List(ctx, owner, repo, opt)
		if err != nil {
			return 0, errors.New(ghapp.Reason(err))
		}
		for _, pr := range prs {
			if pr.GetHead().GetSHA() == sha {
				return pr.GetNumber(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opt.Page = resp.NextPage
	}
}

// reviewRequest is who a review request goes to.
type reviewRequest struct {
	users, teams []string
}

// reviewers works out whom to ask for review: the teams, users and code
// owners that can satisfy the unmet requirements, never the pull request's
// author, its operators, the human authors of its commits, bots, or those
// whose approval already counts. Teams of another organisation cannot be
// requested and are left out. Named (from `/countersign request-review
// @a @org/b`) restricts the request to those names.
func reviewers(owner string, j *judged, named []string) (reviewRequest, []string) {
	v := j.v
	// Who took part in the change, as the engine decides: their approval
	// cannot count, so they are never asked.
	var involved checks.Involved
	if j.g != nil && j.g.Compiled != nil && j.g.Facts != nil {
		involved = j.g.Compiled.Involved(j.g.Facts)
	}
	excluded := map[string]bool{}
	if j.pr != nil {
		excluded[strings.ToLower(j.pr.AuthorLogin)] = true
	}
	delete(excluded, "")
	var rr reviewRequest
	var skipped []string
	addUser := func(login string) {
		l := strings.ToLower(strings.TrimPrefix(login, "@"))
		switch {
		case l == "" || slices.Contains(rr.users, l):
		case excluded[l] || involved.Has(l) || checks.IsBot(l, ""):
			skipped = append(skipped, "@"+l)
		default:
			rr.users = append(rr.users, l)
		}
	}
	addTeam := func(team string) {
		org, slug, ok := strings.Cut(strings.ToLower(strings.TrimPrefix(team, "@")), "/")
		switch {
		case !ok || slug == "" || slices.Contains(rr.teams, slug):
		case !strings.EqualFold(org, owner):
			skipped = append(skipped, "@"+org+"/"+slug)
		default:
			rr.teams = append(rr.teams, slug)
		}
	}
	add := func(name string) {
		if strings.Contains(name, "/") {
			addTeam(name)
		} else if !strings.Contains(name, "@") || strings.HasPrefix(name, "@") {
			addUser(name)
		}
	}
	if len(named) > 0 {
		for _, n := range named {
			add(n)
		}
		return rr, skipped
	}
	for _, r := range v.Requirements {
		if r.Met {
			continue
		}
		for _, s := range r.SatisfiedBy {
			excluded[strings.ToLower(s)] = true
		}
		for _, t := range r.Eligible.Teams {
			addTeam(t)
		}
		for _, u := range r.Eligible.Users {
			addUser(u)
		}
		for _, o := range r.Eligible.CodeOwners {
			if strings.HasPrefix(o, "@") {
				add(o)
			}
		}
	}
	return rr, skipped
}

// requestReview asks the eligible reviewers of the unmet requirements (or
// the named ones) for review. It reports whether a request was made and,
// when none was, why.
func (e *Evaluator) requestReview(ctx context.Context, client *github.Client, job server.Job, j *judged, named []string) (bool, string, error) {
	v := j.v
	if len(named) == 0 {
		unmet := 0
		for _, r := range v.Requirements {
			if !r.Met {
				unmet++
			}
		}
		if unmet == 0 {
			return false, "no approval is missing (" + v.Title + ").", nil
		}
	}
	rr, skipped := reviewers(job.Owner, j, named)
	// Only collaborators can be asked; a user without access would make
	// GitHub refuse the whole request.
	users := rr.users[:0:0]
	for _, u := range rr.users {
		a, err := ghfacts.Permission(ctx, client, job.Owner, job.Repo, u)
		if err != nil {
			return false, "", err
		}
		if config.PermissionRank(a.Permission) == 0 {
			skipped = append(skipped, "@"+u)
			continue
		}
		users = append(users, u)
	}
	rr.users = users
	if len(rr.users) == 0 && len(rr.teams) == 0 {
		why := "there is nobody in particular to ask: "
		if len(named) > 0 {
			why = "none of the names can be asked: "
		}
		why += "the approvals missing can come from " + whoCan(v) + "."
		if len(skipped) > 0 {
			why += " Left out (author, operator, commit author, bot, no access or another organisation): " + strings.Join(skipped, ", ") + "."
		}
		return false, why, nil
	}
	_, _, err := client.PullRequests.RequestReviewers(ctx, job.Owner, job.Repo, job.Number, github.ReviewersRequest{Reviewers: rr.users, TeamReviewers: rr.teams})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == 422 {
			return false, "GitHub refused the request: " + ghapp.Reason(err), nil
		}
		return false, "", err
	}
	e.log.Info("review requested", "repo", job.Owner+"/"+job.Repo, "pr", job.Number, "users", rr.users, "teams", rr.teams)
	return true, "", nil
}

// whoCan names who may give the missing approvals.
func whoCan(v *checks.Verdict) string {
	var parts []string
	for _, r := range v.Requirements {
		if r.Met {
			continue
		}
		el := r.Eligible
		var names []string
		for _, t := range el.Teams {
			names = append(names, "@"+t)
		}
		for _, u := range el.Users {
			names = append(names, "@"+u)
		}
		names = append(names, el.CodeOwners...)
		who := "anyone with " + el.Permission + " permission"
		if len(names) > 0 {
			who = strings.Join(names, ", ")
		}
		parts = append(parts, r.Name+": "+who)
	}
	if len(parts) == 0 {
		return "nobody (nothing is missing)"
	}
	return strings.Join(parts, "; ")
}
