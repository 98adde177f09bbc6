package evaluator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/ghfacts"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

var _ server.Interactions = (*Evaluator)(nil)

// CommandPermission is the repository permission `/countersign recheck`,
// `explain` and `request-review` and the check run's buttons need. It is
// GitHub's level for managing pull requests (requesting reviewers needs it
// there too). Approvals follow the policy's eligibility, overrides its
// overrides list.
const CommandPermission = config.PermissionTriage

// Reactions the bot acknowledges a command with.
const (
	reactionDone     = "+1"
	reactionOverride = "rocket"
)

// maxComment bounds a reply; GitHub's limit is 65,536 characters.
const maxComment = 60000

// Command carries out the `/countersign` commands of one comment: it reacts
// to the comment when it acts on a command and answers, in one comment, why
// it did not act on the others. Every reply is built from the verdict and
// the policy, never from a credential.
func (e *Evaluator) Command(ctx context.Context, job server.CommandJob) (reevaluate bool, err error) {
	log := e.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "pr", job.Number,
		"delivery", job.DeliveryID, "comment", job.CommentID, "login", job.Login)
	client, err := e.client(job.Installation)
	if err != nil {
		return false, err
	}
	cmds := checks.ParseCommands(job.Body)
	if job.Edited {
		// The comment's approval or override, if any, is void from now on:
		// the server evaluates the pull request once this returns.
		if err := e.voidComment(ctx, job.Owner, job.Repo, job.CommentID); err != nil {
			return false, e.failed(log, err)
		}
		if len(cmds) == 0 {
			return true, nil
		}
		log.Info("commands in an edited comment are not carried out")
		return true, e.reply(ctx, client, job.Job, fmt.Sprintf("@%s an edited comment's commands are not carried out, and an edited approval or override no longer counts. Write a new comment instead.", job.Login))
	}
	if len(cmds) == 0 {
		return false, nil
	}

	var (
		j       *judged
		perm    string
		permSet bool
		refused []string
		react   string
		replies []string
	)
	verdict := func() (*judged, error) {
		if j != nil {
			return j, nil
		}
		var err error
		j, err = e.judge(ctx, client, job.Job)
		return j, err
	}
	allowed := func(c checks.Command) (bool, error) {
		if !permSet {
			a, err := ghfacts.Permission(ctx, client, job.Owner, job.Repo, job.Login)
			if err != nil {
				return false, err
			}
			perm, permSet = a.Permission, true
		}
		if config.PermissionRank(perm) >= config.PermissionRank(CommandPermission) {
			return true, nil
		}
		refused = append(refused, fmt.Sprintf("%s needs %s permission or more on %s/%s; @%s has %s.",
			code(checks.CommandPrefix+" "+c.Verb), CommandPermission, job.Owner, job.Repo, job.Login, orNone(perm)))
		return false, nil
	}
	ack := func(r string) {
		if react == "" || r == reactionOverride {
			react = r
		}
	}

	for _, c := range cmds {
		switch {
		case c.Verb == checks.VerbOverride:
			jv, err := verdict()
			if err != nil {
				return false, e.failed(log, err)
			}
			if ok, why := overrideOutcome(jv, job, c); ok {
				ack(reactionOverride)
				e.audit(jv, job)
			} else {
				refused = append(refused, fmt.Sprintf("%s was not carried out: %s", code(c.Raw), why))
			}
		case c.Err != nil:
			refused = append(refused, fmt.Sprintf("%s was not carried out: %s.", code(c.Raw), c.Err))
		case c.Verb == checks.VerbApprove:
			jv, err := verdict()
			if err != nil {
				return false, e.failed(log, err)
			}
			if ok, why := approvalOutcome(jv, job); ok {
				ack(reactionDone)
			} else {
				refused = append(refused, fmt.Sprintf("%s did not count: %s", code(c.Raw), why))
			}
		case c.Verb == checks.VerbRecheck:
			ok, err := allowed(c)
			if err != nil {
				return false, e.failed(log, err)
			}
			if ok {
				ack(reactionDone)
				reevaluate = true
			}
		case c.Verb == checks.VerbExplain:
			ok, err := allowed(c)
			if err != nil {
				return false, e.failed(log, err)
			}
			if !ok {
				continue
			}
			jv, err := verdict()
			if err != nil {
				return false, e.failed(log, err)
			}
			ack(reactionDone)
			replies = append(replies, fmt.Sprintf("@%s the verdict on %s now:\n\n%s", job.Login, code(short(jv.pr.HeadSHA)), fenced(jv.v.Text())))
		case c.Verb == checks.VerbRequestReview:
			ok, err := allowed(c)
			if err != nil {
				return false, e.failed(log, err)
			}
			if !ok {
				continue
			}
			jv, err := verdict()
			if err != nil {
				return false, e.failed(log, err)
			}
			done, why, err := e.requestReview(ctx, client, job.Job, jv, strings.Fields(c.Args))
			if err != nil {
				return false, e.failed(log, err)
			}
			if done {
				ack(reactionDone)
			} else {
				refused = append(refused, fmt.Sprintf("%s did nothing: %s", code(c.Raw), why))
			}
		}
	}
	if react != "" {
		if _, _, err := client.Reactions.CreateIssueCommentReaction(ctx, job.Owner, job.Repo, job.CommentID, react); err != nil {
			log.Warn("could not react to the comment", "err", ghapp.Reason(err))
			return reevaluate, fmt.Errorf("reacting to comment %d: %s", job.CommentID, ghapp.Reason(err))
		}
	}
	if len(refused) > 0 {
		log.Info("commands refused", "refused", len(refused))
		msg := fmt.Sprintf("@%s ", job.Login)
		if len(refused) == 1 {
			msg += refused[0]
		} else {
			msg += "some commands were not carried out:\n\n- " + strings.Join(refused, "\n- ")
		}
		replies = append(replies, msg)
	}
	if len(replies) > 0 {
		if err := e.reply(ctx, client, job.Job, strings.Join(replies, "\n\n---\n\n")); err != nil {
			return reevaluate, err
		}
	}
	return reevaluate, nil
}

