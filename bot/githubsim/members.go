package githubsim

import (
	"slices"
	"strings"
)

// Changes of standing: a collaborator's permission, a team's members, an
// organization's members. Each changes the state the REST API answers from
// and emits the webhook GitHub sends for it (member, membership,
// organization), in GitHub's shape. SetPermission and AddTeam seed the same
// state silently.

// legacyPermission is the legacy name of a repository role, as the
// webhooks' "permission" fields and the permission endpoint's
// "permission" give it (maintain folds into write, triage into read).
func legacyPermission(role string) string {
	switch role {
	case "admin":
		return "admin"
	case "maintain", "write":
		return "write"
	case "triage", "read":
		return "read"
	}
	return "none"
}

// SetCollaborator changes login's permission on a repository as an
// administrator (by) does in the repository's settings:
// admin|maintain|write|triage|read, or "" / "none" to remove the
// collaborator. It emits member.added when login had no permission of its
// own before, member.removed when it has none after, and member.edited
// otherwise; nothing when nothing changed.
func (s *Sim) SetCollaborator(fullName, login, perm, by string) {
	switch perm {
	case "admin", "maintain", "write", "triage", "read", "none", "":
	default:
		mustf(false, "unknown permission %q", perm)
	}
	if perm == "" {
		perm = "none"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	u := s.userLocked(login)
	sender := s.userLocked(by)
	k := strings.ToLower(u.login)
	old := r.perms[k]
	if old == "" {
		old = "none"
	}
	if old == perm {
		return
	}
	var action string
	var changes obj
	switch {
	case perm == "none":
		delete(r.perms, k)
		action = "removed"
	case old == "none":
		r.perms[k] = perm
		action = "added"
		changes = obj{"permission": obj{"to": legacyPermission(perm)}}
	default:
		r.perms[k] = perm
		action = "edited"
		changes = obj{"old_permission": obj{"from": legacyPermission(old)}}
	}
	p := obj{"action": action, "member": s.userObj(u)}
	if changes != nil {
		p["changes"] = changes
	}
	s.emitRepoLocked("member", action, r, sender, p)
}

// AddTeamMember adds login to an organization's existing team, as an
// organization owner (by) does, and emits membership.added.
func (s *Sim) AddTeamMember(org, slug, login, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamLocked(org, slug)
	u := s.userLocked(login)
	if containsFold(t.members, u.login) {
		return
	}
	t.members = append(t.members, u.login)
	s.emitMembershipLocked("added", t, u, s.userLocked(by))
}

// RemoveTeamMember removes login from an organization's team, as an
// organization owner (by) does, and emits membership.removed.
func (s *Sim) RemoveTeamMember(org, slug, login, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamLocked(org, slug)
	u := s.userLocked(login)
	if !s.removeFromTeamLocked(t, u) {
		return
	}
	s.emitMembershipLocked("removed", t, u, s.userLocked(by))
}

// RemoveOrgMember removes login from an organization, as an organization
// owner (by) does: login leaves every team of the organization and loses
// every permission on its repositories (the stricter reading: GitHub also
// ends a removed member's access to the organization's private
// repositories). It emits organization.member_removed and, as GitHub does,
// membership.removed for each team left.
func (s *Sim) RemoveOrgMember(org, login, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.userLocked(org)
	mustf(o.typ == "Organization", "%s is not an organization", org)
	u := s.userLocked(login)
	sender := s.userLocked(by)
	for _, k := range sortedKeys(s.teams) {
		if t := s.teams[k]; t.org == o && s.removeFromTeamLocked(t, u) {
			s.emitMembershipLocked("removed", t, u, sender)
		}
	}
	for _, r := range s.repoOrder {
		if r.owner == o {
			delete(r.perms, strings.ToLower(u.login))
		}
	}
	in := s.accountInstallationLocked(o)
	if in == nil {
		return
	}
	u2 := s.api("orgs/%s/memberships/%s", o.login, u.login)
	p := obj{
		"action": "member_removed",
		"membership": obj{
			"url": u2, "state": "active", "role": "member",
			"organization_url": s.api("orgs/%s", o.login), "user": s.userObj(u),
		},
		"organization": s.orgObj(o),
		"sender":       s.userObj(sender),
	}
	s.emitLocked("organization", "member_removed", in, nil, p)
}

// DeleteTeam deletes an organization's team, as an organization owner (by)
// does, and emits team.deleted: its members are no longer members of it,
// and review requests of it are dropped.
func (s *Sim) DeleteTeam(org, slug, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teamLocked(org, slug)
	delete(s.teams, strings.ToLower(org+"/"+slug))
	for _, r := range s.repoOrder {
		for _, p := range r.prs {
			p.reqTeams = slices.DeleteFunc(p.reqTeams, func(x *team) bool { return x == t })
		}
	}
	in := s.accountInstallationLocked(t.org)
	if in == nil {
		return
	}
	p := obj{
		"action":       "deleted",
		"team":         webhookTeam(s.teamObj(t)),
		"organization": s.orgObj(t.org),
		"sender":       s.userObj(s.userLocked(by)),
	}
	s.emitLocked("team", "deleted", in, nil, p)
}

func (s *state) teamLocked(org, slug string) *team {
	t, ok := s.teams[strings.ToLower(org+"/"+slug)]
	mustf(ok, "unknown team %s/%s", org, slug)
	return t
}

// removeFromTeamLocked removes u from t and reports whether u was a member.
func (s *state) removeFromTeamLocked(t *team, u *user) bool {
	i := slices.IndexFunc(t.members, func(m string) bool { return strings.EqualFold(m, u.login) })
	if i < 0 {
		return false
	}
	t.members = slices.Delete(t.members, i, i+1)
	return true
}

// accountInstallationLocked returns the app's installation on an account, if any.
func (s *state) accountInstallationLocked(acc *user) *installation {
	for _, in := range s.instOrder {
		if in.account == acc {
			return in
		}
	}
	return nil
}

// emitMembershipLocked emits membership.<action> for u in t to the app's
// installation on t's organization (GitHub delivers organization events
// only there).
func (s *state) emitMembershipLocked(action string, t *team, u, sender *user) {
	in := s.accountInstallationLocked(t.org)
	if in == nil {
		return
	}
	p := obj{
		"action":       action,
		"scope":        "team",
		"member":       s.userObj(u),
		"team":         webhookTeam(s.teamObj(t)),
		"organization": s.orgObj(t.org),
		"sender":       s.userObj(sender),
	}
	s.emitLocked("membership", action, in, nil, p)
}
