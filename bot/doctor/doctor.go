// Package doctor checks that a Countersign deployment can do its job: the
// app's credentials work, GitHub granted what app.yml asks for, the policy
// file parses, and the default branch requires the countersign check from
// this app. Each check says how to fix a failure.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// CheckName is the check run the branch must require.
const CheckName = "countersign"

// Status is the outcome of one check.
type Status int

// The outcomes: a warning does not fail the doctor.
const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) mark() string {
	switch s {
	case OK:
		return "✓"
	case Warn:
		return "⚠"
	}
	return "✗"
}

// Result is one check's outcome.
type Result struct {
	// Check names what was checked.
	Check string
	// Status is the outcome.
	Status Status
	// Detail says what was found.
	Detail string
	// Fix says what to do when Status is not OK.
	Fix string
}

// Report is every check's result, in order.
type Report struct {
	// Results are the checks run; with Options.Org, each repository's checks
	// are named "owner/name: check".
	Results []Result
	// Repos sums up each repository with Options.Org, in listing order.
	Repos []RepoSummary
}

// RepoSummary is one repository's line of the --org summary table.
type RepoSummary struct {
	// Repo is "owner/name".
	Repo string
	// Guarded is true when no check of the repository failed.
	Guarded bool
	// Why names the first failed check and what it found, when not guarded.
	Why string
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, x := range r.Results {
		if x.Status == Fail {
			return false
		}
	}
	return true
}

func (r *Report) add(check string, st Status, detail, fix string) {
	r.Results = append(r.Results, Result{Check: check, Status: st, Detail: detail, Fix: fix})
}

