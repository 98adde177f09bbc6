package server

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// Interactions is implemented by a Backend that also answers people: the
// `/countersign` comment commands, the check run's buttons and the merge
// queue. A Backend without it still gets the re-evaluations these events
// cause (an approval comment, an edited one), but no replies.
type Interactions interface {
	// Command carries out the `/countersign` commands of one comment on a
	// pull request: it reacts to those it acts on and answers those it
	// refuses. Reevaluate asks the server to evaluate the pull request again
	// (an allowed recheck).
	Command(ctx context.Context, job CommandJob) (reevaluate bool, err error)
	// RequestedAction carries out a click on one of the check run's buttons.
	// Reevaluate is the number of the pull request to evaluate again (an
	// allowed Re-check), 0 for none.
	RequestedAction(ctx context.Context, job ActionJob) (reevaluate int, err error)
	// MergeGroup evaluates every pull request of a merge group now and
	// publishes the countersign check run on the group's head commit.
	MergeGroup(ctx context.Context, job MergeGroupJob) error
}

// CommandJob is one comment holding `/countersign` commands.
type CommandJob struct {
	// Job is the pull request the comment is on; Job.HeadSHA is empty.
	Job
	// CommentID, Login, UserType and Body describe the comment.
	CommentID       int64
	Login, UserType string
	Body            string
	// Edited is true for an edited comment: its commands are never carried out.
	Edited bool
	// CreatedAt is when the comment was written.
	CreatedAt time.Time
	// UpdatedAt is when the comment was last written; with CommentID it names the version whose commands are carried out once.
	UpdatedAt time.Time `json:",omitzero"`
}

// ActionJob is a click on a check run's requested action (a button).
type ActionJob struct {
	// Job is the pull request the check run is for; Number is 0 when the
	// payload listed none (a fork's pull request): the backend then looks
	// for the open pull request whose head is Job.HeadSHA.
	Job
	// CheckRunID is the check run clicked, Identifier the button.
	CheckRunID int64
	Identifier string
	// Login is who clicked.
	Login string
}

// MergeGroupJob is a merge group whose checks GitHub asked for.
type MergeGroupJob struct {
	// Installation, Owner and Repo say where.
	Installation int64
	Owner, Repo  string
	// HeadSHA and HeadRef are the group's temporary commit and branch
	// (refs/heads/gh-readonly-queue/{base}/pr-{N}-{sha}); BaseSHA and BaseRef
	// what it merges into.
	HeadSHA, HeadRef, BaseSHA, BaseRef string
	// Reason and DeliveryID are for logs.
	Reason, DeliveryID string
}

// Key identifies the merge group.
func (j MergeGroupJob) Key() string { return "merge_group:" + j.Owner + "/" + j.Repo + "@" + j.HeadSHA }

// handleIssueComment handles `/countersign` commands in pull-request
// comments. Comments on issues, comments by bots (the app's own included)
// and comments without a command are ignored. A created comment whose
// commands may change the verdict (approve, override) re-evaluates the pull
// request at once, and so does deleting one. An edited comment that held or
// holds a command goes to the backend's command task alone, which voids it
// and only then queues the re-evaluation, so that no evaluation runs before
// the comment is known to be void (a backend without Interactions voids
// nothing and gets the evaluation at once).
func handleIssueComment(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.IssueCommentEvent)
	if !e.GetIssue().IsPullRequest() {
		d.log.Debug("comment on an issue, not a pull request; ignored")
		return nil, nil
	}
	c := e.GetComment()
	if u := c.GetUser(); checks.IsBot(u.GetLogin(), u.GetType()) {
		d.log.Debug("comment by a bot; ignored", slog.String("login", c.GetUser().GetLogin()))
		return nil, nil
	}
	cmds := checks.ParseCommands(c.GetBody())
	var old []checks.Command
	if d.action == "edited" {
		old = checks.ParseCommands(e.GetChanges().GetBody().GetFrom())
	}
	if len(cmds) == 0 && len(old) == 0 {
		return nil, nil
	}
	base, err := s.prJob(d, e.GetInstallation(), e.GetRepo(), e.GetIssue().GetNumber(), "", nil)
	if err != nil {
		return nil, err
	}
	if d.action == "deleted" {
		// A deleted approval or override no longer counts: judge again.
		if changesVerdict(cmds) {
			return base, nil
		}
		return nil, nil
	}
	job := base[0].job
	ib, interacts := s.backend.(Interactions)
	edited := d.action == "edited"
	var out []task
	if (!edited && changesVerdict(cmds)) || (edited && !interacts) {
		out = append(out, base...)
	}
	if interacts {
		cj := CommandJob{Job: job, CommentID: c.GetID(), Login: c.GetUser().GetLogin(), UserType: c.GetUser().GetType(),
			Body: c.GetBody(), Edited: edited, CreatedAt: c.GetCreatedAt().Time,
			UpdatedAt: c.GetUpdatedAt().Time}
		out = append(out, s.commandTask(ib, cj))
	}
	return out, nil
}

// changesVerdict reports whether commands may change the verdict.
func changesVerdict(cmds []checks.Command) bool {
	for _, c := range cmds {
		if c.Verb == checks.VerbApprove || c.Verb == checks.VerbOverride {
			return true
		}
	}
	return false
}

