package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
	"github.com/hmarr/codeowners"
)

// The settings that let agent work through without a human (issue 11):
// bypass lists, force pushes and deletions, Copilot code review, and the
// policy file's own guard.

// rulesetsFor reads every ruleset that contributes rules to the branch, for
// its bypass list. GitHub returns bypass_actors only to those who can edit
// the ruleset; a ruleset read without it has BypassActors nil.
func rulesetsFor(ctx context.Context, c *github.Client, owner, name string, rules []*github.RepositoryRule) ([]*github.Ruleset, error) {
	var out []*github.Ruleset
	seen := map[int64]bool{}
	for _, r := range rules {
		if r.RulesetID == 0 || seen[r.RulesetID] {
			continue
		}
		seen[r.RulesetID] = true
		// Decoded by hand: go-github's rule decoding rejects rule types it
		// does not know yet (copilot_code_review), and only the bypass list
		// is needed here.
		var rs struct {
			ID           int64                 `json:"id"`
			Name         string                `json:"name"`
			BypassActors []*github.BypassActor `json:"bypass_actors"`
		}
		if err := getJSON(ctx, c, fmt.Sprintf("repos/%s/%s/rulesets/%d?includes_parents=true", url.PathEscape(owner), url.PathEscape(name), r.RulesetID), &rs); err != nil {
			return nil, fmt.Errorf("reading ruleset %d: %w", r.RulesetID, err)
		}
		out = append(out, &github.Ruleset{ID: github.Int64(rs.ID), Name: rs.Name, BypassActors: rs.BypassActors})
	}
	return out, nil
}

// rulesForBranch reads GET /repos/{owner}/{repo}/rules/branches/{branch},
// every page, decoding each rule by hand: go-github's decoding fails on a rule
// type it does not know yet (such as copilot_code_review), which would make
// doctor fail on a repository that asks Copilot for reviews.
func rulesForBranch(ctx context.Context, c *github.Client, owner, name, branch string) ([]*github.RepositoryRule, error) {
	var out []*github.RepositoryRule
	for page := 1; page != 0; {
		req, err := c.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/rules/branches/%s?per_page=100&page=%d",
			url.PathEscape(owner), url.PathEscape(name), url.PathEscape(branch), page), nil)
		if err != nil {
			return nil, err
		}
		var rules []struct {
			Type              string           `json:"type"`
			Parameters        *json.RawMessage `json:"parameters"`
			RulesetSourceType string           `json:"ruleset_source_type"`
			RulesetSource     string           `json:"ruleset_source"`
			RulesetID         int64            `json:"ruleset_id"`
		}
		resp, err := c.Do(ctx, req, &rules)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			out = append(out, &github.RepositoryRule{Type: r.Type, Parameters: r.Parameters,
				RulesetSourceType: r.RulesetSourceType, RulesetSource: r.RulesetSource, RulesetID: r.RulesetID})
		}
		page = resp.NextPage
	}
	return out, nil
}

// guardsMerges reports whether a ruleset carries a rule that stands between
// an agent's change and the branch: the countersign check or pull requests.
func guardsMerges(rs *github.Ruleset, rules []*github.RepositoryRule) bool {
	for _, r := range rules {
		if r.RulesetID != rs.GetID() {
			continue
		}
		switch r.Type {
		case "pull_request":
			return true
		case "required_status_checks":
			var params github.RequiredStatusChecksRuleParameters
			if r.Parameters != nil && json.Unmarshal(*r.Parameters, &params) == nil {
				for _, ch := range params.RequiredStatusChecks {
					if ch.Context == CheckName {
						return true
					}
				}
			}
		}
	}
	return false
}

