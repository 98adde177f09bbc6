package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// eventHandler turns one kind of verified, parsed delivery into queued work.
// The table of them (eventHandlers) is the list of events the server acts on.
type eventHandler struct {
	// event is the X-GitHub-Event name.
	event string
	// actions are the payload actions handled; nil for events that have no
	// action (push), whose every delivery is handled.
	actions []string
	// handle returns the work a delivery asks for; an error means the payload
	// lacks what the work needs (a 400).
	handle func(s *Server, d *delivery, ev any) ([]task, error)
}

// eventHandlers is the one table of handled events.
func eventHandlers() []eventHandler {
	return []eventHandler{
		{"pull_request", []string{"opened", "reopened", "synchronize", "edited", "ready_for_review", "labeled", "unlabeled"}, handlePullRequest},
		{"pull_request_review", []string{"submitted", "edited", "dismissed"}, handlePullRequestReview},
		{"check_run", []string{"rerequested", "requested_action"}, handleCheckRun},
		{"check_suite", []string{"rerequested"}, handleCheckSuite},
		{"installation", []string{"created", "new_permissions_accepted", "unsuspend"}, handleInstallation},
		{"installation_repositories", []string{"added"}, handleInstallationRepositories},
		{"push", nil, handlePush},
		{"issue_comment", []string{"created", "edited", "deleted"}, handleIssueComment},
		{"merge_group", []string{"checks_requested"}, handleMergeGroup},
		{"deployment_protection_rule", []string{"requested"}, handleDeploymentProtectionRule},
		{"member", []string{"added", "removed", "edited"}, handleMember},
		{"membership", []string{"added", "removed"}, handleMembership},
		{"organization", []string{"member_added", "member_removed"}, handleOrganization},
		{"team", []string{"deleted", "edited", "added_to_repository", "removed_from_repository"}, handleTeam},
	}
}

// HandledEvents returns the webhook events the server acts on, each with the
// actions it handles; an empty list means every delivery of the event (push
// has no action). The app's subscribed events must cover these.
func HandledEvents() map[string][]string {
	out := map[string][]string{}
	for _, h := range eventHandlers() {
		out[h.event] = append([]string{}, h.actions...)
	}
	return out
}

func (h eventHandler) handles(action string) bool {
	return h.actions == nil || slices.Contains(h.actions, action)
}

// delivery is what the server knows of one webhook delivery.
type delivery struct {
	// ctx is the request's.
	ctx               context.Context
	id, event, action string
	log               *slog.Logger
	// at is when the delivery was received.
	at time.Time
}

func (d *delivery) reason() string {
	if d.action == "" {
		return d.event
	}
	return d.event + "." + d.action
}

// errPayload marks a payload that lacks what its handling needs.
var errPayload = errors.New("payload")

// errNotForApp marks a well-formed delivery that no GitHub App installation
// sent (it names no installation): there is no token to act with, so it is
// acknowledged and ignored rather than refused.
var errNotForApp = errors.New("delivery names no installation; not from a GitHub App installation")

// errUnavailable marks a delivery whose handling needs shared state that
// could not be written (Redis): it is refused with 503 and redelivered.
var errUnavailable = errors.New("shared state unavailable")

func payloadError(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errPayload}, a...)...)
}

func installationID(in *github.Installation) (int64, error) {
	if id := in.GetID(); id > 0 {
		return id, nil
	}
	return 0, errNotForApp
}

// ownerName returns a repository's owner login and name.
func ownerName(owner *github.User, name, fullName string) (string, string, error) {
	o := owner.GetLogin()
	if o == "" {
		o = owner.GetName() // push payloads' repository.owner has name
	}
	if (o == "" || name == "") && fullName != "" {
		if fo, fn, ok := strings.Cut(fullName, "/"); ok {
			o, name = fo, fn
		}
	}
	if o == "" || name == "" || strings.Contains(name, "/") {
		return "", "", payloadError("no repository owner and name")
	}
	return o, name, nil
}

