package githubsim

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v62/github"
)

func (s *state) addUserLocked(login, typ string, id int64) *user {
	if u, ok := s.users[strings.ToLower(login)]; ok {
		return u
	}
	if id == 0 {
		id = s.nextID(idUser)
	}
	u := &user{id: id, login: login, typ: typ, createdAt: s.ts()}
	s.users[strings.ToLower(login)] = u
	return u
}

// userLocked returns a known user, creating a plain User for an unknown login.
func (s *state) userLocked(login string) *user {
	mustf(login != "", "empty login")
	return s.addUserLocked(login, "User", 0)
}

// AddUser adds a user of type User (or returns the existing one).
func (s *Sim) AddUser(login string) *github.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userGH(s.addUserLocked(login, "User", 0))
}

// AddBot adds a user of type Bot with a fixed id ("Copilot", "dependabot[bot]").
func (s *Sim) AddBot(login string, id int64) *github.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userGH(s.addUserLocked(login, "Bot", id))
}

// AddOrg adds an organization.
func (s *Sim) AddOrg(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[strings.ToLower(login)]; ok {
		u.typ = "Organization"
		return
	}
	s.addUserLocked(login, "Organization", 0)
}

// AddTeam adds a team to an organization (created if needed) and adds members to it.
func (s *Sim) AddTeam(org, slug string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.addUserLocked(org, "Organization", 0)
	key := strings.ToLower(org + "/" + slug)
	t, ok := s.teams[key]
	if !ok {
		t = &team{id: s.nextID(idTeam), org: o, slug: slug, name: slug}
		s.teams[key] = t
	}
	for _, m := range members {
		u := s.userLocked(m)
		if !containsFold(t.members, u.login) {
			t.members = append(t.members, u.login)
		}
	}
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *state) repoLocked(fullName string) *repo {
	r, ok := s.repos[strings.ToLower(fullName)]
	mustf(ok, "unknown repository %q", fullName)
	return r
}

// AddRepo creates a private repository with default branch "main" and one
// initial commit of files (made by the owner).
func (s *Sim) AddRepo(fullName string, files map[string]string) {
	owner, name, ok := strings.Cut(fullName, "/")
	mustf(ok && owner != "" && name != "", "repository name %q is not owner/name", fullName)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, exists := s.repos[strings.ToLower(fullName)]
	mustf(!exists, "repository %q already exists", fullName)
	ou := s.userLocked(owner)
	r := &repo{
		id: s.nextID(idRepo), owner: ou, name: name, private: true, defaultBranch: "main",
		storer: newStorage("main"), createdAt: s.ts(), perms: map[string]string{},
		prs: map[int]*pullRequest{}, protection: map[string]*github.Protection{},
		rules: map[string][]*github.RepositoryRule{}, emails: map[string]string{},
		labelIDs: map[string]int64{}, stats: map[[2]plumbing.Hash]*diffStats{},
	}
	r.pushedAt = r.createdAt
	if ou.typ != "Organization" {
		r.perms[strings.ToLower(ou.login)] = "admin"
	}
	s.repos[strings.ToLower(fullName)] = r
	s.repoOrder = append(s.repoOrder, r)
	if files == nil {
		files = map[string]string{"README.md": "# " + name + "\n"}
	}
	id := Identity{Name: ou.login, Email: ou.login + "@users.noreply.github.com", Login: ou.login}
	s.gitMu.Lock()
	h, err := writeCommit(r.storer, plumbing.ZeroHash, CommitSpec{Author: id, Message: "Initial commit", Files: files}, s.ts())
	if err == nil {
		err = r.storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), h))
	}
	s.gitMu.Unlock()
	mustf(err == nil, "initial commit of %s: %v", fullName, err)
	r.emails[strings.ToLower(id.Email)] = ou.login
}

// SetRepoPrivate makes a repository private (the default) or public.
func (s *Sim) SetRepoPrivate(fullName string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repoLocked(fullName).private = private
}

// SetPermission sets login's permission on a repository: admin|maintain|write|triage|read ("" or none removes it).
func (s *Sim) SetPermission(fullName, login, perm string) {
	switch perm {
	case "admin", "maintain", "write", "triage", "read", "none", "":
	default:
		mustf(false, "unknown permission %q", perm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	u := s.userLocked(login)
	if perm == "" || perm == "none" {
		delete(r.perms, strings.ToLower(u.login))
		return
	}
	r.perms[strings.ToLower(u.login)] = perm
}

// Install installs the app on an account for the given repositories (none
// means all of the account's repositories, present and future), returns the
// installation id and emits installation.created.
func (s *Sim) Install(account string, repos ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc := s.userLocked(account)
	in := &installation{id: s.nextID(idInstallation), account: acc, all: len(repos) == 0, createdAt: s.ts()}
	for _, fn := range repos {
		r := s.repoLocked(fn)
		mustf(strings.EqualFold(r.owner.login, acc.login), "repository %s does not belong to %s", fn, account)
		in.repos = append(in.repos, r)
	}
	s.insts[in.id] = in
	s.instOrder = append(s.instOrder, in)
	p := obj{
		"action":       "created",
		"installation": s.installationObj(in),
		"repositories": s.shortRepos(s.instRepos(in)),
		"sender":       s.userObj(acc),
	}
	s.emitLocked("installation", "created", in, nil, p)
	return in.id
}

// AddInstallationRepos adds repositories to a "selected" installation and emits installation_repositories.added.
func (s *Sim) AddInstallationRepos(id int64, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.insts[id]
	mustf(ok, "unknown installation %d", id)
	var added []*repo
	for _, fn := range repos {
		r := s.repoLocked(fn)
		if in.covers(r) {
			continue
		}
		in.repos = append(in.repos, r)
		added = append(added, r)
	}
	sel := "selected"
	if in.all {
		sel = "all"
	}
	p := obj{
		"action":               "added",
		"installation":         s.installationObj(in),
		"repository_selection": sel,
		"repositories_added":   s.shortRepos(added),
		"repositories_removed": []obj{},
		"requester":            nil,
		"sender":               s.userObj(in.account),
	}
	s.emitLocked("installation_repositories", "added", in, nil, p)
}

func (s *state) instRepos(in *installation) []*repo {
	if !in.all {
		return in.repos
	}
	var out []*repo
	for _, r := range s.repoOrder {
		if in.covers(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s *state) shortRepos(rs []*repo) []obj {
	out := []obj{}
	for _, r := range rs {
		out = append(out, obj{"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.name, "full_name": r.fullName(), "private": r.private})
	}
	return out
}

// installationFor returns the installation covering a repository, if any.
func (s *state) installationFor(r *repo) *installation {
	for _, in := range s.instOrder {
		if in.covers(r) {
			return in
		}
	}
	return nil
}

// SetBranchProtection sets (or, with nil, removes) a branch's protection.
func (s *Sim) SetBranchProtection(fullName, branch string, p *github.Protection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	if p == nil {
		delete(r.protection, branch)
		return
	}
	r.protection[branch] = p
}

// SetRules sets the repository rules that apply to a branch (GET /repos/{owner}/{repo}/rules/branches/{branch}).
func (s *Sim) SetRules(fullName, branch string, rules []*github.RepositoryRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repoLocked(fullName).rules[branch] = rules
}

// NewManifestCode registers a one-time code for POST /app-manifests/{code}/conversions.
func (s *Sim) NewManifestCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randomHex(10)
	s.manifestCodes[code] = true
	return code
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