// evaluateSettings checks bypass lists, force pushes and deletions, and
// Copilot code review on the branch.
func evaluateSettings(p Protection, appID int64, repo, branch string) []Result {
	var out []Result
	fixWhere := fmt.Sprintf("in %s's settings → Branches (classic) or Rules → Rulesets, for %s", repo, branch)

	// Bypass lists.
	const bypass = "bypass lists"
	var fails, warns []string
	if cp := p.Classic; cp != nil && cp.RequiredPullRequestReviews != nil {
		if a := cp.RequiredPullRequestReviews.BypassPullRequestAllowances; a != nil {
			for _, app := range a.Apps {
				if app.GetID() == appID {
					continue
				}
				if n, ok := detect.AgentApp(app.GetSlug()); ok {
					fails = append(fails, fmt.Sprintf("classic protection lets the app %q (%s, an AI agent or reviewer) push to %s without a pull request", app.GetSlug(), n, branch))
				} else {
					warns = append(warns, fmt.Sprintf("classic protection lets the app %q push without a pull request", app.GetSlug()))
				}
			}
			for _, u := range a.Users {
				warns = append(warns, fmt.Sprintf("classic protection lets @%s push without a pull request", u.GetLogin()))
			}
			for _, t := range a.Teams {
				warns = append(warns, fmt.Sprintf("classic protection lets the team %s push without a pull request", t.GetSlug()))
			}
		}
	}
	var hidden []string
	for _, rs := range p.Rulesets {
		if !guardsMerges(rs, p.Rules) {
			continue
		}
		where := fmt.Sprintf("ruleset %d (%s)", rs.GetID(), rs.Name)
		if rs.BypassActors == nil {
			hidden = append(hidden, where)
			continue
		}
		for _, a := range rs.BypassActors {
			id := a.GetActorID()
			switch a.GetActorType() {
			case "Integration":
				if id != appID {
					warns = append(warns, fmt.Sprintf("%s lets app id %d bypass it (%s); if that app is an agent's, its changes merge without a human", where, id, a.GetBypassMode()))
				}
			case "OrganizationAdmin":
				warns = append(warns, fmt.Sprintf("%s lets organization admins bypass the required check (%s)", where, a.GetBypassMode()))
			case "RepositoryRole":
				role := map[int64]string{2: "maintain", 4: "write", 5: "admin"}[id]
				if role == "" {
					role = fmt.Sprintf("custom role %d", id)
				}
				warns = append(warns, fmt.Sprintf("%s lets the %s role bypass the required check (%s)", where, role, a.GetBypassMode()))
			case "Team":
				warns = append(warns, fmt.Sprintf("%s lets team id %d bypass the required check (%s)", where, id, a.GetBypassMode()))
			case "DeployKey":
				warns = append(warns, where+" lets deploy keys bypass it")
			default:
				warns = append(warns, fmt.Sprintf("%s lets a %s (id %d) bypass it", where, a.GetActorType(), id))
			}
		}
	}
	bypassFix := "remove agents' apps and bots from every bypass list, and let nobody bypass the " + CheckName + " check and pull requests (or keep a break-glass path that leaves an audit trail) " + fixWhere
	switch {
	case len(fails) > 0:
		out = append(out, Result{Check: bypass, Status: Fail, Detail: strings.Join(append(fails, warns...), "; "), Fix: bypassFix})
	case len(warns) > 0:
		out = append(out, Result{Check: bypass, Status: Warn, Detail: strings.Join(warns, "; "), Fix: bypassFix})
	}
	if len(hidden) > 0 {
		out = append(out, Result{Check: bypass, Status: Warn,
			Detail: "cannot read the bypass list of " + strings.Join(hidden, ", ") + ": GitHub returns bypass_actors only to those who can edit the ruleset, and this app has administration: read",
			Fix:    "open each ruleset in " + repo + "'s settings → Rules → Rulesets and make sure no agent's app or bot, and no admin role, may bypass it"})
	}
	if len(fails)+len(warns)+len(hidden) == 0 {
		out = append(out, Result{Check: bypass, Status: OK, Detail: "no bypass list lets an app, a role or a person around the check or pull requests"})
	}

	// Force pushes and deletions.
	var nonFF, noDelete, copilotReview bool
	for _, r := range p.Rules {
		switch r.Type {
		case "non_fast_forward":
			nonFF = true
		case "deletion":
			noDelete = true
		case "copilot_code_review":
			copilotReview = true
		}
	}
	if cp := p.Classic; cp != nil {
		nonFF = nonFF || cp.AllowForcePushes == nil || !cp.AllowForcePushes.Enabled
		noDelete = noDelete || cp.AllowDeletions == nil || !cp.AllowDeletions.Enabled
	}
	if nonFF {
		out = append(out, Result{Check: "force pushes", Status: OK, Detail: "force pushes to " + branch + " are blocked"})
	} else {
		out = append(out, Result{Check: "force pushes", Status: Warn,
			Detail: "force pushes to " + branch + " are allowed: the history the check guarded can be rewritten without a pull request",
			Fix:    "block force pushes (ruleset rule \"Block force pushes\", or leave \"Allow force pushes\" off in classic protection) " + fixWhere})
	}
	if noDelete {
		out = append(out, Result{Check: "deletions", Status: OK, Detail: branch + " cannot be deleted"})
	} else {
		out = append(out, Result{Check: "deletions", Status: Warn,
			Detail: branch + " may be deleted, and its protection with it",
			Fix:    "restrict deletions (ruleset rule \"Restrict deletions\", or leave \"Allow deletions\" off in classic protection) " + fixWhere})
	}

	// Copilot code review. Whether its approvals count toward GitHub's
	// required approvals is an opt-in the REST API does not show to apps.
	const copilot = "Copilot code review"
	if copilotReview {
		out = append(out, Result{Check: copilot, Status: Warn,
			Detail: "a ruleset asks Copilot to review pull requests into " + branch + "; whether its approvals count toward GitHub's required approvals cannot be read through the REST API with an app token (Countersign never counts them)",
			Fix:    "in the repository's and organization's Copilot code review settings, do not let Copilot approvals count toward required approvals"})
	} else {
		out = append(out, Result{Check: copilot, Status: OK,
			Detail: "no ruleset asks Copilot to review automatically; whether Copilot approvals would count toward GitHub's required approvals cannot be read through the REST API (Countersign never counts them)"})
	}
	return out
}