func repoOf(r *github.Repository) (string, string, error) {
	return ownerName(r.GetOwner(), r.GetName(), r.GetFullName())
}

// prJob builds the evaluation task of one pull request.
func (s *Server) prJob(d *delivery, inst *github.Installation, repo *github.Repository, number int, head string, snap *github.PullRequest) ([]task, error) {
	id, err := installationID(inst)
	if err != nil {
		return nil, err
	}
	owner, name, err := repoOf(repo)
	if err != nil {
		return nil, err
	}
	if number <= 0 {
		return nil, payloadError("no pull request number")
	}
	return []task{s.evalTask(d.ctx, Job{Installation: id, Owner: owner, Repo: name, Number: number,
		HeadSHA: head, Reason: d.reason(), DeliveryID: d.id, Snapshot: snap})}, nil
}

// headMoves are the pull_request actions that move a pull request to the head they carry.
var headMoves = []string{"opened", "synchronize", "reopened"}

func handlePullRequest(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.PullRequestEvent)
	pr := e.GetPullRequest()
	number := pr.GetNumber()
	if number == 0 {
		number = e.GetNumber()
	}
	tasks, err := s.prJob(d, e.GetInstallation(), e.GetRepo(), number, pr.GetHead().GetSHA(), pr)
	if err != nil {
		return tasks, err
	}
	mr, ok := s.backend.(MoveRecorder)
	if !ok {
		return tasks, nil
	}
	j := tasks[0].job
	full := j.Owner + "/" + j.Repo
	at := d.at
	if u := pr.GetUpdatedAt().Time; u.After(at) {
		at = u // a clock behind GitHub's must not let an older comment count
	}
	if slices.Contains(headMoves, d.action) && pr.GetHead().GetSHA() != "" {
		if err := mr.RecordMove(d.ctx, full, number, pr.GetHead().GetSHA(), at); err != nil {
			return nil, fmt.Errorf("%w: recording the move to %s: %v", errUnavailable, pr.GetHead().GetSHA(), err)
		}
	}
	// The base a pull request is opened with is recorded with no time, so
	// that a base found different later, with no retarget recorded, is
	// known to have changed unseen. A retarget (edited, changes.base)
	// changes the diff at the same head: approvals before it are stale.
	base := pr.GetBase().GetRef()
	var baseAt time.Time
	switch {
	case d.action == "opened" && base != "":
	case d.action == "edited" && e.GetChanges().GetBase() != nil:
		baseAt = at
	default:
		return tasks, nil
	}
	if err := mr.RecordBaseMove(d.ctx, full, number, base, baseAt); err != nil {
		return nil, fmt.Errorf("%w: recording the base %s: %v", errUnavailable, base, err)
	}
	return tasks, nil
}

func handlePullRequestReview(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.PullRequestReviewEvent)
	pr := e.GetPullRequest()
	return s.prJob(d, e.GetInstallation(), e.GetRepo(), pr.GetNumber(), pr.GetHead().GetSHA(), pr)
}

// checkPRs builds the jobs of the pull requests a check run or suite lists.
// GitHub lists none for pull requests from forks; then there is nothing to do.
func (s *Server) checkPRs(d *delivery, inst *github.Installation, repo *github.Repository, prs []*github.PullRequest, head string) ([]task, error) {
	var out []task
	for _, pr := range prs {
		sha := pr.GetHead().GetSHA()
		if sha == "" {
			sha = head
		}
		t, err := s.prJob(d, inst, repo, pr.GetNumber(), sha, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	if len(out) == 0 {
		d.log.Info("check rerequested with no pull requests in the payload; nothing to evaluate")
	}
	return out, nil
}

func handleCheckRun(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.CheckRunEvent)
	if d.action == "requested_action" {
		return handleRequestedAction(s, d, e)
	}
	cr := e.GetCheckRun()
	return s.checkPRs(d, e.GetInstallation(), e.GetRepo(), cr.PullRequests, cr.GetHeadSHA())
}

func handleCheckSuite(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.CheckSuiteEvent)
	cs := e.GetCheckSuite()
	return s.checkPRs(d, e.GetInstallation(), e.GetRepo(), cs.PullRequests, cs.GetHeadSHA())
}