// Write prints the report, one check a line, fixes indented below, and with
// Options.Org a summary table of the repositories.
func (r *Report) Write(w io.Writer) {
	for _, x := range r.Results {
		fmt.Fprintf(w, "%s %s: %s\n", x.Status.mark(), x.Check, x.Detail)
		if x.Status != OK && x.Fix != "" {
			for _, l := range strings.Split(x.Fix, "\n") {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	if len(r.Repos) == 0 {
		return
	}
	guarded := 0
	width := len("repository")
	for _, s := range r.Repos {
		width = max(width, len(s.Repo))
		if s.Guarded {
			guarded++
		}
	}
	fmt.Fprintf(w, "\n%-*s  %-7s  %s\n", width, "repository", "guarded", "why not")
	for _, s := range r.Repos {
		g := "yes"
		if !s.Guarded {
			g = "no"
		}
		fmt.Fprintf(w, "%-*s  %-7s  %s\n", width, s.Repo, g, strings.ReplaceAll(s.Why, "\n", " "))
	}
	fmt.Fprintf(w, "%d of %d repositories guarded\n", guarded, len(r.Repos))
}

// Options configures Run.
type Options struct {
	// App is the authenticated GitHub App (serve's settings).
	App *ghapp.App
	// Manifest is what the app should be granted; nil means app.yml.
	Manifest *appmanifest.Manifest
	// Repo is "owner/name" to check the installation, policy and branch
	// protection of; empty checks the app only.
	Repo string
	// Org, when set, checks every repository of the app's installation on
	// that organization (or user) and sums them up in Report.Repos.
	Org string
}

// grant is the part of an app or installation doctor compares with app.yml;
// decoded here because go-github's permission struct lags GitHub's list.
type grant struct {
	ID          int64             `json:"id"`
	Slug        string            `json:"slug"`
	AppSlug     string            `json:"app_slug"`
	HTMLURL     string            `json:"html_url"`
	Permissions map[string]string `json:"permissions"`
	Events      []string          `json:"events"`
	Owner       *github.User      `json:"owner"`
	Account     *github.User      `json:"account"`
	SuspendedAt *string           `json:"suspended_at"`
}

func getJSON(ctx context.Context, c *github.Client, path string, v any) error {
	req, err := c.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	_, err = c.Do(ctx, req, v)
	return err
}

func status(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// Run runs the checks. It never returns an error: a check that cannot run fails.
func Run(ctx context.Context, o Options) *Report {
	r := &Report{}
	m := o.Manifest
	if m == nil {
		var err error
		if m, err = appmanifest.Default(); err != nil {
			r.add("app.yml", Fail, err.Error(), "this binary's app.yml is broken; rebuild it")
			return r
		}
	}
	app := &grant{}
	err := getJSON(ctx, o.App.AppClient(), "app", app)
	switch {
	case err != nil && (status(err) == http.StatusUnauthorized || status(err) == http.StatusForbidden):
		r.add("credentials", Fail, fmt.Sprintf("GitHub refused the app's JWT (GET /app: %d)", status(err)),
			fmt.Sprintf("the private key does not belong to app %d, or the app id is wrong: check COUNTERSIGN_APP_ID against\n"+
				"the app's settings (General → App ID) and generate a new private key there (COUNTERSIGN_PRIVATE_KEY_FILE);\n"+
				"a clock more than a few minutes off also invalidates the JWT", o.App.ID()))
		return r
	case err != nil:
		r.add("credentials", Fail, "GET /app: "+err.Error(), "check COUNTERSIGN_GITHUB_URL ("+o.App.BaseURL()+") and the network path to it")
		return r
	case app.ID != 0 && app.ID != o.App.ID():
		r.add("credentials", Fail, fmt.Sprintf("the key signs in as app %d, not %d", app.ID, o.App.ID()), "set COUNTERSIGN_APP_ID to the app the key belongs to")
		return r
	}
	r.add("credentials", OK, fmt.Sprintf("the private key signs in as app %q (id %d) on %s", app.Slug, o.App.ID(), o.App.BaseURL()), "")
	settings := appSettingsURL(app)
	compareGrant(r, "app permissions and events", m, app, fmt.Sprintf(
		"edit the app's permissions and events to match app.yml: %s\n(installations then ask their owners to accept the change)", settings))

	if o.Org != "" {
		checkOrg(ctx, r, o, app, m)
		return r
	}
	if o.Repo == "" {
		r.add("repository", Warn, "no --repo given: installation, policy and branch protection not checked", "run countersign doctor --repo OWNER/NAME")
		return r
	}
	owner, name, ok := strings.Cut(o.Repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		r.add("repository", Fail, fmt.Sprintf("--repo %q is not OWNER/NAME", o.Repo), "")
		return r
	}
	checkRepo(ctx, r, o, app, m, owner, name)
	return r
}

// checkRepo runs the checks of one repository: installation, grants, policy
// and its guard, branch protection and the settings around it.
func checkRepo(ctx context.Context, r *Report, o Options, app *grant, m *appmanifest.Manifest, owner, name string) {
	o.Repo = owner + "/" + name
	inst := &grant{}
	err := getJSON(ctx, o.App.AppClient(), fmt.Sprintf("repos/%s/%s/installation", url.PathEscape(owner), url.PathEscape(name)), inst)
	if status(err) == http.StatusNotFound {
		r.add("installation", Fail, fmt.Sprintf("app %q is not installed on %s (or the repository does not exist)", app.Slug, o.Repo),
			fmt.Sprintf("install it on %s: %s/installations/new", o.Repo, strings.TrimSuffix(app.HTMLURL, "/")))
		return
	}
	if err != nil {
		r.add("installation", Fail, "GET /repos/{owner}/{repo}/installation: "+err.Error(), "")
		return
	}
	if inst.SuspendedAt != nil && *inst.SuspendedAt != "" {
		r.add("installation", Fail, fmt.Sprintf("installation %d on %s is suspended", inst.ID, inst.Account.GetLogin()),
			"unsuspend it in the account's settings: "+inst.HTMLURL)
		return
	}
	r.add("installation", OK, fmt.Sprintf("%s is covered by installation %d (account %s)", o.Repo, inst.ID, inst.Account.GetLogin()), "")
	fix := "the owner of " + inst.Account.GetLogin() + " has not accepted the permissions the app now asks for: they review and accept them at\n" + inst.HTMLURL
	if s := m.Compare(app.Permissions, app.Events); len(s.MissingPermissions)+len(s.MissingEvents) > 0 {
		fix = "fix the app's own permissions and events first (above); then " + inst.Account.GetLogin() + " accepts them at " + inst.HTMLURL
	}
	compareGrant(r, "installation permissions and events", m, inst, fix)

	client, err := o.App.Client(inst.ID)
	if err != nil {
		r.add("installation token", Fail, err.Error(), "")
		return
	}
	repo, _, err := client.Repositories.Get(ctx, owner, name)
	if err != nil {
		r.add("installation token", Fail, fmt.Sprintf("reading %s with the installation's token: %v", o.Repo, err),
			"the installation may not cover the repository (\"Only select repositories\"): add it at "+inst.HTMLURL)
		return
	}
	branch := repo.GetDefaultBranch()
	if pol := checkPolicy(ctx, r, client, owner, name, branch); pol != nil {
		checkPolicyGuard(ctx, r, client, owner, name, branch, pol)
		checkDeployGate(ctx, r, client, owner, name, pol, o.App.ID())
	}
	checkProtection(ctx, r, client, owner, name, branch, o.App.ID(), inst)
}

// checkOrg runs checkRepo over every repository of the app's installation
// on o.Org and sums each up.
func checkOrg(ctx context.Context, r *Report, o Options, app *grant, m *appmanifest.Manifest) {
	inst := &grant{}
	err := getJSON(ctx, o.App.AppClient(), "orgs/"+url.PathEscape(o.Org)+"/installation", inst)
	if status(err) == http.StatusNotFound {
		r.add("installation", Fail, fmt.Sprintf("app %q is not installed on the organization %s", app.Slug, o.Org),
			fmt.Sprintf("install it on %s: %s/installations/new", o.Org, strings.TrimSuffix(app.HTMLURL, "/")))
		return
	}
	if err != nil {
		r.add("installation", Fail, "GET /orgs/{org}/installation: "+err.Error(), "")
		return
	}
	client, err := o.App.Client(inst.ID)
	if err != nil {
		r.add("installation token", Fail, err.Error(), "")
		return
	}
	var repos []*github.Repository
	opt := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := client.Apps.ListRepos(ctx, opt)
		if err != nil {
			r.add("installation", Fail, "listing the installation's repositories: "+err.Error(), "")
			return
		}
		repos = append(repos, page.Repositories...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	r.add("installation", OK, fmt.Sprintf("installation %d on %s covers %d repositories", inst.ID, o.Org, len(repos)), "")
	for _, repo := range repos {
		sub := &Report{}
		checkRepo(ctx, sub, o, app, m, repo.GetOwner().GetLogin(), repo.GetName())
		sum := RepoSummary{Repo: repo.GetFullName(), Guarded: sub.OK()}
		for _, x := range sub.Results {
			if x.Status == Fail && sum.Why == "" {
				sum.Why = x.Check + ": " + x.Detail
			}
			x.Check = repo.GetFullName() + ": " + x.Check
			r.Results = append(r.Results, x)
		}
		r.Repos = append(r.Repos, sum)
	}
}

// appSettingsURL is where the app's permissions are edited.
func appSettingsURL(app *grant) string {
	if u, err := url.Parse(app.HTMLURL); err == nil && app.Slug != "" {
		base := u.Scheme + "://" + u.Host + "/"
		if app.Owner != nil && app.Owner.GetType() == "Organization" {
			return base + "organizations/" + app.Owner.GetLogin() + "/settings/apps/" + app.Slug + "/permissions"
		}
		return base + "settings/apps/" + app.Slug + "/permissions"
	}
	return app.HTMLURL
}

func compareGrant(r *Report, check string, m *appmanifest.Manifest, g *grant, fix string) {
	s := m.Compare(g.Permissions, g.Events)
	var missing []string
	if len(s.MissingPermissions) > 0 {
		missing = append(missing, "permissions "+strings.Join(s.MissingPermissions, ", "))
	}
	if len(s.MissingEvents) > 0 {
		missing = append(missing, "events "+strings.Join(s.MissingEvents, ", "))
	}
	if len(missing) > 0 {
		r.add(check, Fail, "app.yml asks for "+strings.Join(missing, "; ")+", which are not granted", fix)
		return
	}
	var extra []string
	if len(s.ExtraPermissions) > 0 {
		extra = append(extra, "permissions "+strings.Join(s.ExtraPermissions, ", "))
	}
	if len(s.ExtraEvents) > 0 {
		extra = append(extra, "events "+strings.Join(s.ExtraEvents, ", "))
	}
	if len(extra) > 0 {
		r.add(check, Warn, "everything app.yml asks for is granted, and more: "+strings.Join(extra, "; "),
			"Countersign does not use these; remove them from the app for least privilege (unless this binary is older than the app)")
		return
	}
	r.add(check, OK, "exactly what app.yml asks for", "")
}

// checkPolicy reads the policy the evaluator would read for a pull request
// into the default branch: the repository's file, else the owner's .github
// repository's, else the built-in default.
func checkPolicy(ctx context.Context, r *Report, c *github.Client, owner, name, branch string) *config.Policy {
	const check = "policy"
	for _, repo := range []string{name, config.OrgRepo} {
		if repo == config.OrgRepo && strings.EqualFold(name, config.OrgRepo) {
			break
		}
		ref := ""
		if repo == name {
			ref = branch
		}
		fc, dc, _, err := c.Repositories.GetContents(ctx, owner, repo, config.FileName, &github.RepositoryContentGetOptions{Ref: ref})
		if status(err) == http.StatusNotFound {
			continue
		}
		where := owner + "/" + repo + "/" + config.FileName
		if err != nil {
			r.add(check, Fail, "reading "+where+": "+err.Error(), "the installation needs contents: read on the repository")
			return nil
		}
		if fc == nil || dc != nil {
			r.add(check, Fail, where+" is a directory", "make "+config.FileName+" a file")
			return nil
		}
		data, err := fc.GetContent()
		if err != nil {
			r.add(check, Fail, where+": "+err.Error(), "")
			return nil
		}
		pol, err := config.Parse(where, []byte(data))
		if err != nil {
			r.add(check, Fail, where+" does not parse, so every pull request's check fails:\n"+err.Error(),
				"fix the file (countersign config validate "+config.FileName+" shows every problem)")
			return nil
		}
		on := ""
		if ref != "" {
			on = " on " + branch
		}
		r.add(check, OK, where+on+" parses", "")
		return pol
	}
	r.add(check, OK, fmt.Sprintf("no %s in %s/%s or %s/%s: the built-in default is in force (agent changes need one independent approval with write permission; preset paths one approval)",
		config.FileName, owner, name, owner, config.OrgRepo), "")
	return config.Default()
}

// Protection is what GitHub says about a branch: its classic protection
// (nil when not protected) and the ruleset rules that apply to it.
type Protection struct {
	// Classic is the branch protection; nil when the branch is not protected.
	Classic *github.Protection
	// Rules are the active ruleset rules for the branch.
	Rules []*github.RepositoryRule
	// Rulesets are the rulesets the rules come from, for their bypass lists.
	Rulesets []*github.Ruleset
}

func checkProtection(ctx context.Context, r *Report, c *github.Client, owner, name, branch string, appID int64, inst *grant) {
	p := Protection{}
	classic, _, err := c.Repositories.GetBranchProtection(ctx, owner, name, branch)
	switch {
	case err == nil:
		p.Classic = classic
	case errors.Is(err, github.ErrBranchNotProtected) || status(err) == http.StatusNotFound:
	case status(err) == http.StatusForbidden:
		r.add("branch protection", Fail, fmt.Sprintf("cannot read the classic protection of %s (403): the installation lacks administration: read", branch),
			"grant it (app.yml lists it) and accept it for the installation: "+inst.HTMLURL)
		return
	default:
		r.add("branch protection", Fail, "reading the protection of "+branch+": "+err.Error(), "")
		return
	}
	rules, err := rulesForBranch(ctx, c, owner, name, branch)
	if err != nil {
		r.add("branch protection", Fail, "reading the rules for "+branch+": "+err.Error(), "")
		return
	}
	p.Rules = rules
	if p.Rulesets, err = rulesetsFor(ctx, c, owner, name, rules); err != nil {
		r.add("bypass lists", Fail, err.Error(), "")
		return
	}
	for _, x := range Evaluate(p, appID, owner+"/"+name, branch) {
		r.Results = append(r.Results, x)
	}
}

// Evaluate says whether the branch's protection blocks merges on the
// countersign check from app appID, from classic protection and rulesets
// together.
func Evaluate(p Protection, appID int64, repo, branch string) []Result {
	const check = "branch protection"
	var found []string // where the check is required, satisfiable by this app
	var wrong []string // required from another app only
	var loose []string // required but from any source
	prs := false
	fixWhere := fmt.Sprintf("in %s's settings → Branches (classic) or Rules → Rulesets, for %s", repo, branch)

	if cp := p.Classic; cp != nil {
		if rsc := cp.RequiredStatusChecks; rsc != nil {
			pinned := false
			if rsc.Checks != nil {
				for _, ch := range *rsc.Checks {
					if ch.Context != CheckName {
						continue
					}
					switch id := ch.AppID; {
					case id != nil && *id == appID:
						found = append(found, "classic protection (pinned to this app)")
						pinned = true
					case id != nil && *id > 0:
						wrong = append(wrong, fmt.Sprintf("classic protection requires it from app %d", *id))
						pinned = true
					default:
						loose = append(loose, "classic protection (any source)")
						pinned = true
					}
				}
			}
			if !pinned && rsc.Contexts != nil {
				for _, ctx := range *rsc.Contexts {
					if ctx == CheckName {
						loose = append(loose, "classic protection (legacy contexts list, any source)")
					}
				}
			}
		}
		if cp.RequiredPullRequestReviews != nil {
			prs = true
		}
	}
	for _, rule := range p.Rules {
		switch rule.Type {
		case "pull_request":
			prs = true
		case "required_status_checks":
			var params github.RequiredStatusChecksRuleParameters
			if rule.Parameters != nil {
				_ = json.Unmarshal(*rule.Parameters, &params)
			}
			src := "ruleset"
			if rule.RulesetSource != "" {
				src = fmt.Sprintf("ruleset %d (%s)", rule.RulesetID, rule.RulesetSource)
			}
			for _, ch := range params.RequiredStatusChecks {
				if ch.Context != CheckName {
					continue
				}
				switch id := ch.IntegrationID; {
				case id != nil && *id == appID:
					found = append(found, src+" (pinned to this app)")
				case id != nil && *id > 0:
					wrong = append(wrong, fmt.Sprintf("%s requires it from app %d", src, *id))
				default:
					loose = append(loose, src+" (any source)")
				}
			}
		}
	}

	var out []Result
	required := len(found)+len(loose) > 0
	switch {
	case len(found) > 0:
		out = append(out, Result{Check: check, Status: OK, Detail: fmt.Sprintf("%s requires the %q check: %s", branch, CheckName, strings.Join(found, ", "))})
		if len(loose) > 0 {
			out = append(out, Result{Check: check, Status: Warn, Detail: "also required from any source by " + strings.Join(loose, ", "),
				Fix: "pin it to this app there too, so that no other app or commit status named " + CheckName + " can satisfy it"})
		}
	case len(loose) > 0:
		out = append(out, Result{Check: check, Status: Warn, Detail: fmt.Sprintf("%s requires %q but not from this app (%s): any app, or anyone who can set a commit status, can satisfy it",
			branch, CheckName, strings.Join(loose, ", ")),
			Fix: fmt.Sprintf("choose this app (id %d) as the check's source %s", appID, fixWhere)})
	case len(wrong) > 0:
		out = append(out, Result{Check: check, Status: Fail, Detail: fmt.Sprintf("merges into %s are not blocked by Countersign: %s, not this app (%d); Countersign's check cannot satisfy it, and the other app's can",
			branch, strings.Join(wrong, ", "), appID),
			Fix: fmt.Sprintf("change the required check's source to this app (id %d) %s", appID, fixWhere)})
	default:
		detail := fmt.Sprintf("merges into %s are not blocked: no branch protection or ruleset requires the %q check", branch, CheckName)
		if p.Classic == nil && len(p.Rules) == 0 {
			detail = fmt.Sprintf("merges into %s are not blocked: the branch has no protection and no ruleset applies", branch)
		}
		out = append(out, Result{Check: check, Status: Fail, Detail: detail,
			Fix: fmt.Sprintf("require the status check %q from this app (id %d) %s", CheckName, appID, fixWhere)})
	}
	if required && len(wrong) > 0 && len(found) > 0 {
		out = append(out, Result{Check: check, Status: Fail, Detail: strings.Join(wrong, ", ") + ": a check of that name from this app will not satisfy it, so merges wait forever",
			Fix: "remove that requirement or point it at this app (id " + fmt.Sprint(appID) + ")"})
	}
	if prs {
		out = append(out, Result{Check: "pull requests required", Status: OK, Detail: "changes reach " + branch + " only through pull requests"})
	} else {
		out = append(out, Result{Check: "pull requests required", Status: Fail,
			Detail: fmt.Sprintf("%s does not require pull requests: a direct push skips the countersign check", branch),
			Fix:    "require a pull request before merging " + fixWhere})
	}
	if p.Classic != nil && (p.Classic.EnforceAdmins == nil || !p.Classic.EnforceAdmins.Enabled) && len(p.Rules) == 0 {
		out = append(out, Result{Check: "administrators", Status: Warn, Detail: "classic protection is not enforced for administrators: they can merge without the check",
			Fix: "turn on \"Do not allow bypassing the above settings\" " + fixWhere})
	}
	return append(out, evaluateSettings(p, appID, repo, branch)...)
}
