package doctor

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// checkDeployGate says, for each environment the policy's
// deployments.environments names, whether the app is enabled on it as a
// custom deployment protection rule: without it GitHub never asks, and
// deployments of changes that landed without countersignature go ahead.
func checkDeployGate(ctx context.Context, r *Report, c *github.Client, owner, name string, pol *config.Policy, appID int64) {
	const check = "deploy gate"
	if pol == nil || len(pol.Deployments.Environments) == 0 {
		return
	}
	var envs []string
	opt := &github.EnvironmentListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		res, resp, err := c.Repositories.ListEnvironments(ctx, owner, name, opt)
		if err != nil {
			r.add(check, Fail, "listing the environments of "+owner+"/"+name+": "+err.Error(), "the installation needs actions: read (app.yml asks for it)")
			return
		}
		for _, e := range res.Environments {
			if checks.JudgedEnvironment(pol, e.GetName()) {
				envs = append(envs, e.GetName())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	globs := strings.Join(pol.Deployments.Environments, ", ")
	if len(envs) == 0 {
		r.add(check, Warn, fmt.Sprintf("deployments.environments (%s) names no environment of %s/%s", globs, owner, name),
			"create the environments, or fix the globs in "+config.FileName)
		return
	}
	var off []string
	for _, env := range envs {
		rules, _, err := c.Repositories.GetAllDeploymentProtectionRules(ctx, owner, name, url.PathEscape(env))
		if err != nil {
			r.add(check, Fail, fmt.Sprintf("reading the protection rules of environment %s: %v", env, err), "the installation needs actions: read (app.yml asks for it)")
			return
		}
		if !slices.ContainsFunc(rules.ProtectionRules, func(pr *github.CustomDeploymentProtectionRule) bool {
			return pr.GetEnabled() && pr.GetApp().GetID() == appID
		}) {
			off = append(off, env)
		}
	}
	if len(off) > 0 {
		r.add(check, Fail, fmt.Sprintf("the app is not a deployment protection rule on %s: deployments there do not wait for it", strings.Join(off, ", ")),
			fmt.Sprintf("enable it in %s/%s's settings: Environments → %s → Deployment protection rules", owner, name, off[0]))
		return
	}
	r.add(check, OK, fmt.Sprintf("the app is a deployment protection rule on %s", strings.Join(envs, ", ")), "")
}