// handleRequestedAction handles a click on a check run's button.
func handleRequestedAction(s *Server, d *delivery, e *github.CheckRunEvent) ([]task, error) {
	cr := e.GetCheckRun()
	if cr.GetName() != checks.CheckName {
		return nil, nil
	}
	ib, ok := s.backend.(Interactions)
	if !ok {
		return nil, nil
	}
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	owner, name, err := repoOf(e.GetRepo())
	if err != nil {
		return nil, err
	}
	ident := e.GetRequestedAction().Identifier
	if ident == "" {
		return nil, payloadError("requested_action without an identifier")
	}
	number := 0
	for _, pr := range cr.PullRequests {
		if pr.GetNumber() > 0 {
			number = pr.GetNumber()
			break
		}
	}
	job := Job{Installation: id, Owner: owner, Repo: name, Number: number, HeadSHA: cr.GetHeadSHA(), Reason: d.reason(), DeliveryID: d.id}
	aj := ActionJob{Job: job, CheckRunID: cr.GetID(), Identifier: ident, Login: e.GetSender().GetLogin()}
	return []task{s.actionTask(ib, aj)}, nil
}

// handleMergeGroup reports the countersign check on a merge group's head.
func handleMergeGroup(s *Server, d *delivery, ev any) ([]task, error) {
	e := ev.(*github.MergeGroupEvent)
	ib, ok := s.backend.(Interactions)
	if !ok {
		d.log.Warn("merge group not checked: the backend does not evaluate merge groups")
		return nil, nil
	}
	id, err := installationID(e.GetInstallation())
	if err != nil {
		return nil, err
	}
	owner, name, err := repoOf(e.GetRepo())
	if err != nil {
		return nil, err
	}
	mg := e.GetMergeGroup()
	if mg.GetHeadSHA() == "" {
		return nil, payloadError("merge_group without head_sha")
	}
	mj := MergeGroupJob{Installation: id, Owner: owner, Repo: name, HeadSHA: mg.GetHeadSHA(), HeadRef: mg.GetHeadRef(),
		BaseSHA: mg.GetBaseSHA(), BaseRef: mg.GetBaseRef(),
		Reason: d.reason(), DeliveryID: d.id}
	return []task{s.mergeGroupTask(ib, mj)}, nil
}

// commandTask carries out the commands of one comment. An edited comment's
// task always re-evaluates the pull request once Command (which voids the
// comment) succeeded: the intake queues no evaluation beside it. Commands
// carried out are recorded (commandLedger) before the re-evaluation is
// queued, so a task run again queues the re-evaluation without carrying
// them out, and replying, a second time.
func (s *Server) commandTask(ib Interactions, cj CommandJob) task {
	t := s.interactionTask("comment:"+cj.Job.Key()+":"+itoa(cj.CommentID), cj.Job, func(ctx context.Context) (int, error) {
		key := commandKey(cj)
		done, again, err := s.commands.carriedOut(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("reading whether the comment's commands were carried out: %w", err)
		}
		if !done {
			again, err = ib.Command(ctx, cj)
			if err == nil {
				again = again || cj.Edited
				if merr := s.commands.markCarriedOut(ctx, key, again); merr != nil {
					// Not an error of the task: a retry would carry them out again.
					s.log.Warn("could not record that a comment's commands were carried out; a retry may repeat them",
						slog.String("delivery", cj.DeliveryID), slog.Int64("comment", cj.CommentID), slog.Any("error", merr))
				}
			}
		}
		if again {
			return cj.Number, err
		}
		return 0, err
	})
	t.spec = taskSpec{Op: opCommand, Job: cj.Job, Command: &cj}
	return t
}

// actionTask carries out a click on one of the check run's buttons.
func (s *Server) actionTask(ib Interactions, aj ActionJob) task {
	key := "action:" + aj.Owner + "/" + aj.Repo + "@" + aj.HeadSHA + ":" + strconv.Itoa(aj.Number) + ":" + aj.Identifier + ":" + strings.ToLower(aj.Login)
	t := s.interactionTask(key, aj.Job, func(ctx context.Context) (int, error) {
		return ib.RequestedAction(ctx, aj)
	})
	t.spec = taskSpec{Op: opAction, Job: aj.Job, Action: &aj}
	return t
}

// mergeGroupTask checks a merge group's head.
func (s *Server) mergeGroupTask(ib Interactions, mj MergeGroupJob) task {
	job := Job{Installation: mj.Installation, Owner: mj.Owner, Repo: mj.Repo, HeadSHA: mj.HeadSHA, Reason: mj.Reason, DeliveryID: mj.DeliveryID}
	return task{key: mj.Key(), kind: kindEvaluate, job: job, spec: taskSpec{Op: opMergeGroup, Job: job, MergeGroup: &mj},
		run: func(ctx context.Context) error { return ib.MergeGroup(ctx, mj) }}
}

// interactionTask runs a command or button click under its own key (so a
// later event for the same pull request never coalesces it away) and, when
// it names one, queues an evaluation of that pull request.
func (s *Server) interactionTask(key string, job Job, run func(ctx context.Context) (int, error)) task {
	return task{key: key, kind: kindEvaluate, job: job, run: func(ctx context.Context) error {
		number, err := run(ctx)
		if number > 0 {
			if serr := s.q.submit(ctx, []task{s.evalTask(ctx, Job{Installation: job.Installation, Owner: job.Owner, Repo: job.Repo,
				Number: number, Reason: job.Reason, DeliveryID: job.DeliveryID})}, false); serr != nil {
				return fmt.Errorf("queueing the re-evaluation: %w", serr)
			}
		}
		return err
	}}
}
