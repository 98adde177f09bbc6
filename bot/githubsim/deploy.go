package githubsim

import (
	"net/http"
	"strconv"
	"time"
)

// deployRule is one deployment waiting on the app's custom deployment
// protection rule, and the app's answer once it gave one.
type deployRule struct {
	runID, deploymentID int64
	environment         string
	sha, ref            string
	creator             *user
	createdAt           time.Time
	review              *DeploymentReview
}

// DeploymentReview is the app's answer to a deployment_protection_rule
// request, as posted to the event's deployment_callback_url.
type DeploymentReview struct {
	RunID       int64
	Environment string
	SHA         string
	// State is "approved" or "rejected".
	State   string
	Comment string
	At      time.Time
}

// RequestDeployment starts a deployment of ref (a branch or a commit SHA)
// to environment by a workflow run that login triggered, where the app is
// enabled as a custom deployment protection rule. It emits
// deployment_protection_rule.requested, whose deployment_callback_url is
// POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule,
// and returns the run id. The deployment waits until the app answers there.
func (s *Sim) RequestDeployment(fullName, environment, ref, login string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	h, ok := r.resolve(ref)
	mustf(ok, "%s: no commit or branch %q", fullName, ref)
	by := s.userLocked(login)
	now := s.ts()
	d := &deployRule{runID: s.nextID(idRun), deploymentID: s.nextID(idDeployment), environment: environment,
		sha: h.String(), ref: ref, creator: by, createdAt: now}
	r.deployRules = append(r.deployRules, d)
	fn := r.fullName()
	durl := s.api("repos/%s/deployments/%d", fn, d.deploymentID)
	s.emitRepoLocked("deployment_protection_rule", "requested", r, by, obj{
		"action": "requested", "environment": environment, "event": "push",
		"deployment_callback_url": s.api("repos/%s/actions/runs/%d/deployment_protection_rule", fn, d.runID),
		"deployment": obj{
			"url": durl, "id": d.deploymentID, "node_id": nodeID("Deployment", d.deploymentID),
			"sha": d.sha, "ref": ref, "task": "deploy", "payload": obj{},
			"original_environment": environment, "environment": environment, "description": nil,
			"creator": s.userObj(by), "created_at": timeOrNil(now), "updated_at": timeOrNil(now),
			"statuses_url": durl + "/statuses", "repository_url": s.api("repos/%s", fn),
			"transient_environment": false, "production_environment": false,
			"performed_via_github_app": nil,
		},
		"pull_requests": []obj{},
	})
	return d.runID
}

// DeploymentReviews returns the app's answers to deployment protection rule
// requests in a repository, in the order given.
func (s *Sim) DeploymentReviews(fullName string) []DeploymentReview {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DeploymentReview
	for _, d := range s.repoLocked(fullName).deployRules {
		if d.review != nil {
			out = append(out, *d.review)
		}
	}
	return out
}

// hReviewDeploymentRule is the deployment_callback_url: the app approves or
// rejects a pending deployment of the run to environment_name. A run with
// no deployment waiting on that environment (none, or already answered)
// gets 422, as does a state other than approved or rejected.
func hReviewDeploymentRule(c *reqCtx) {
	const doc = "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run"
	var in struct {
		EnvironmentName *string `json:"environment_name"`
		State           *string `json:"state"`
		Comment         *string `json:"comment"`
	}
	if !c.decodeBody(&in) {
		return
	}
	if in.EnvironmentName == nil || *in.EnvironmentName == "" {
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"environment_name\" wasn't supplied.", doc)
		return
	}
	if in.State == nil || (*in.State != "approved" && *in.State != "rejected") {
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"state\" must be approved or rejected.", doc)
		return
	}
	runID, _ := strconv.ParseInt(c.p["run_id"], 10, 64)
	for _, d := range c.repo.deployRules {
		if d.runID != runID || d.environment != *in.EnvironmentName {
			continue
		}
		if d.review != nil {
			break
		}
		rv := &DeploymentReview{RunID: runID, Environment: d.environment, SHA: d.sha, State: *in.State, At: c.s.ts()}
		if in.Comment != nil {
			rv.Comment = *in.Comment
		}
		d.review = rv
		c.status = http.StatusNoContent
		return
	}
	c.fail(http.StatusUnprocessableEntity, "No pending deployment requests to approve or reject", doc)
}

// environment is a deployment environment and whether the app is enabled on
// it as a custom deployment protection rule.
type environment struct {
	id        int64
	name      string
	appRule   bool
	createdAt time.Time
}

// AddEnvironment creates a deployment environment; appRule enables the app
// on it as a custom deployment protection rule.
func (s *Sim) AddEnvironment(fullName, name string, appRule bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	for _, e := range r.envs {
		if e.name == name {
			e.appRule = appRule
			return
		}
	}
	r.envs = append(r.envs, &environment{id: s.nextID(idDeployment), name: name, appRule: appRule, createdAt: s.ts()})
}

func (s *state) envObj(r *repo, e *environment) obj {
	rules := []obj{}
	if e.appRule {
		rules = append(rules, obj{"id": e.id + 1, "node_id": nodeID("DeploymentProtectionRule", e.id+1), "type": "custom"})
	}
	return obj{
		"id": e.id, "node_id": nodeID("Environment", e.id), "name": e.name,
		"url": s.api("repos/%s/environments/%s", r.fullName(), e.name), "html_url": s.html("%s/deployments/activity_log?environments_filter=%s", r.fullName(), e.name),
		"created_at": timeOrNil(e.createdAt), "updated_at": timeOrNil(e.createdAt), "protection_rules": rules, "deployment_branch_policy": nil,
	}
}

// hListEnvironments lists a repository's environments.
func hListEnvironments(c *reqCtx) {
	out := []obj{}
	for _, e := range c.repo.envs {
		out = append(out, c.s.envObj(c.repo, e))
	}
	c.json(200, obj{"total_count": len(out), "environments": paginate(c, out)})
}

// hEnvProtectionRules lists the custom deployment protection rules enabled on an environment.
func hEnvProtectionRules(c *reqCtx) {
	for _, e := range c.repo.envs {
		if e.name != c.p["environment_name"] {
			continue
		}
		rules := []obj{}
		if e.appRule {
			rules = append(rules, obj{"id": e.id + 1, "node_id": nodeID("DeploymentProtectionRule", e.id+1), "enabled": true,
				"app": obj{"id": c.s.opt.AppID, "slug": c.s.opt.AppSlug, "integration_url": c.s.api("apps/%s", c.s.opt.AppSlug), "node_id": nodeID("Integration", c.s.opt.AppID)}})
		}
		c.json(200, obj{"total_count": len(rules), "custom_deployment_protection_rules": rules})
		return
	}
	c.notFound()
}
