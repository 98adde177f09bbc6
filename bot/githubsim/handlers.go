package githubsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v62/github"
)

func (s *state) registerRoutes(add func(method, tmpl string, auth authKind, h func(c *reqCtx))) {
	const G, P, X = http.MethodGet, http.MethodPost, http.MethodPatch
	add(G, "/app", authApp, hGetApp)
	add(G, "/app/installations", authApp, hListInstallations)
	add(G, "/app/installations/{installation_id}", authApp, hGetInstallation)
	add(P, "/app/installations/{installation_id}/access_tokens", authApp, hCreateToken)
	add(G, "/app/hook/deliveries", authApp, hListDeliveries)
	add(G, "/app/hook/deliveries/{delivery_id}", authApp, hGetDelivery)
	add(P, "/app/hook/deliveries/{delivery_id}/attempts", authApp, hRedeliver)
	add(P, "/app-manifests/{code}/conversions", authNone, hManifest)
	add(G, "/rate_limit", authAny, hRateLimit)
	add(G, "/installation/repositories", authToken, hInstallationRepos)
	add(G, "/repos/{owner}/{repo}/installation", authApp, hRepoInstallation)
	add(G, "/users/{username}", authAny, hGetUser)
	add(G, "/orgs/{org}/teams/{team_slug}/members", authToken, hTeamMembers)
	add(G, "/orgs/{org}/teams/{team_slug}/memberships/{username}", authToken, hTeamMembership)
	add(G, "/repos/{owner}/{repo}", authToken, hGetRepo)
	add(G, "/repos/{owner}/{repo}/pulls", authToken, hListPulls)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}", authToken, hGetPull)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}/files", authToken, hPullFiles)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}/commits", authToken, hPullCommits)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", authToken, hPullReviews)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", authToken, hPullReview)
	add(G, "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", authToken, hGetRequested)
	add(P, "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers", authToken, hRequestReviewers)
	add(G, "/repos/{owner}/{repo}/contents/{path}", authToken, hContents)
	add(G, "/repos/{owner}/{repo}/collaborators/{username}/permission", authToken, hPermission)
	add(G, "/repos/{owner}/{repo}/commits/{ref}/check-runs", authToken, hListCheckRunsForRef)
	add(G, "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", authToken, hCommitPulls)
	add(G, "/repos/{owner}/{repo}/commits/{ref}", authToken, hGetCommit)
	add(G, "/repos/{owner}/{repo}/commits", authToken, hListCommits)
	add(G, "/repos/{owner}/{repo}/compare/{basehead}", authToken, hCompare)
	add(G, "/repos/{owner}/{repo}/git/matching-refs/{ref}", authToken, hMatchingRefs)
	add(P, "/repos/{owner}/{repo}/check-runs", authToken, hCreateCheckRun)
	add(G, "/repos/{owner}/{repo}/check-runs/{check_run_id}", authToken, hGetCheckRun)
	add(X, "/repos/{owner}/{repo}/check-runs/{check_run_id}", authToken, hUpdateCheckRun)
	add(G, "/repos/{owner}/{repo}/issues/{issue_number}/comments", authToken, hListComments)
	add(G, "/repos/{owner}/{repo}/issues/{issue_number}/events", authToken, hListIssueEvents)
	add(P, "/repos/{owner}/{repo}/issues/{issue_number}/comments", authToken, hCreateComment)
	add(G, "/repos/{owner}/{repo}/issues/comments/{comment_id}", authToken, hGetComment)
	add(X, "/repos/{owner}/{repo}/issues/comments/{comment_id}", authToken, hEditComment)
	add(P, "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", authToken, hCreateReaction)
	add(G, "/repos/{owner}/{repo}/branches/{branch}/protection", authToken, hProtection)
	add(G, "/repos/{owner}/{repo}/rules/branches/{branch}", authToken, hRules)
	add(G, "/repos/{owner}/{repo}/rulesets/{ruleset_id}", authToken, hRuleset)
	add(G, "/orgs/{org}/installation", authApp, hOrgInstallation)
	add(G, "/repos/{owner}/{repo}/issues", authToken, hListIssues)
	add(P, "/repos/{owner}/{repo}/issues", authToken, hCreateIssue)
	add(G, "/repos/{owner}/{repo}/issues/{issue_number}", authToken, hGetIssue)
	add(P, "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", authToken, hReviewDeploymentRule)
	add(G, "/repos/{owner}/{repo}/environments", authToken, hListEnvironments)
	add(G, "/repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules", authToken, hEnvProtectionRules)
	add(P, "/graphql", authToken, hGraphQL)
}

func hGetApp(c *reqCtx) {
	m := c.s.appObj()
	m["client_id"] = c.s.clientID()
	m["installations_count"] = len(c.s.instOrder)
	c.json(200, m)
}

func hListInstallations(c *reqCtx) {
	out := []obj{}
	for _, in := range c.s.instOrder {
		out = append(out, c.s.installationObj(in))
	}
	c.json(200, paginate(c, out))
}

func (c *reqCtx) installationParam() *installation {
	id, _ := strconv.ParseInt(c.p["installation_id"], 10, 64)
	return c.s.insts[id]
}

func hGetInstallation(c *reqCtx) {
	in := c.installationParam()
	if in == nil {
		c.notFound()
		return
	}
	c.json(200, c.s.installationObj(in))
}