// failed logs and returns an error that leaves a command to be tried again.
func (e *Evaluator) failed(log *slog.Logger, err error) error {
	log.Warn("could not carry out the command", "err", ghapp.Reason(err))
	return fmt.Errorf("command: %s", ghapp.Reason(err))
}

// approvalOutcome says whether a `/countersign approve` comment counted, and why not.
func approvalOutcome(j *judged, job server.CommandJob) (bool, string) {
	v := j.v
	if j.g != nil && j.g.Policy != nil && !j.g.Policy.Commands.ApproveEnabled() {
		return false, "comment approvals are off in this repository's policy (`commands.approve`); approve with a pull-request review instead."
	}
	for _, x := range v.Excluded {
		if x.ID == job.CommentID && x.Source == checks.SourceComment {
			return false, exclusionText(x, j.pr.HeadSHA)
		}
	}
	for _, r := range v.Requirements {
		for _, s := range r.SatisfiedBy {
			if config.SameLogin(s, job.Login) {
				return true, ""
			}
		}
	}
	switch {
	case len(v.Errors) > 0 || j.g == nil || j.g.Policy == nil:
		return false, "the check cannot be evaluated: " + v.Title
	case len(v.Requirements) == 0:
		return false, "nothing here needs an approval (" + v.Title + ")."
	}
	return false, "it is not counted: " + v.Title
}

// overrideOutcome says whether an override comment is the override in force, and why not.
func overrideOutcome(j *judged, job server.CommandJob, c checks.Command) (bool, string) {
	v := j.v
	if v.Override != nil && v.Override.ID == job.CommentID {
		return true, ""
	}
	for _, x := range v.Excluded {
		if x.ID == job.CommentID && x.Source == checks.SourceOverride {
			return false, exclusionText(x, j.pr.HeadSHA)
		}
	}
	switch {
	case c.Err != nil:
		return false, c.Err.Error() + "."
	case j.g == nil || j.g.Policy == nil:
		return false, "the check cannot be evaluated: " + v.Title
	}
	return false, "it is not in force: " + v.Title
}

// exclusionText explains an exclusion to the person it concerns.
func exclusionText(x checks.Exclusion, head string) string {
	if x.Reason == checks.ExcludedStale {
		// A command applies to the head the pull request was at when it was written.
		return fmt.Sprintf("it was written before the pull request last moved to its current head %s (or before Countersign saw that head); write it again.", code(short(head)))
	}
	d := x.Detail
	if d == "" {
		d = x.Reason
	}
	return fmt.Sprintf("%s (%s).", strings.TrimSuffix(d, "."), code(x.Reason))
}

// audit records an override in force: who, what, when, why and which
// protected files it lets through.
func (e *Evaluator) audit(j *judged, job server.CommandJob) {
	v := j.v
	files := make([]string, 0, len(v.ProtectedFiles))
	for _, f := range v.ProtectedFiles {
		files = append(files, f.Path)
	}
	var unmet []string
	for _, r := range v.Requirements {
		if !r.Met {
			unmet = append(unmet, r.Name)
		}
	}
	e.log.Warn("check overridden",
		slog.Bool("audit", true),
		slog.String("actor", job.Login),
		slog.String("repo", job.Owner+"/"+job.Repo),
		slog.Int("pr", job.Number),
		slog.String("head_sha", j.pr.HeadSHA),
		slog.Time("at", job.CreatedAt),
		slog.Int64("comment", job.CommentID),
		slog.String("reason", v.Override.Reason),
		slog.Any("protected_files", files),
		slog.Any("unmet_requirements", unmet),
		slog.String("delivery", job.DeliveryID),
	)
}

// reply comments on the job's pull request.
func (e *Evaluator) reply(ctx context.Context, client *github.Client, job server.Job, body string) error {
	if len(body) > maxComment {
		body = clip(body, maxComment) + "\n"
	}
	if _, _, err := client.Issues.CreateComment(ctx, job.Owner, job.Repo, job.Number, &github.IssueComment{Body: github.String(body)}); err != nil {
		e.log.Warn("could not reply on the pull request", "repo", job.Owner+"/"+job.Repo, "pr", job.Number, "err", ghapp.Reason(err))
		return fmt.Errorf("replying on %s: %s", job.Key(), ghapp.Reason(err))
	}
	return nil
}

func orNone(perm string) string {
	if perm == "" {
		return "no access"
	}
	return perm + " permission"
}

// code quotes text as inline code, with a fence longer than any backtick run in it.
func code(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// fenced puts text in a fenced code block that nothing in it can close.
func fenced(s string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + "text\n" + strings.TrimRight(s, "\n") + "\n" + fence
}