// checkPolicyGuard says whether the policy file has a code owner and is
// among its own protected paths: otherwise an agent's pull request could
// loosen the policy that judges it.
func checkPolicyGuard(ctx context.Context, r *Report, c *github.Client, owner, name, branch string, p *config.Policy) {
	const check = "policy file guard"
	var owners []codeowners.Owner
	found := ""
	for _, path := range checks.CodeOwnersPaths {
		fc, _, _, err := c.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: branch})
		if status(err) == http.StatusNotFound {
			continue
		}
		if err != nil {
			r.add(check, Warn, "reading "+path+": "+err.Error(), "")
			return
		}
		data, err := fc.GetContent()
		if err != nil {
			r.add(check, Warn, path+": "+err.Error(), "")
			return
		}
		rs, err := codeowners.ParseFile(strings.NewReader(data))
		if err != nil {
			r.add(check, Warn, path+" does not parse: "+err.Error(), "fix it; GitHub ignores a CODEOWNERS file it cannot read")
			return
		}
		found = path
		if rule, err := rs.Match(config.FileName); err == nil && rule != nil {
			owners = rule.Owners
		}
		break
	}
	switch {
	case found == "":
		r.add(check, Warn, "no CODEOWNERS file on "+branch+": nobody owns "+config.FileName,
			"add .github/CODEOWNERS with a line \"/"+config.FileName+" @ORG/TEAM\" and require review from code owners "+fmt.Sprintf("in %s/%s's settings", owner, name))
	case len(owners) == 0:
		r.add(check, Warn, found+" names no owner for "+config.FileName,
			"add a line \"/"+config.FileName+" @ORG/TEAM\" to "+found+" and require review from code owners")
	default:
		var names []string
		for _, o := range owners {
			names = append(names, o.String())
		}
		r.add(check, OK, config.FileName+" is owned by "+strings.Join(names, ", ")+" in "+found, "")
	}
	cp, err := checks.Compile(p)
	if err != nil {
		r.add(check, Fail, "the policy does not compile: "+err.Error(), "fix the agents section of "+config.FileName)
		return
	}
	if len(cp.MatchRules(config.FileName)) == 0 {
		r.add(check, Warn, config.FileName+" is not among the policy's own protected paths: a change to it needs no approval from its owners",
			"add a rule to protected_paths, such as:\n  - name: countersign-policy\n    paths: [\""+config.FileName+"\"]\n    approvers: {teams: [ORG/TEAM]}")
	} else {
		r.add(check, OK, config.FileName+" is among the policy's protected paths", "")
	}
}