func hCreateToken(c *reqCtx) {
	s := c.s
	in := c.installationParam()
	if in == nil {
		c.notFound()
		return
	}
	var body struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	// ghinstallation sends a JSON null body; that decodes to the zero value.
	if !c.decodeBody(&body) {
		return
	}
	t := &token{value: "ghs_" + randomHex(18), inst: in, expires: s.ts().Add(s.opt.TokenTTL)}
	var repos []*repo
	if len(body.Repositories) > 0 || len(body.RepositoryIDs) > 0 {
		t.repos = map[*repo]bool{}
		for _, name := range body.Repositories {
			r := s.repos[strings.ToLower(in.account.login+"/"+name)]
			if r == nil || !in.covers(r) {
				c.invalid("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			t.repos[r] = true
			repos = append(repos, r)
		}
		for _, id := range body.RepositoryIDs {
			var found *repo
			for _, r := range s.repoOrder {
				if r.id == id && in.covers(r) {
					found = r
				}
			}
			if found == nil {
				c.invalid("There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			t.repos[found] = true
			repos = append(repos, found)
		}
	}
	s.tokens[t.value] = t
	sel := "all"
	if t.repos != nil || !in.all {
		sel = "selected"
	}
	perms := appPermissions()
	for k, v := range body.Permissions {
		perms[k] = v
	}
	out := obj{"token": t.value, "expires_at": t.expires.Format(time.RFC3339), "permissions": perms, "repository_selection": sel}
	if repos != nil {
		rs := []obj{}
		for _, r := range repos {
			rs = append(rs, s.repoObj(r))
		}
		out["repositories"] = rs
	}
	c.json(201, out)
}

// hListDeliveries lists deliveries newest first with cursor pagination, as GitHub does.
func hListDeliveries(c *reqCtx) {
	s := c.s
	per := 30
	if v, err := strconv.Atoi(c.query("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	var cursor int64
	if v := c.query("cursor"); v != "" {
		cursor, _ = strconv.ParseInt(strings.TrimPrefix(v, "v1_"), 10, 64)
	}
	out := []obj{}
	var lastID int64
	more := false
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		d := s.deliveries[i]
		if cursor != 0 && d.id >= cursor {
			continue
		}
		if len(out) == per {
			more = true
			break
		}
		out = append(out, s.hookDeliveryObj(d, false))
		lastID = d.id
	}
	if more {
		q := c.r.URL.Query()
		q.Set("cursor", fmt.Sprintf("v1_%d", lastID))
		q.Set("per_page", strconv.Itoa(per))
		c.hdr.Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, strings.TrimSuffix(s.base, "/"), c.r.URL.Path, q.Encode()))
	}
	c.json(200, out)
}

func (c *reqCtx) deliveryParam() *delivery {
	id, _ := strconv.ParseInt(c.p["delivery_id"], 10, 64)
	return c.s.deliveryLocked(id)
}

func hGetDelivery(c *reqCtx) {
	d := c.deliveryParam()
	if d == nil {
		c.notFound()
		return
	}
	c.json(200, c.s.hookDeliveryObj(d, true))
}

func hRedeliver(c *reqCtx) {
	d := c.deliveryParam()
	if d == nil {
		c.notFound()
		return
	}
	c.s.redeliverLocked(d)
	c.json(202, obj{})
}

func hManifest(c *reqCtx) {
	s := c.s
	code := c.p["code"]
	if !s.manifestCodes[code] {
		c.notFound()
		return
	}
	delete(s.manifestCodes, code)
	m := s.appObj()
	m["client_id"] = s.clientID()
	m["client_secret"] = randomHex(20)
	m["webhook_secret"] = s.hookSecret
	m["pem"] = string((&Sim{s}).PrivateKeyPEM())
	c.json(201, m)
}

func hRateLimit(c *reqCtx) {
	s := c.s
	limit, used, reset := 60, 0, s.now().Add(time.Hour)
	if c.inst != nil {
		w := s.rateWindowLocked(fmt.Sprintf("inst:%d", c.inst.id), 5000)
		limit, used, reset = w.limit, w.used, w.reset
	}
	core := obj{"limit": limit, "used": used, "remaining": limit - used, "reset": reset.Unix()}
	other := func(l int) obj { return obj{"limit": l, "used": 0, "remaining": l, "reset": reset.Unix()} }
	c.json(200, obj{"resources": obj{"core": core, "search": other(30), "graphql": other(5000), "integration_manifest": other(5000), "code_search": other(10)}, "rate": core})
	c.hdr.Set("X-RateLimit-Remaining", strconv.Itoa(limit-used)) // /rate_limit is not charged
	c.hdr.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	c.hdr.Set("X-RateLimit-Used", strconv.Itoa(used))
	c.hdr.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	c.hdr.Set("X-RateLimit-Resource", "core")
}

func hInstallationRepos(c *reqCtx) {
	s := c.s
	all := []obj{}
	for _, r := range s.instRepos(c.inst) {
		if c.tok.repos == nil || c.tok.repos[r] {
			all = append(all, s.repoObj(r))
		}
	}
	sel := "selected"
	if c.inst.all {
		sel = "all"
	}
	c.json(200, obj{"total_count": len(all), "repositories": paginate(c, all), "repository_selection": sel})
}

func hRepoInstallation(c *reqCtx) {
	s := c.s
	r := s.repos[strings.ToLower(c.p["owner"]+"/"+c.p["repo"])]
	in := s.installationFor(r)
	if in == nil {
		c.notFound()
		return
	}
	c.json(200, s.installationObj(in))
}

func hGetUser(c *reqCtx) {
	u := c.s.users[strings.ToLower(c.p["username"])]
	if u == nil {
		c.notFound()
		return
	}
	c.json(200, c.s.userFullObj(u))
}

func (c *reqCtx) teamParam() *team {
	t := c.s.teams[strings.ToLower(c.p["org"]+"/"+c.p["team_slug"])]
	if t == nil || !strings.EqualFold(c.inst.account.login, t.org.login) {
		return nil
	}
	return t
}

func hTeamMembers(c *reqCtx) {
	t := c.teamParam()
	if t == nil {
		c.notFound()
		return
	}
	out := []obj{}
	for _, m := range t.members {
		out = append(out, c.s.userObj(c.s.users[strings.ToLower(m)]))
	}
	c.json(200, paginate(c, out))
}

func hTeamMembership(c *reqCtx) {
	t := c.teamParam()
	if t == nil || !containsFold(t.members, c.p["username"]) {
		c.notFound()
		return
	}
	c.json(200, obj{
		"url":   c.s.api("organizations/%d/team/%d/memberships/%s", t.org.id, t.id, c.p["username"]),
		"role":  "member",
		"state": "active",
	})
}

func hGetRepo(c *reqCtx) { c.json(200, c.s.fullRepoObj(c.repo)) }

func (c *reqCtx) prParam() *pullRequest {
	n, err := strconv.Atoi(c.p["pull_number"])
	if err != nil {
		return nil
	}
	return c.repo.prs[n]
}

func hListPulls(c *reqCtx) {
	st := c.query("state")
	if st == "" {
		st = "open"
	}
	if st != "open" && st != "closed" && st != "all" {
		c.invalid("Validation Failed")
		return
	}
	head, base := c.query("head"), c.query("base")
	out := []obj{}
	// GitHub's default sort is created, descending.
	for i := len(c.repo.prOrder) - 1; i >= 0; i-- {
		p := c.repo.prOrder[i]
		if st != "all" && p.state != st {
			continue
		}
		if head != "" {
			if _, ref, ok := strings.Cut(head, ":"); !ok || ref != p.headRef {
				continue
			}
		}
		if base != "" && base != p.baseRef {
			continue
		}
		out = append(out, c.s.prSimpleObj(c.repo, p))
	}
	if c.query("direction") == "asc" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	c.json(200, paginate(c, out))
}

// hCommitPulls lists the pull requests associated with a commit, newest
// first. The simulator associates a pull request with the commit its head is
// at, and a merged one also with its merge commit and every commit its merge
// introduced (its own commits, and their copies for a rebase merge). As GitHub documents, a commit reachable
// from the default branch lists only the merged pull requests that introduced
// it, not the open ones at it; any other commit lists open and closed ones.
func hCommitPulls(c *reqCtx) {
	cm := c.commitParam(c.p["commit_sha"])
	if cm == nil {
		c.fail(422, "No commit found for SHA: "+c.p["commit_sha"], "https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit")
		return
	}
	sha := cm.Hash.String()
	onDefault := false
	if h, ok := c.repo.branchHash(c.repo.defaultBranch); ok {
		onDefault = c.repo.ancestors(h)[cm.Hash]
	}
	out := []obj{}
	for i := len(c.repo.prOrder) - 1; i >= 0; i-- {
		p := c.repo.prOrder[i]
		if p.headSHA != sha && (!p.merged || (p.mergeCommitSHA != sha && !p.introduced[sha])) {
			continue
		}
		if onDefault && !p.merged {
			continue
		}
		out = append(out, c.s.prSimpleObj(c.repo, p))
	}
	c.json(200, paginate(c, out))
}

func hGetPull(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	m := c.s.prObj(c.repo, p)
	// A single pull request carries "team simple" reviewers, which have no parent.
	for _, t := range m["requested_teams"].([]obj) {
		delete(t, "parent")
	}
	c.json(200, m)
}

func (s *state) commitFileObj(r *repo, ref string, f fileChange) obj {
	g := &github.CommitFile{
		SHA:         github.String(f.sha.String()),
		Filename:    github.String(f.filename),
		Status:      github.String(f.status),
		Additions:   github.Int(f.additions),
		Deletions:   github.Int(f.deletes),
		Changes:     github.Int(f.additions + f.deletes),
		BlobURL:     github.String(s.html("%s/blob/%s/%s", r.fullName(), ref, f.filename)),
		RawURL:      github.String(s.html("%s/raw/%s/%s", r.fullName(), ref, f.filename)),
		ContentsURL: github.String(s.api("repos/%s/contents/%s?ref=%s", r.fullName(), f.filename, ref)),
	}
	if f.patch != "" {
		g.Patch = github.String(f.patch)
	}
	if f.prev != "" {
		g.PreviousFilename = github.String(f.prev)
	}
	return toObj(g)
}

func hPullFiles(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	d := c.repo.prDiff(p)
	if d.err != nil {
		c.fail(500, "Server Error", "")
		return
	}
	files := d.files
	if len(files) > maxPRFiles {
		files = files[:maxPRFiles]
	}
	out := make([]obj, 0, len(files))
	for _, f := range paginate(c, files) {
		out = append(out, c.s.commitFileObj(c.repo, p.headSHA, f))
	}
	c.json(200, out)
}

func (s *state) gitUser(r *repo, sig object.Signature) obj {
	if l := s.loginForAddress(r, sig.Email); l != "" {
		return s.userObj(s.users[strings.ToLower(l)])
	}
	return nil
}

// commitObj renders a commit; files is nil for list shapes.
func (s *state) commitObj(r *repo, cm *object.Commit, files []fileChange, withStats bool) obj {
	fn := r.fullName()
	sha := cm.Hash.String()
	parents := []obj{}
	for _, p := range cm.ParentHashes {
		parents = append(parents, obj{"sha": p.String(), "url": s.api("repos/%s/commits/%s", fn, p), "html_url": s.html("%s/commit/%s", fn, p)})
	}
	sig := func(x object.Signature) obj {
		return obj{"name": x.Name, "email": x.Email, "date": x.When.UTC().Format(time.RFC3339)}
	}
	m := obj{
		"sha": sha, "node_id": nodeID("Commit", int64(cm.Hash[0])<<16|int64(cm.Hash[1])<<8|int64(cm.Hash[2])),
		"url": s.api("repos/%s/commits/%s", fn, sha), "html_url": s.html("%s/commit/%s", fn, sha),
		"comments_url": s.api("repos/%s/commits/%s/comments", fn, sha),
		"commit": obj{
			"url": s.api("repos/%s/git/commits/%s", fn, sha), "author": sig(cm.Author), "committer": sig(cm.Committer),
			"message": trimNL(cm.Message), "comment_count": 0,
			"tree":         obj{"sha": cm.TreeHash.String(), "url": s.api("repos/%s/git/trees/%s", fn, cm.TreeHash)},
			"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
		},
		"author": s.gitUser(r, cm.Author), "committer": s.gitUser(r, cm.Committer), "parents": parents,
	}
	if withStats {
		adds, dels := 0, 0
		out := []obj{}
		for _, f := range files {
			adds += f.additions
			dels += f.deletes
			out = append(out, s.commitFileObj(r, sha, f))
		}
		m["stats"] = obj{"additions": adds, "deletions": dels, "total": adds + dels}
		m["files"] = out
	}
	return m
}

func hPullCommits(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	commits := c.repo.prDiff(p).commits
	if len(commits) > maxPRCommits {
		commits = commits[:maxPRCommits]
	}
	out := []obj{}
	for _, cm := range paginate(c, commits) {
		out = append(out, c.s.commitObj(c.repo, cm, nil, false))
	}
	c.json(200, out)
}

func hPullReviews(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	out := []obj{}
	for _, rv := range p.reviews {
		out = append(out, c.s.reviewObj(c.repo, p, rv, false))
	}
	c.json(200, paginate(c, out))
}

func hPullReview(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	id, _ := strconv.ParseInt(c.p["review_id"], 10, 64)
	for _, rv := range p.reviews {
		if rv.id == id {
			c.json(200, c.s.reviewObj(c.repo, p, rv, false))
			return
		}
	}
	c.notFound()
}

func hGetRequested(c *reqCtx) {
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	users, teams := []obj{}, []obj{}
	for _, u := range p.reqUsers {
		users = append(users, c.s.userObj(u))
	}
	for _, t := range p.reqTeams {
		teams = append(teams, c.s.teamObj(t))
	}
	c.json(200, obj{"users": users, "teams": teams})
}

func hRequestReviewers(c *reqCtx) {
	s := c.s
	p := c.prParam()
	if p == nil {
		c.notFound()
		return
	}
	var body struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !c.decodeBody(&body) {
		return
	}
	var users []*user
	for _, l := range body.Reviewers {
		u := s.users[strings.ToLower(l)]
		if u == nil || (s.association(c.repo, u) == "NONE" && c.repo.perms[strings.ToLower(u.login)] == "") {
			c.invalid("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + c.repo.fullName() + " repository.")
			return
		}
		if u == p.author {
			c.invalid("Review cannot be requested from pull request author.")
			return
		}
		users = append(users, u)
	}
	var teams []*team
	for _, slug := range body.TeamReviewers {
		t := s.teams[strings.ToLower(c.repo.owner.login+"/"+slug)]
		if t == nil {
			c.invalid("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the " + c.repo.fullName() + " repository.")
			return
		}
		teams = append(teams, t)
	}
	sender := s.botUser()
	for _, u := range users {
		if !containsUser(p.reqUsers, u) {
			p.reqUsers = append(p.reqUsers, u)
			s.prEventLocked(c.repo, p, "review_requested", sender, obj{"requested_reviewer": s.userObj(u)})
		}
	}
	for _, t := range teams {
		if !containsTeam(p.reqTeams, t) {
			p.reqTeams = append(p.reqTeams, t)
			s.prEventLocked(c.repo, p, "review_requested", sender, obj{"requested_team": webhookTeam(s.teamObj(t))})
		}
	}
	// This operation's team shape is GitHub's older "team" (no type or organization_id).
	out := webhookPR(s.prSimpleObj(c.repo, p))
	c.json(201, out)
}

func containsUser(list []*user, u *user) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

func containsTeam(list []*team, t *team) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func wrap60(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

func hContents(c *reqCtx) {
	s := c.s
	r := c.repo
	ref := c.query("ref")
	if ref == "" {
		ref = r.defaultBranch
	}
	h, ok := r.resolve(ref)
	if !ok {
		c.fail(404, "No commit found for the ref "+ref, "")
		return
	}
	cm, err := r.commit(h)
	if err != nil {
		c.notFound()
		return
	}
	tree, err := cm.Tree()
	if err != nil {
		c.notFound()
		return
	}
	p := strings.Trim(c.p["path"], "/")
	entry := func(name, p string, e object.TreeEntry) obj {
		typ := "file"
		var size int64
		if e.Mode == filemode.Dir {
			typ = "dir"
		} else if b, err := r.storer.EncodedObject(plumbing.BlobObject, e.Hash); err == nil {
			size = b.Size()
		}
		self := s.api("repos/%s/contents/%s?ref=%s", r.fullName(), p, ref)
		htmlURL := s.html("%s/blob/%s/%s", r.fullName(), ref, p)
		gitURL := s.api("repos/%s/git/blobs/%s", r.fullName(), e.Hash)
		var download any = s.html("%s/raw/%s/%s", r.fullName(), ref, p)
		if typ == "dir" {
			htmlURL = s.html("%s/tree/%s/%s", r.fullName(), ref, p)
			gitURL = s.api("repos/%s/git/trees/%s", r.fullName(), e.Hash)
			download = nil
		}
		return obj{
			"type": typ, "size": size, "name": name, "path": p, "sha": e.Hash.String(), "url": self,
			"git_url": gitURL, "html_url": htmlURL, "download_url": download,
			"_links": obj{"self": self, "git": gitURL, "html": htmlURL},
		}
	}
	listDir := func(t *object.Tree, prefix string) {
		out := []obj{}
		for _, e := range t.Entries {
			out = append(out, entry(e.Name, strings.TrimPrefix(prefix+"/"+e.Name, "/"), e))
		}
		c.json(200, out)
	}
	if p == "" {
		listDir(tree, "")
		return
	}
	e, err := tree.FindEntry(p)
	if err != nil {
		c.notFound()
		return
	}
	if e.Mode == filemode.Dir {
		sub, err := tree.Tree(p)
		if err != nil {
			c.notFound()
			return
		}
		listDir(sub, p)
		return
	}
	f, err := tree.TreeEntryFile(e)
	if err != nil {
		c.notFound()
		return
	}
	content, err := f.Contents()
	if err != nil {
		c.fail(500, "Server Error", "")
		return
	}
	m := entry(path.Base(p), p, *e)
	m["encoding"] = "base64"
	m["content"] = wrap60([]byte(content))
	c.json(200, m)
}

var permRank = map[string]int{"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

func hPermission(c *reqCtx) {
	s := c.s
	u := s.users[strings.ToLower(c.p["username"])]
	if u == nil {
		c.notFound()
		return
	}
	role := c.repo.perms[strings.ToLower(u.login)]
	if c.repo.owner.typ == "Organization" {
		for _, in := range s.instOrder {
			_ = in
		}
	}
	if role == "" {
		role = "none"
		if !c.repo.private {
			role = "read"
		}
	}
	legacy := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read", "none": "none"}[role]
	um := s.userObj(u)
	um["permissions"] = obj{"admin": permRank[role] >= 5, "maintain": permRank[role] >= 4, "push": permRank[role] >= 3, "triage": permRank[role] >= 2, "pull": permRank[role] >= 1}
	um["role_name"] = role
	c.json(200, obj{"permission": legacy, "role_name": role, "user": um})
}

func (c *reqCtx) commitParam(ref string) *object.Commit {
	h, ok := c.repo.resolve(ref)
	if !ok {
		return nil
	}
	cm, err := c.repo.commit(h)
	if err != nil {
		return nil
	}
	return cm
}

func hGetCommit(c *reqCtx) {
	cm := c.commitParam(c.p["ref"])
	if cm == nil {
		c.fail(422, "No commit found for SHA: "+c.p["ref"], "https://docs.github.com/rest/commits/commits#get-a-commit")
		return
	}
	var parent plumbing.Hash
	if len(cm.ParentHashes) > 0 {
		parent = cm.ParentHashes[0]
	}
	files, err := c.repo.diff(parent, cm.Hash)
	if err != nil {
		c.fail(500, "Server Error", "")
		return
	}
	all := files
	if len(files) > maxPRFiles {
		files = files[:maxPRFiles]
	}
	m := c.s.commitObj(c.repo, cm, paginate(c, files), true)
	adds, dels := 0, 0
	for _, f := range all {
		adds += f.additions
		dels += f.deletes
	}
	m["stats"] = obj{"additions": adds, "deletions": dels, "total": adds + dels}
	c.json(200, m)
}

func hCompare(c *reqCtx) {
	s := c.s
	r := c.repo
	baseRef, headRef, ok := strings.Cut(c.p["basehead"], "...")
	if !ok {
		c.notFound()
		return
	}
	base, head := c.commitParam(baseRef), c.commitParam(headRef)
	if base == nil || head == nil {
		c.notFound()
		return
	}
	d := r.compareStats(base.Hash, head.Hash)
	mb := r.mergeBase(base.Hash, head.Hash)
	behind := len(r.commitsBetween(head.Hash, base.Hash))
	ahead := len(d.commits)
	status := "diverged"
	switch {
	case ahead == 0 && behind == 0:
		status = "identical"
	case behind == 0:
		status = "ahead"
	case ahead == 0:
		status = "behind"
	}
	commits := d.commits
	if len(commits) > maxPRCommits {
		commits = commits[:maxPRCommits]
	}
	cs := []obj{}
	for _, cm := range paginate(c, commits) {
		cs = append(cs, s.commitObj(r, cm, nil, false))
	}
	files := []obj{}
	for i, f := range d.files {
		if i == 300 {
			break
		}
		files = append(files, s.commitFileObj(r, head.Hash.String(), f))
	}
	mbObj := obj{}
	if mbc, err := r.commit(mb); err == nil {
		mbObj = s.commitObj(r, mbc, nil, false)
	}
	fn := r.fullName()
	c.json(200, obj{
		"url":               s.api("repos/%s/compare/%s", fn, c.p["basehead"]),
		"html_url":          s.html("%s/compare/%s", fn, c.p["basehead"]),
		"permalink_url":     s.html("%s/compare/%s...%s", fn, base.Hash, head.Hash),
		"diff_url":          s.html("%s/compare/%s.diff", fn, c.p["basehead"]),
		"patch_url":         s.html("%s/compare/%s.patch", fn, c.p["basehead"]),
		"base_commit":       s.commitObj(r, base, nil, false),
		"merge_base_commit": mbObj,
		"status":            status,
		"ahead_by":          ahead,
		"behind_by":         behind,
		"total_commits":     ahead,
		"commits":           cs,
		"files":             files,
	})
}

func hCreateCheckRun(c *reqCtx) {
	s := c.s
	var in checkRunInput
	if !c.decodeBody(&in) {
		return
	}
	if msg := validateCheckRun(&in, true); msg != "" {
		c.fail(422, msg, "https://docs.github.com/rest/checks/runs#create-a-check-run")
		return
	}
	if len(*in.HeadSHA) != 40 || c.commitParam(*in.HeadSHA) == nil {
		c.fail(422, "No commit found for SHA: "+*in.HeadSHA, "https://docs.github.com/rest/checks/runs#create-a-check-run")
		return
	}
	cr := &checkRun{id: s.nextID(idCheckRun), repo: c.repo, headSHA: *in.HeadSHA, status: "queued", startedAt: s.ts()}
	cr.suiteID = s.suiteID(c.repo, cr.headSHA)
	s.applyCheckRun(cr, &in)
	s.checkRuns[cr.id] = cr
	s.checkOrder = append(s.checkOrder, cr)
	s.recordWrite(cr, http.MethodPost)
	s.checkRunEventLocked(cr, "created", s.botUser(), nil)
	if cr.status == "completed" {
		s.checkRunEventLocked(cr, "completed", s.botUser(), nil)
	}
	c.json(201, s.checkRunObj(cr))
}

func (c *reqCtx) checkRunParam() *checkRun {
	id, _ := strconv.ParseInt(c.p["check_run_id"], 10, 64)
	cr := c.s.checkRuns[id]
	if cr == nil || cr.repo != c.repo {
		return nil
	}
	return cr
}

func hGetCheckRun(c *reqCtx) {
	cr := c.checkRunParam()
	if cr == nil {
		c.notFound()
		return
	}
	c.json(200, c.s.checkRunObj(cr))
}

func hUpdateCheckRun(c *reqCtx) {
	s := c.s
	cr := c.checkRunParam()
	if cr == nil {
		c.notFound()
		return
	}
	var in checkRunInput
	if !c.decodeBody(&in) {
		return
	}
	if msg := validateCheckRun(&in, false); msg != "" {
		c.fail(422, msg, "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	// A completed run's status and conclusion are final: GitHub does not
	// move it back (integrators report the change refused or without
	// effect; the strict reading is a refusal). A new run of the same name
	// is how a verdict changes.
	if cr.status == "completed" && ((in.Status != nil && *in.Status != "completed") || (in.Conclusion != nil && *in.Conclusion != cr.conclusion)) {
		c.fail(422, "Invalid request.\n\nThe status and conclusion of a completed check run cannot be changed; create a new check run.", "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil && cr.conclusion == "" {
		c.fail(422, "Invalid request.\n\nNo conclusion provided: a completed check run requires one.", "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	if in.Conclusion != nil && *in.Conclusion == "action_required" && (in.DetailsURL == nil || *in.DetailsURL == "") && cr.detailsURL == "" {
		c.fail(422, "Invalid request.\n\ndetails_url is required when conclusion is action_required.", "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	completed := s.applyCheckRun(cr, &in)
	s.recordWrite(cr, http.MethodPatch)
	if completed {
		s.checkRunEventLocked(cr, "completed", s.botUser(), nil)
	}
	c.json(200, s.checkRunObj(cr))
}

func hListCheckRunsForRef(c *reqCtx) {
	s := c.s
	cm := c.commitParam(c.p["ref"])
	if cm == nil {
		c.fail(422, "No commit found for SHA: "+c.p["ref"], "")
		return
	}
	sha := cm.Hash.String()
	name, status := c.query("check_name"), c.query("status")
	filter := c.query("filter")
	if filter == "" {
		filter = "latest"
	}
	var runs []*checkRun
	seen := map[string]bool{}
	for i := len(s.checkOrder) - 1; i >= 0; i-- { // newest first
		cr := s.checkOrder[i]
		if cr.repo != c.repo || cr.headSHA != sha || (name != "" && cr.name != name) || (status != "" && cr.status != status) {
			continue
		}
		if filter == "latest" && seen[cr.name] {
			continue
		}
		seen[cr.name] = true
		runs = append(runs, cr)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].id > runs[j].id })
	out := []obj{}
	for _, cr := range paginate(c, runs) {
		out = append(out, s.checkRunObj(cr))
	}
	c.json(200, obj{"total_count": len(runs), "check_runs": out})
}

func (c *reqCtx) issuePR() *pullRequest {
	n, err := strconv.Atoi(c.p["issue_number"])
	if err != nil {
		return nil
	}
	return c.repo.prs[n]
}

func hListComments(c *reqCtx) {
	p := c.issuePR()
	if p == nil {
		c.notFound()
		return
	}
	var since time.Time
	if v := c.query("since"); v != "" {
		since, _ = time.Parse(time.RFC3339, v)
	}
	out := []obj{}
	for _, cm := range p.comments {
		if !since.IsZero() && cm.updatedAt.Before(since) {
			continue
		}
		out = append(out, c.s.commentObj(cm))
	}
	c.json(200, paginate(c, out))
}

// hListIssueEvents lists a pull request's issue events, oldest first, as
// GitHub's issue events API does; the simulator records base_ref_changed.
func hListIssueEvents(c *reqCtx) {
	p := c.issuePR()
	if p == nil {
		c.notFound()
		return
	}
	out := []obj{}
	for _, ev := range p.events {
		out = append(out, obj{
			"id": ev.id, "node_id": nodeID("BaseRefChangedEvent", ev.id),
			"url":   c.s.api("repos/%s/issues/events/%d", c.repo.fullName(), ev.id),
			"actor": c.s.userObj(ev.actor), "event": ev.event, "commit_id": nil, "commit_url": nil,
			"created_at": ev.at.UTC().Format(time.RFC3339), "performed_via_github_app": nil,
		})
	}
	c.json(200, paginate(c, out))
}

func hCreateComment(c *reqCtx) {
	p := c.issuePR()
	if p == nil {
		c.notFound()
		return
	}
	var body struct {
		Body *string `json:"body"`
	}
	if !c.decodeBody(&body) {
		return
	}
	if body.Body == nil || *body.Body == "" {
		c.invalid("Invalid request.\n\nFor 'properties/body', nil is not a string.")
		return
	}
	if len([]rune(*body.Body)) > 65536 {
		c.invalid("Validation Failed: body is too long (maximum is 65536 characters)")
		return
	}
	cm := c.s.addCommentLocked(c.repo, p, c.s.botUser(), *body.Body, true)
	c.hdr.Set("Location", c.s.api("repos/%s/issues/comments/%d", c.repo.fullName(), cm.id))
	c.json(201, c.s.commentObj(cm))
}

func (c *reqCtx) commentParam() *comment {
	id, _ := strconv.ParseInt(c.p["comment_id"], 10, 64)
	cm := c.s.comments[id]
	if cm == nil || cm.repo != c.repo {
		return nil
	}
	return cm
}

func hGetComment(c *reqCtx) {
	cm := c.commentParam()
	if cm == nil {
		c.notFound()
		return
	}
	c.json(200, c.s.commentObj(cm))
}

func hEditComment(c *reqCtx) {
	cm := c.commentParam()
	if cm == nil {
		c.notFound()
		return
	}
	var body struct {
		Body *string `json:"body"`
	}
	if !c.decodeBody(&body) {
		return
	}
	if body.Body == nil || *body.Body == "" {
		c.invalid("Invalid request.\n\nFor 'properties/body', nil is not a string.")
		return
	}
	if len([]rune(*body.Body)) > 65536 {
		c.invalid("Validation Failed: body is too long (maximum is 65536 characters)")
		return
	}
	if cm.user != c.s.botUser() {
		c.fail(403, "Resource not accessible by integration", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
		return
	}
	c.s.editCommentLocked(cm, c.s.botUser(), *body.Body)
	c.json(200, c.s.commentObj(cm))
}

func hCreateReaction(c *reqCtx) {
	s := c.s
	cm := c.commentParam()
	if cm == nil {
		c.notFound()
		return
	}
	var body struct {
		Content string `json:"content"`
	}
	if !c.decodeBody(&body) {
		return
	}
	if !oneOf(body.Content, reactionContents) {
		c.invalid(fmt.Sprintf("Invalid request.\n\n%q is not a member of [\"+1\", \"-1\", \"laugh\", \"confused\", \"heart\", \"hooray\", \"rocket\", \"eyes\"].", body.Content))
		return
	}
	bot := s.botUser()
	for _, x := range cm.reactions {
		if x.user == bot && x.content == body.Content {
			c.json(200, s.reactionObj(x))
			return
		}
	}
	x := &reaction{id: s.nextID(idReaction), user: bot, content: body.Content, createdAt: s.ts()}
	cm.reactions = append(cm.reactions, x)
	c.json(201, s.reactionObj(x))
}

func hProtection(c *reqCtx) {
	b := c.p["branch"]
	if _, ok := c.repo.branchHash(b); !ok {
		c.fail(404, "Branch not found", "https://docs.github.com/rest/branches/branch-protection#get-branch-protection")
		return
	}
	p := c.repo.protection[b]
	if p == nil {
		c.fail(404, "Branch not protected", "https://docs.github.com/rest/branches/branch-protection#get-branch-protection")
		return
	}
	c.json(200, c.s.protectionObj(c.repo, b, p))
}

func hRules(c *reqCtx) {
	out := []obj{}
	for _, r := range c.repo.rules[c.p["branch"]] {
		m := toObj(r)
		m["ruleset_source_type"] = "Repository"
		m["ruleset_source"] = c.repo.fullName()
		m["ruleset_id"] = 1
		out = append(out, m)
	}
	c.json(200, paginate(c, out))
}

// hRuleset serves GET /repos/{owner}/{repo}/rulesets/{ruleset_id}: the rules
// set with SetRules form ruleset 1, targeting the branches they were set for.
// GitHub returns bypass_actors only to those who can edit the ruleset
// (administration: write); the simulator's apps hold administration: read, so
// it is never in the answer, and current_user_can_bypass is "never".
func hRuleset(c *reqCtx) {
	if c.p["ruleset_id"] != "1" || len(c.repo.rules) == 0 {
		c.fail(404, "Not Found", "https://docs.github.com/rest/repos/rules#get-a-repository-ruleset")
		return
	}
	var branches []string
	rules := []obj{}
	seen := map[string]bool{}
	for b, rs := range c.repo.rules {
		branches = append(branches, "refs/heads/"+b)
		for _, r := range rs {
			if !seen[r.Type] {
				seen[r.Type] = true
				rules = append(rules, toObj(r))
			}
		}
	}
	sort.Strings(branches)
	c.json(200, obj{
		"id": 1, "name": "protect " + strings.Join(branches, ", "), "target": "branch",
		"source_type": "Repository", "source": c.repo.fullName(), "enforcement": "active",
		"current_user_can_bypass": "never", "node_id": "RRS_1",
		"conditions": obj{"ref_name": obj{"include": branches, "exclude": []string{}}},
		"rules":      rules,
		"_links":     obj{"self": obj{"href": c.s.api("repos/%s/rulesets/1", c.repo.fullName())}},
		"created_at": c.s.ts(), "updated_at": c.s.ts(),
	})
}

// hOrgInstallation serves GET /orgs/{org}/installation.
func hOrgInstallation(c *reqCtx) {
	for _, in := range c.s.instOrder {
		if strings.EqualFold(in.account.login, c.p["org"]) {
			c.json(200, c.s.installationObj(in))
			return
		}
	}
	c.fail(404, "Not Found", "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app")
}

// protectionObj renders branch protection as GitHub does: every section an
// object (disabled ones with enabled=false), never null.
func (s *state) protectionObj(r *repo, branch string, p *github.Protection) obj {
	base := s.api("repos/%s/branches/%s/protection", r.fullName(), branch)
	flag := func(on bool) obj { return obj{"enabled": on} }
	m := obj{"url": base}
	if rsc := p.RequiredStatusChecks; rsc != nil {
		contexts := []string{}
		if rsc.Contexts != nil {
			contexts = append(contexts, *rsc.Contexts...)
		}
		checks := []obj{}
		if rsc.Checks != nil {
			for _, ch := range *rsc.Checks {
				var app any
				if ch.AppID != nil {
					app = *ch.AppID
				}
				checks = append(checks, obj{"context": ch.Context, "app_id": app})
				if rsc.Contexts == nil {
					contexts = append(contexts, ch.Context)
				}
			}
		} else {
			for _, ctx := range contexts {
				checks = append(checks, obj{"context": ctx, "app_id": nil})
			}
		}
		m["required_status_checks"] = obj{
			"url": base + "/required_status_checks", "strict": rsc.Strict, "contexts": contexts,
			"contexts_url": base + "/required_status_checks/contexts", "checks": checks,
		}
	}
	if rr := p.RequiredPullRequestReviews; rr != nil {
		m["required_pull_request_reviews"] = obj{
			"url": base + "/required_pull_request_reviews", "dismiss_stale_reviews": rr.DismissStaleReviews,
			"require_code_owner_reviews": rr.RequireCodeOwnerReviews, "required_approving_review_count": rr.RequiredApprovingReviewCount,
			"require_last_push_approval": rr.RequireLastPushApproval,
		}
		if a := rr.BypassPullRequestAllowances; a != nil {
			users, teams, apps := []obj{}, []obj{}, []obj{}
			for _, u := range a.Users {
				if x := s.users[strings.ToLower(u.GetLogin())]; x != nil {
					users = append(users, s.userObj(x))
				}
			}
			for _, t := range a.Teams {
				if x := s.teams[strings.ToLower(r.owner.login+"/"+t.GetSlug())]; x != nil {
					teams = append(teams, s.teamObj(x))
				}
			}
			for _, ap := range a.Apps {
				if ap.GetSlug() == s.opt.AppSlug {
					apps = append(apps, s.appObj())
				} else {
					apps = append(apps, toObj(ap))
				}
			}
			m["required_pull_request_reviews"].(obj)["bypass_pull_request_allowances"] = obj{"users": users, "teams": teams, "apps": apps}
		}
	}
	if rs := p.Restrictions; rs != nil {
		users, teams, apps := []obj{}, []obj{}, []obj{}
		for _, u := range rs.Users {
			if x := s.users[strings.ToLower(u.GetLogin())]; x != nil {
				users = append(users, s.userObj(x))
			}
		}
		for _, t := range rs.Teams {
			if x := s.teams[strings.ToLower(r.owner.login+"/"+t.GetSlug())]; x != nil {
				teams = append(teams, s.teamObj(x))
			}
		}
		for _, a := range rs.Apps {
			if a.GetSlug() == s.opt.AppSlug {
				apps = append(apps, s.appObj())
			}
		}
		m["restrictions"] = obj{
			"url": base + "/restrictions", "users_url": base + "/restrictions/users", "teams_url": base + "/restrictions/teams",
			"apps_url": base + "/restrictions/apps", "users": users, "teams": teams, "apps": apps,
		}
	}
	m["enforce_admins"] = obj{"url": base + "/enforce_admins", "enabled": p.EnforceAdmins != nil && p.EnforceAdmins.Enabled}
	m["required_signatures"] = obj{"url": base + "/required_signatures", "enabled": p.RequiredSignatures != nil && p.RequiredSignatures.GetEnabled()}
	m["required_linear_history"] = flag(p.RequireLinearHistory != nil && p.RequireLinearHistory.Enabled)
	m["allow_force_pushes"] = flag(p.AllowForcePushes != nil && p.AllowForcePushes.Enabled)
	m["allow_deletions"] = flag(p.AllowDeletions != nil && p.AllowDeletions.Enabled)
	m["block_creations"] = flag(p.BlockCreations != nil && p.BlockCreations.GetEnabled())
	m["required_conversation_resolution"] = flag(p.RequiredConversationResolution != nil && p.RequiredConversationResolution.Enabled)
	m["lock_branch"] = flag(p.LockBranch != nil && p.LockBranch.GetEnabled())
	m["allow_fork_syncing"] = flag(p.AllowForkSyncing != nil && p.AllowForkSyncing.GetEnabled())
	return m
}

// hListCommits lists commits reachable from sha (default branch by default),
// newest first, filtered by path, author and since/until (committer date).
func hListCommits(c *reqCtx) {
	ref := c.query("sha")
	cm := c.commitParam(ref)
	if cm == nil {
		if ref == "" {
			c.fail(409, "Git Repository is empty.", "")
			return
		}
		c.notFound()
		return
	}
	all := c.repo.commitsBetween(plumbing.ZeroHash, cm.Hash)
	pathFilter := strings.Trim(c.query("path"), "/")
	author := c.query("author")
	var since, until time.Time
	for _, b := range []struct {
		key string
		t   *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := c.query(b.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				c.invalid("Invalid value for " + b.key + ": " + v)
				return
			}
			*b.t = t
		}
	}
	out := []*object.Commit{}
	for i := len(all) - 1; i >= 0; i-- {
		x := all[i]
		// GitHub filters on the committer date.
		if (!since.IsZero() && x.Committer.When.Before(since)) || (!until.IsZero() && x.Committer.When.After(until)) {
			continue
		}
		if author != "" {
			if l := c.s.loginForAddress(c.repo, x.Author.Email); !strings.EqualFold(l, author) && !strings.EqualFold(x.Author.Email, author) {
				continue
			}
		}
		if pathFilter != "" {
			var parent plumbing.Hash
			if len(x.ParentHashes) > 0 {
				parent = x.ParentHashes[0]
			}
			files, err := c.repo.diff(parent, x.Hash)
			touched := false
			for _, f := range files {
				touched = touched || f.filename == pathFilter || f.prev == pathFilter || strings.HasPrefix(f.filename, pathFilter+"/")
			}
			if err != nil || !touched {
				continue
			}
		}
		out = append(out, x)
	}
	res := []obj{}
	for _, x := range paginate(c, out) {
		res = append(res, c.s.commitObj(c.repo, x, nil, false))
	}
	c.json(200, res)
}