// handleInstallation re-evaluates every repository of an installation that
// was created, unsuspended or granted new permissions. The repositories are
// listed through the API rather than taken from the payload, which GitHub
// may not list in full.
func handleInstallation(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.InstallationEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	return []task{s.installationTask(d.reason(), d.id, id, "")}, nil
}

func handleInstallationRepositories(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.InstallationRepositoriesEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	account := e.GetInstallation().GetAccount()
	var out []task
	for _, r := range e.RepositoriesAdded {
		owner, name, err := ownerName(nil, "", r.GetFullName())
		if r.GetFullName() == "" {
			owner, name, err = ownerName(account, r.GetName(), "")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s.repoTask(d.reason(), d.id, id, owner, name))
	}
	return out, nil
}

// policyFiles are the paths of the policy file. The evaluator reads it at
// each pull request's base branch tip, so its change on any branch may change
// the verdict of a repository's open pull requests; on the default branch of
// an account's .github repository it may change those of every repository.
var policyFiles = []string{config.FileName, policyfile.AltFileName}

// baseFiles are the files read at the base branch tip whose change on any
// branch may change the verdict of the repository's open pull requests: the
// policy file and CODEOWNERS (checks.CodeOwnersPaths), which, like the
// policy, is read at each pull request's base branch tip.
var baseFiles = slices.Concat(policyFiles, checks.CodeOwnersPaths)

// maxPushCommits is how many commits GitHub lists in a push payload at most.
const maxPushCommits = 2048

// pushTouches reports whether a push may have changed one of files.
// When the payload cannot tell (a forced push, no commits listed, or the
// list cut at GitHub's limit) it answers yes: re-evaluating is harmless,
// keeping a stale verdict is not.
func pushTouches(e *github.PushEvent, files []string) (bool, string) {
	if e.GetForced() {
		return true, "forced push"
	}
	if len(e.Commits) == 0 && e.GetBefore() != e.GetAfter() {
		return true, "no commits listed"
	}
	if len(e.Commits) >= maxPushCommits {
		return true, "commit list truncated"
	}
	commits := append([]*github.HeadCommit{e.HeadCommit}, e.Commits...)
	for _, c := range commits {
		if c == nil {
			continue
		}
		for _, list := range [][]string{c.Added, c.Removed, c.Modified} {
			for _, p := range list {
				if slices.Contains(files, p) {
					return true, p + " changed"
				}
			}
		}
	}
	return false, ""
}

// handlePush re-evaluates a repository's open pull requests when a push to
// any of its branches may have changed the policy file or a CODEOWNERS file:
// both are read at each pull request's base branch tip, so a pull request
// whose base is the pushed branch may change verdict (those based elsewhere
// re-evaluate to the same one). A policy change on the default branch of an
// account's .github repository re-evaluates every repository of the
// installation in that account, and the backend decides which of them inherit
// the policy. With a Landing, a push to a branch is also accounted for
// (PushJob).
func handlePush(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.PushEvent)
	land, err := s.pushLanding(d, e)
	if err != nil {
		return nil, err
	}
	base, err := s.pushBase(d, e)
	return append(land, base...), err
}

