package server

import (
	"context"
	"strings"

	"github.com/google/go-github/v62/github"
)

// Kinds of landing work, the "kind" label of the work metrics.
const (
	kindLanding = "landing"
	kindDeploy  = "deploy"
)

// PushJob asks for one push to a branch to be accounted for: if the branch
// is protected, every commit new to it is judged and the countersign/landing
// record written on the pushed head.
type PushJob struct {
	// Installation is the GitHub App installation id the event came from.
	Installation int64
	// Owner and Repo name the repository; DefaultBranch is its default branch.
	Owner, Repo, DefaultBranch string
	// Branch is the pushed branch, without refs/heads/.
	Branch string
	// Before and After are the branch's commits before and after the push.
	Before, After string
	// Created and Forced are the push's flags.
	Created, Forced bool
	// Pusher is the push's pusher name; Sender the login that sent it.
	Pusher, Sender string
	// Commits are the push payload's commits (at most 2048, GitHub's limit).
	Commits []*github.HeadCommit
	// Reason and DeliveryID say what triggered it, for logs.
	Reason, DeliveryID string
}

// Key identifies the push; work on one pushed head is serialized and coalesced.
func (j PushJob) Key() string {
	return "landing:" + j.Owner + "/" + j.Repo + "@" + j.Branch + "@" + j.After
}

// DeployJob asks for one deployment protection rule request to be answered.
type DeployJob struct {
	// Installation is the GitHub App installation id the event came from.
	Installation int64
	// Owner and Repo name the repository.
	Owner, Repo string
	// Environment is the environment deployed to; SHA and Ref what is deployed.
	Environment, SHA, Ref string
	// CallbackURL is the event's deployment_callback_url.
	CallbackURL string
	// Reason and DeliveryID say what triggered it, for logs.
	Reason, DeliveryID string
}

// Key identifies the request.
func (j DeployJob) Key() string {
	return "deploy:" + j.Owner + "/" + j.Repo + "@" + j.CallbackURL + "@" + j.Environment
}

// Landing records what lands on protected branches and answers deployment
// protection rule requests. The bot/landing package implements it.
type Landing interface {
	// Record accounts for a push and writes the countersign/landing check
	// run on its head (nothing for a branch that is not protected). An
	// error means it should be tried again; the record then already says
	// failure, never success.
	Record(ctx context.Context, job PushJob) error
	// Gate approves or rejects a deployment through its callback. An error
	// means no answer was given and it should be tried again.
	Gate(ctx context.Context, job DeployJob) error
}

// landingTask accounts for one push.
func (s *Server) landingTask(j PushJob) task {
	job := Job{Installation: j.Installation, Owner: j.Owner, Repo: j.Repo, HeadSHA: j.After, Reason: j.Reason, DeliveryID: j.DeliveryID}
	return task{key: j.Key(), kind: kindLanding, job: job, spec: taskSpec{Op: opLanding, Job: job, Push: &j},
		run: func(ctx context.Context) error { return s.opt.Landing.Record(ctx, j) }}
}

// pushLanding is the landing work of a push: none without a Landing, for a
// deletion, a tag, or a push that moved nothing.
func (s *Server) pushLanding(d *delivery, e *github.PushEvent) ([]task, error) {
	if s.opt.Landing == nil || e.GetDeleted() || e.GetAfter() == "" || strings.Trim(e.GetAfter(), "0") == "" || e.GetBefore() == e.GetAfter() {
		return nil, nil
	}
	branch, ok := strings.CutPrefix(e.GetRef(), "refs/heads/")
	if !ok || branch == "" {
		return nil, nil
	}
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	repo := e.GetRepo()
	owner, name, err := ownerName(repo.GetOwner(), repo.GetName(), repo.GetFullName())
	if err != nil {
		return nil, err
	}
	def := repo.GetDefaultBranch()
	if def == "" {
		def = repo.GetMasterBranch()
	}
	return []task{s.landingTask(PushJob{
		Installation: id, Owner: owner, Repo: name, DefaultBranch: def, Branch: branch,
		Before: e.GetBefore(), After: e.GetAfter(), Created: e.GetCreated(), Forced: e.GetForced(),
		Pusher: e.GetPusher().GetName(), Sender: e.GetSender().GetLogin(), Commits: e.Commits,
		Reason: d.reason(), DeliveryID: d.id,
	})}, nil
}

// handleDeploymentProtectionRule answers a deployment waiting on the app's
// custom deployment protection rule.
func handleDeploymentProtectionRule(s *Server, d *delivery, ev any) ([]task, error) {
	if s.opt.Landing == nil {
		return nil, nil
	}
	e := ev.(*github.DeploymentProtectionRuleEvent)
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	owner, name, err := repoOf(e.GetRepo())
	if err != nil {
		return nil, err
	}
	if e.GetDeploymentCallbackURL() == "" || e.GetEnvironment() == "" {
		return nil, payloadError("no deployment_callback_url or environment")
	}
	j := DeployJob{Installation: id, Owner: owner, Repo: name, Environment: e.GetEnvironment(),
		SHA: e.GetDeployment().GetSHA(), Ref: e.GetDeployment().GetRef(), CallbackURL: e.GetDeploymentCallbackURL(),
		Reason: d.reason(), DeliveryID: d.id}
	return []task{s.deployTask(j)}, nil
}

// deployTask answers one deployment protection rule request.
func (s *Server) deployTask(j DeployJob) task {
	job := Job{Installation: j.Installation, Owner: j.Owner, Repo: j.Repo, HeadSHA: j.SHA, Reason: j.Reason, DeliveryID: j.DeliveryID}
	return task{key: j.Key(), kind: kindDeploy, job: job, spec: taskSpec{Op: opDeploy, Job: job, Deploy: &j},
		run: func(ctx context.Context) error { return s.opt.Landing.Gate(ctx, j) }}
}
