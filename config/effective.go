package config

import "slices"

// Effective returns a copy of the policy with every default filled in and
// "all" expanded to the preset names, and the presets protected whatever the
// file says (the policy file; CODEOWNERS when code owners approve) added, as
// `countersign config print` shows it. Lists are never nil in the copy. The copy is a new policy with its own
// cache.
func (p *Policy) Effective() *Policy {
	e := &Policy{Source: p.Source}

	a := p.Agents
	e.Agents = Agents{
		Builtin:    boolPtr(a.BuiltinEnabled()),
		Disable:    cloneList(a.Disable),
		Custom:     make([]AgentDef, len(a.Custom)),
		Automation: make([]BotDef, len(a.Automation)),
		Disclosure: Disclosure{Builtin: boolPtr(a.Disclosure.BuiltinEnabled()),
			Lines: cloneList(a.Disclosure.Lines), Checkboxes: cloneList(a.Disclosure.Checkboxes)},
	}
	for i, c := range a.Custom {
		e.Agents.Custom[i] = AgentDef{
			ID: c.ID, Name: c.DisplayName(),
			Logins: cloneList(c.Logins), Emails: cloneList(c.Emails), Trailers: cloneList(c.Trailers),
			Branches: cloneList(c.Branches), Markers: cloneList(c.Markers),
		}
	}
	for i, b := range a.Automation {
		e.Agents.Automation[i] = BotDef{ID: b.ID, Logins: cloneList(b.Logins), Emails: cloneList(b.Emails)}
	}

	e.Review = Review{
		Agent:        Requirement{Approvals: intPtr(p.Review.AgentApprovals()), Approvers: p.Review.Agent.Approvers.effective()},
		Human:        Requirement{Approvals: intPtr(p.Review.HumanApprovals()), Approvers: p.Review.Human.Approvers.effective()},
		DismissStale: boolPtr(p.Review.DismissStaleApprovals()),
	}

	e.ProtectedPaths = ProtectedPaths{
		Presets: append(p.ProtectedPaths.EnabledPresets(), p.AlwaysPresets()...),
		Rules:   make([]PathRule, len(p.ProtectedPaths.Rules)),
	}
	for i, r := range p.ProtectedPaths.Rules {
		e.ProtectedPaths.Rules[i] = PathRule{
			Name:              r.Name,
			Presets:           cloneList(r.Presets),
			Paths:             cloneList(r.Paths),
			Ignore:            cloneList(r.Ignore),
			AppliesTo:         r.Scope(),
			Approvals:         intPtr(r.NeededApprovals()),
			DeletionApprovals: intPtr(r.ExtraDeletionApprovals()),
			Approvers:         r.Approvers.effective(),
		}
	}

	e.Commands = Commands{Approve: boolPtr(p.Commands.ApproveEnabled())}
	e.Overrides = Overrides{Teams: cloneList(p.Overrides.Teams), Users: cloneList(p.Overrides.Users)}
	e.Landing = Landing{Branches: cloneList(p.Landing.Branches), Alert: p.Landing.AlertMode()}
	e.Deployments = Deployments{Environments: cloneList(p.Deployments.Environments)}
	return e
}

func (a Approvers) effective() Approvers {
	return Approvers{
		Teams:      cloneList(a.Teams),
		Users:      cloneList(a.Users),
		CodeOwners: a.CodeOwners,
		Permission: a.MinPermission(),
	}
}

// cloneList copies s, returning an empty list rather than nil.
func cloneList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func boolPtr(b bool) *bool { return &b }
func intPtr(i int) *int    { return &i }