// pushBase is the re-evaluation a push asks for when it may have changed
// the policy or a CODEOWNERS file (see handlePush).
func (s *Server) pushBase(d *delivery, e *github.PushEvent) ([]task, error) {
	repo := e.GetRepo()
	if e.GetDeleted() {
		return nil, nil
	}
	branch, ok := strings.CutPrefix(e.GetRef(), "refs/heads/")
	if !ok || branch == "" {
		return nil, nil // a tag, or no branch at all: no pull request's base
	}
	touches, why := pushTouches(e, baseFiles)
	if !touches {
		return nil, nil
	}
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	owner, name, err := ownerName(repo.GetOwner(), repo.GetName(), repo.GetFullName())
	if err != nil {
		return nil, err
	}
	def := repo.GetDefaultBranch()
	if def == "" {
		def = repo.GetMasterBranch()
	}
	if name == config.OrgRepo && (def == "" || branch == def) {
		if org, orgWhy := pushTouches(e, policyFiles); org {
			d.log.Info("organization policy may have changed on the default branch", slog.String("branch", branch), slog.String("why", orgWhy))
			return []task{s.installationTask(d.reason(), d.id, id, owner)}, nil
		}
	}
	d.log.Info("policy or CODEOWNERS may have changed on a branch", slog.String("branch", branch), slog.String("why", why))
	return []task{s.repoTask(d.reason(), d.id, id, owner, name)}, nil
}

// A change of standing (a collaborator's permission, a team's members, an
// organization's members, a team's access) re-evaluates the open pull
// requests whose verdict read the standing of someone it may change; the
// backend says which (StandingFilter), and a pull request it cannot say of
// is evaluated again. Organization-wide changes cover the installation's
// repositories of that organization: teams of another organization never
// count (the installation cannot read them).

// standingOf names the one login whose standing an event changed.
func standingOf(u *github.User) (*Standing, error) {
	login := strings.ToLower(u.GetLogin())
	if login == "" {
		return nil, payloadError("no member login")
	}
	return &Standing{Logins: []string{login}}, nil
}

// handleMember: a repository collaborator was added, removed, or had their
// permission changed.
func handleMember(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.MemberEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	owner, name, err := repoOf(e.GetRepo())
	if err != nil {
		return nil, err
	}
	st, err := standingOf(e.GetMember())
	if err != nil {
		return nil, err
	}
	return []task{s.repoTaskFor(d.reason(), d.id, id, owner, name, st)}, nil
}

// orgLogin is an organization event's organization.
func orgLogin(o *github.Organization) (string, error) {
	if l := o.GetLogin(); l != "" {
		return l, nil
	}
	return "", payloadError("no organization login")
}

// handleMembership: someone joined or left a team, which may also change
// their permission on every repository the team has access to.
func handleMembership(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.MembershipEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	org, err := orgLogin(e.GetOrg())
	if err != nil {
		return nil, err
	}
	st, err := standingOf(e.GetMember())
	if err != nil {
		return nil, err
	}
	return []task{s.installationTaskFor(d.reason(), d.id, id, org, st)}, nil
}

// handleOrganization: someone joined or left the organization (leaving
// ends their team memberships and their access through the organization).
func handleOrganization(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.OrganizationEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	org, err := orgLogin(e.GetOrganization())
	if err != nil {
		return nil, err
	}
	st, err := standingOf(e.GetMembership().GetUser())
	if err != nil {
		return nil, err
	}
	return []task{s.installationTaskFor(d.reason(), d.id, id, org, st)}, nil
}

// handleTeam: a team was deleted or edited (name, parent, or its permission
// on a repository), or gained or lost access to a repository. The payload
// does not list the team's members, so every verdict that read anyone's
// standing in the repository (or, with none named, in the organization's
// repositories) is judged again.
func handleTeam(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.TeamEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	st := &Standing{Anyone: true}
	if e.GetRepo() != nil {
		owner, name, err := repoOf(e.GetRepo())
		if err != nil {
			return nil, err
		}
		return []task{s.repoTaskFor(d.reason(), d.id, id, owner, name, st)}, nil
	}
	org, err := orgLogin(e.GetOrg())
	if err != nil {
		return nil, err
	}
	return []task{s.installationTaskFor(d.reason(), d.id, id, org, st)}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
