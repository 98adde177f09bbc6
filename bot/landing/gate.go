package landing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// Deployment review states.
const (
	stateApproved = "approved"
	stateRejected = "rejected"
)

// Gate answers a deployment protection rule request. It approves a
// deployment to an environment the policy's deployments.environments names
// only when the deployed commit has a passing landing record, or is the head
// of a pull request whose countersign check passed; a failing record or none
// rejects it, saying which commits lack a countersignature. Environments the
// policy does not name are approved with a comment saying so. The policy is
// read from the default branch, never from the deployed commit. When a fact
// cannot be read no answer is given and an error returned, so the request
// is tried again: it is never approved on missing facts.
func (r *Recorder) Gate(ctx context.Context, job server.DeployJob) error {
	log := r.log.With("installation", job.Installation, "repo", job.Owner+"/"+job.Repo, "environment", job.Environment,
		"sha", job.SHA, "delivery", job.DeliveryID)
	client, err := r.client(job.Installation)
	if err != nil {
		return err
	}
	path, err := callbackPath(client, job.Owner, job.Repo, job.CallbackURL)
	if err != nil {
		log.Warn("deployment refused no answer: bad callback", "err", err)
		return nil // nothing can be answered there; trying again cannot help
	}
	state, comment, err := r.judgeDeployment(ctx, client, job)
	if err != nil {
		log.Warn("could not judge the deployment; no answer given", "err", err)
		return fmt.Errorf("judging the deployment of %s to %s: %w", short(job.SHA), job.Environment, err)
	}
	req, err := client.NewRequest("POST", path, map[string]string{
		"environment_name": job.Environment, "state": state, "comment": clip(comment, 1000),
	})
	if err != nil {
		return err
	}
	if _, err := client.Do(ctx, req, nil); err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == 422 {
			log.Info("the deployment was already answered or no longer waits", "err", ghapp.Reason(err))
			return nil
		}
		return fmt.Errorf("answering the deployment of %s to %s: %s", short(job.SHA), job.Environment, ghapp.Reason(err))
	}
	log.Info("deployment answered", "state", state, "comment", comment, "audit", state == stateRejected)
	return nil
}

// judgeDeployment decides the answer, or fails when a fact is missing.
func (r *Recorder) judgeDeployment(ctx context.Context, client *github.Client, job server.DeployJob) (state, comment string, err error) {
	p, err := readPolicy(ctx, client, job.Owner, job.Repo, "", "")
	var pe *pull.PolicyError
	switch {
	case errors.As(err, &pe):
		return stateRejected, "Countersign rejects this deployment: the policy on the default branch is invalid: " + firstLine(pe.Err.Error()), nil
	case err != nil:
		return "", "", fmt.Errorf("reading the policy: %s", ghapp.Reason(err))
	}
	if !checks.JudgedEnvironment(p, job.Environment) {
		return stateApproved, fmt.Sprintf("Countersign does not judge %q: the policy's deployments.environments does not name it.", job.Environment), nil
	}
	if len(job.SHA) != 40 {
		return "", "", fmt.Errorf("the deployment names no commit")
	}
	rec, err := r.latestRunText(ctx, client, job.Owner, job.Repo, job.SHA, checks.LandingCheckName)
	if err != nil {
		return "", "", fmt.Errorf("reading the landing record of %s: %s", short(job.SHA), ghapp.Reason(err))
	}
	if rec != nil && rec.GetStatus() == "completed" {
		switch rec.GetConclusion() {
		case string(checks.Success):
			return stateApproved, fmt.Sprintf("%s landed countersigned: %s", short(job.SHA), rec.GetOutput().GetTitle()), nil
		default:
			why := rec.GetOutput().GetTitle()
			if l, err := checks.ParseLandingText(rec.GetOutput().GetText()); err == nil && len(l.Unaccounted) > 0 {
				var parts []string
				for _, u := range l.Unaccounted {
					parts = append(parts, short(u.SHA)+" ("+u.Why+")")
				}
				why = "lacking a countersignature: " + strings.Join(parts, "; ")
			}
			return stateRejected, fmt.Sprintf("Countersign rejects %s: its landing record says %s", short(job.SHA), why), nil
		}
	}
	cs, err := r.latestRun(ctx, client, job.Owner, job.Repo, job.SHA, checks.CheckName)
	if err != nil {
		return "", "", fmt.Errorf("reading the countersign check of %s: %s", short(job.SHA), ghapp.Reason(err))
	}
	if cs != nil && cs.Status == "completed" && cs.Conclusion == string(checks.Success) {
		return stateApproved, fmt.Sprintf("%s is the head of a pull request whose countersign check passed: %s", short(job.SHA), cs.Title), nil
	}
	return stateRejected, fmt.Sprintf("Countersign rejects %s: it has no passing landing record on a protected branch and no passing countersign check", short(job.SHA)), nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
