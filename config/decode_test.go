package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// parseErrors parses src and returns its errors; it fails the test when src
// parses.
func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	p, err := Parse("countersign.yml", []byte(src))
	if err == nil {
		t.Fatalf("Parse accepted:\n%s\nas %+v", src, p)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error is %T, want Errors: %v", err, err)
	}
	if p != nil {
		t.Errorf("Parse returned a policy with its error")
	}
	return es
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		path      string
		msg       string // a substring of the message
	}{
		// An explicit empty list or approvers/overrides mapping is an error:
		// read as unset, it would lift the restriction it meant to state.
		{"null teams", "protected_paths:\n  rules:\n    - name: x\n      paths: [x/]\n      approvers:\n        teams:\n", 6, 15, "protected_paths.rules[0].approvers.teams", `empty value for "teams"; remove the key or give a list`},
		{"tilde teams", "review:\n  agent:\n    approvers:\n      teams: ~\n", 4, 14, "review.agent.approvers.teams", `empty value for "teams"`},
		{"tilde users", "overrides:\n  users: ~\n", 2, 10, "overrides.users", `empty value for "users"`},
		{"null approvers", "review:\n  agent:\n    approvers: ~\n", 3, 16, "review.agent.approvers", `empty value for "approvers"; remove the key or give a mapping`},
		{"null overrides", "overrides:\n", 1, 11, "overrides", `empty value for "overrides"`},
		{"null presets", "protected_paths:\n  presets: ~\n", 2, 12, "protected_paths.presets", `empty value for "presets"; remove the key or give a list`},
		{"null list item", "overrides:\n  teams: [acme/sre, ~]\n", 2, 21, "overrides.teams[1]", `empty list item; remove it or give a string`},
		{"unknown key suggests", "review:\n  agnet:\n    approvals: 2\n", 2, 3, "review.agnet", `unknown key "agnet"; did you mean "agent"?`},
		{"unknown key lists keys", "settings: 2\n", 1, 1, "settings", `known keys here are agents, review, protected_paths, commands, overrides, landing, deployments`},
		{"unknown top-level typo", "protected-paths: {}\n", 1, 1, "protected-paths", `did you mean "protected_paths"?`},
		{"wrong type int", "review:\n  agent:\n    approvals: two\n", 3, 16, "review.agent.approvals", `expected a whole number, got the text "two"`},
		{"wrong type float", "review:\n  agent:\n    approvals: 1.5\n", 3, 16, "review.agent.approvals", `expected a whole number, got the number 1.5`},
		{"wrong type bool", "commands:\n  approve: yes\n", 2, 12, "commands.approve", `expected true or false, got the text "yes"`},
		{"wrong type string", "protected_paths:\n  rules:\n    - name: 42\n      paths: [a]\n", 3, 13, "protected_paths.rules[0].name", `expected a string, got the number 42`},
		{"wrong type list", "overrides:\n  users: alice\n", 2, 10, "overrides.users", `expected a list of strings, got the text "alice"; write ["alice"]`},
		{"wrong type mapping", "review: 2\n", 1, 9, "review", `expected a mapping of keys (agent, human, dismiss_stale), got the number 2`},
		{"wrong type list of mappings", "protected_paths:\n  rules: infra\n", 2, 10, "protected_paths.rules", `expected a list of mappings`},
		{"duplicate key", "review:\n  dismiss_stale: true\n  dismiss_stale: false\n", 3, 3, "review.dismiss_stale", `duplicate key "dismiss_stale" (first set on line 2)`},
		{"landing alert", "landing:\n  alert: email\n", 2, 10, "landing.alert", `unknown alert "email"; use "issue" or "none"`},
		{"landing ref glob", "landing:\n  branches: [refs/heads/main]\n", 2, 14, "landing.branches[0]", `names a ref; write the branch name alone, such as "main"`},
		{"landing bad glob", "landing:\n  branches: [\"release/[1\"]\n", 2, 14, "landing.branches[0]", `invalid branch glob "release/[1"`},
		{"landing unknown key", "landing:\n  branch: [main]\n", 2, 3, "landing.branch", `did you mean "branches"?`},
		{"deployments bad glob", "deployments:\n  environments: [\"\"]\n", 2, 18, "deployments.environments[0]", `empty environment glob`},
		{"bad glob", "protected_paths:\n  rules:\n    - name: infra\n      paths: [\"infra/[a\"]\n", 4, 15, "protected_paths.rules[0].paths[0]", `invalid glob "infra/[a"`},
		{"bad ignore glob", "protected_paths:\n  rules:\n    - name: infra\n      paths: [infra/]\n      ignore: [\"{a,b\"]\n", 5, 16, "protected_paths.rules[0].ignore[0]", `invalid glob "{a,b"`},
		{"glob with ./", "protected_paths:\n  rules:\n    - name: infra\n      paths: [./infra/]\n", 4, 15, "protected_paths.rules[0].paths[0]", `write "infra/"`},
		{"empty glob", "protected_paths:\n  rules:\n    - name: infra\n      paths: [\"\"]\n", 4, 15, "protected_paths.rules[0].paths[0]", `empty glob`},
		{"unknown preset", "protected_paths:\n  presets: [terraform, k8s]\n", 2, 24, "protected_paths.presets[1]", `unknown preset "k8s" (did you mean "kubernetes"?); presets are terraform, kubernetes,`},
		{"unknown preset suggests", "protected_paths:\n  presets: [terraforms]\n", 2, 13, "protected_paths.presets[0]", `(did you mean "terraform"?)`},
		{"unknown preset lists", "protected_paths:\n  presets: [everything]\n", 2, 13, "protected_paths.presets[0]", `unknown preset "everything"; presets are terraform,`},
		{"unknown rule preset", "protected_paths:\n  rules:\n    - name: x\n      presets: [github_actions]\n", 4, 17, "protected_paths.rules[0].presets[0]", `did you mean "github-actions"?`},
		{"bad permission", "review:\n  agent:\n    approvers:\n      permission: push\n", 4, 19, "review.agent.approvers.permission", `unknown permission "push"; use one of read, triage, write, maintain, admin`},
		{"bad applies_to", "protected_paths:\n  rules:\n    - name: x\n      paths: [x/]\n      applies_to: bots\n", 5, 19, "protected_paths.rules[0].applies_to", `unknown value "bots"; use "all"`},
		{"team without org", "protected_paths:\n  rules:\n    - name: x\n      paths: [x/]\n      approvers:\n        teams: [platform]\n", 6, 17, "protected_paths.rules[0].approvers.teams[0]", `"platform" is not a team; write it as org/team-slug`},
		{"team with @", "overrides:\n  teams: [\"@acme/sre\"]\n", 2, 11, "overrides.teams[0]", `is not a team`},
		{"bad login", "overrides:\n  users: [\"@alice\"]\n", 2, 11, "overrides.users[0]", `"@alice" is not a GitHub login`},
		{"login too long", "review:\n  human:\n    approvers:\n      users: [" + strings.Repeat("a", 40) + "]\n", 4, 15, "review.human.approvers.users[0]", `is not a GitHub login`},
		{"negative approvals", "review:\n  human:\n    approvals: -1\n", 3, 16, "review.human.approvals", `must be 0 or more, got -1`},
		{"negative rule approvals", "protected_paths:\n  rules:\n    - name: x\n      paths: [x/]\n      approvals: -2\n", 5, 18, "protected_paths.rules[0].approvals", `must be 0 or more, got -2`},
		{"negative deletion approvals", "protected_paths:\n  rules:\n    - name: x\n      paths: [x/]\n      deletion_approvals: -1\n", 5, 27, "protected_paths.rules[0].deletion_approvals", `must be 0 or more`},
		{"duplicate rule name", "protected_paths:\n  rules:\n    - name: infra\n      paths: [a/]\n    - name: infra\n      paths: [b/]\n", 5, 13, "protected_paths.rules[1].name", `duplicate rule name "infra" (also protected_paths.rules[0])`},
		{"rule named like an enabled preset", "protected_paths:\n  rules:\n    - name: terraform\n      paths: [tf/]\n", 3, 13, "protected_paths.rules[0].name", `taken by the terraform preset`},
		{"rule without name", "protected_paths:\n  rules:\n    - paths: [a/]\n", 3, 7, "protected_paths.rules[0].name", `every rule needs a name`},
		{"rule protects nothing", "protected_paths:\n  rules:\n    - name: infra\n      approvals: 2\n", 3, 7, "protected_paths.rules[0]", `rule "infra" protects nothing; give paths, presets or both`},
		{"agent id format", "agents:\n  custom:\n    - id: Acme Agent\n      logins: [acme-bot]\n", 3, 11, "agents.custom[0].id", `id "Acme Agent" must be lower-case`},
		{"agent id missing", "agents:\n  custom:\n    - logins: [acme-bot]\n", 3, 7, "agents.custom[0]", `missing id`},
		{"agent id duplicate", "agents:\n  custom:\n    - id: acme\n      logins: [acme-bot]\n  automation:\n    - id: acme\n      logins: [acme-release]\n", 6, 11, "agents.automation[0].id", `id "acme" is already used by agents.custom[0]`},
		{"agent regex", "agents:\n  custom:\n    - id: acme\n      trailers: [\"Generated-by: (acme\"]\n", 4, 18, "agents.custom[0].trailers[0]", `invalid regular expression "Generated-by: (acme": missing closing )`},
		{"agent branch regex", "agents:\n  custom:\n    - id: acme\n      branches: [\"acme/*[\"]\n", 4, 18, "agents.custom[0].branches[0]", `invalid regular expression`},
		{"agent no fingerprint", "agents:\n  custom:\n    - id: acme\n      name: Acme\n", 3, 7, "agents.custom[0]", `agent "acme" has no fingerprint`},
		{"agent bad email", "agents:\n  custom:\n    - id: acme\n      emails: [acme.example.com]\n", 4, 16, "agents.custom[0].emails[0]", `is not an address`},
		{"agent multi-line marker", "agents:\n  custom:\n    - id: acme\n      markers: [\"a\\nb\"]\n", 4, 17, "agents.custom[0].markers[0]", `one non-empty line`},
		{"automation no fingerprint", "agents:\n  automation:\n    - id: release-robot\n", 3, 7, "agents.automation[0]", `automation bot "release-robot" has no fingerprint`},
		{"unknown disabled agent", "agents:\n  disable: [no-such-agent]\n", 2, 13, "agents.disable[0]", `"no-such-agent" is not a built-in agent`},
		{"disabled agent suggests", "agents:\n  disable: [aider, claude]\n", 2, 20, "agents.disable[1]", `"claude" is not a built-in agent; did you mean "claude-code"?`},
		{"custom agent reuses a built-in id", "agents:\n  custom:\n    - id: aider\n      logins: [acme-bot]\n", 3, 11, "agents.custom[0].id", `"aider" is the id of a built-in agent`},
		{"disclosure bad line regex", "agents:\n  disclosure:\n    lines: [\"^AI used: (yes\"]\n", 3, 13, "agents.disclosure.lines[0]", `invalid regular expression "^AI used: (yes": missing closing )`},
		{"disclosure bad checkbox regex", "agents:\n  disclosure:\n    checkboxes: [\"[AI\"]\n", 3, 18, "agents.disclosure.checkboxes[0]", `invalid regular expression`},
		{"disclosure unknown key", "agents:\n  disclosure:\n    checkbox: [AI]\n", 3, 5, "agents.disclosure.checkbox", `did you mean "checkboxes"?`},
		{"disclosure builtin not a bool", "agents:\n  disclosure:\n    builtin: no\n", 3, 14, "agents.disclosure.builtin", `expected true or false`},
		{"not a mapping", "- review\n", 1, 1, "", `must be a mapping of keys`},
		{"two documents", "review: {}\n---\nagents: {}\n", 2, 1, "", `more than one YAML document`},
		{"alias", "review:\n  agent: &req\n    approvals: 2\n  human: *req\n", 4, 10, "review.human", `YAML aliases (*req) are not supported`},
		{"merge key", "review:\n  agent:\n    <<: {approvals: 2}\n", 3, 5, "review.agent.<<", `merge keys (<<) are not supported`},
		{"unquoted star glob", "protected_paths:\n  rules:\n    - name: tf\n      paths:\n        - *.tf\n", 5, 0, "", `quote globs, as in "*.tf"`},
		{"syntax error", "review:\n  agent:\n approvals: 1\n", 2, 0, "", `invalid YAML:`},
		{"tab indentation", "review:\n\tagent: {}\n", 2, 0, "", `indent with spaces, not tabs`},
		{"non-scalar key", "review:\n  [a]: 1\n", 2, 3, "review", `a key must be plain text`},
		{"too large", "#" + strings.Repeat(" ", MaxFileSize), 0, 0, "", `a policy file may be at most`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := parseErrors(t, tt.src)
			for _, e := range es {
				if e.File == "countersign.yml" && e.Line == tt.line && e.Column == tt.col && e.Path == tt.path && strings.Contains(e.Message, tt.msg) {
					return
				}
			}
			t.Errorf("want countersign.yml:%d:%d: %s: …%s…\ngot:\n%v", tt.line, tt.col, tt.path, tt.msg, es)
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	src := `review:
  agent:
    approvals: -1
    approvers:
      permission: writer
protected_paths:
  presets: [terraform, nope]
  rules:
    - name: infra
      paths: ["[x"]
      applies_to: everyone
overrides:
  userz: [alice]
`
	es := parseErrors(t, src)
	want := []string{
		"countersign.yml:3:16: review.agent.approvals: must be 0 or more, got -1",
		"countersign.yml:5:19: review.agent.approvers.permission: unknown permission",
		"countersign.yml:7:24: protected_paths.presets[1]: unknown preset \"nope\"",
		"countersign.yml:10:15: protected_paths.rules[0].paths[0]: invalid glob",
		"countersign.yml:11:19: protected_paths.rules[0].applies_to: unknown value",
		"countersign.yml:13:3: overrides.userz: unknown key \"userz\"; did you mean \"users\"?",
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(es), len(want), es)
	}
	for i, w := range want {
		if !strings.HasPrefix(es[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, es[i].Error(), w)
		}
	}
	if lines := strings.Split(es.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Errors.Error() has %d lines, want one per error", len(lines))
	}
	var one *Error
	if !errors.As(error(es), &one) || one != es[0] {
		t.Errorf("errors.As does not find the first *Error")
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yml", Line: 3, Column: 5, Path: "review.agent", Message: "bad"}, "f.yml:3:5: review.agent: bad"},
		{Error{File: "f.yml", Line: 3, Message: "bad"}, "f.yml:3: bad"},
		{Error{File: "f.yml", Message: "bad"}, "f.yml: bad"},
		{Error{Message: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, p *Policy)
	}{
		{"empty file", "", func(t *testing.T, p *Policy) {
			if p.Review.AgentApprovals() != 1 || p.ProtectedPaths.Presets != nil {
				t.Errorf("empty file is not the default: %+v", p)
			}
		}},
		{"comments only", "# countersign policy\n\n# nothing yet\n", func(t *testing.T, p *Policy) {
			if p.Review.AgentApprovals() != 1 || ruleCount(p) != len(presets) {
				t.Errorf("comment-only file is not the default")
			}
		}},
		{"document marker only", "---\n", nil},
		{"disclosure patterns", "agents:\n  disclosure:\n    builtin: false\n    lines: ['^Tooling: Claude']\n    checkboxes: ['(?i)robots helped']\n", func(t *testing.T, p *Policy) {
			// checks.TestDisclosurePatternsReachDetection follows them into detection.
			d := p.Agents.Disclosure
			if d.BuiltinEnabled() || len(d.Lines) != 1 || d.Lines[0] != "^Tooling: Claude" || len(d.Checkboxes) != 1 || d.Checkboxes[0] != "(?i)robots helped" {
				t.Errorf("disclosure = %+v", d)
			}
		}},
		{"null scalars are unset", "review:\n  agent:\n    approvals: ~\n  dismiss_stale:\nprotected_paths: ~\n", func(t *testing.T, p *Policy) {
			if p.Review.Agent.Approvals != nil || p.Review.DismissStale != nil || p.ProtectedPaths.Presets != nil {
				t.Errorf("null did not leave the settings unset: %+v", p)
			}
		}},
		{"explicit empty presets", "protected_paths:\n  presets: []\n", func(t *testing.T, p *Policy) {
			if p.ProtectedPaths.Presets == nil || ruleCount(p) != 0 {
				t.Errorf("presets: [] must mean no presets; rules = %d", ruleCount(p))
			}
		}},
		{"full policy", fullPolicy, func(t *testing.T, p *Policy) {
			if p.Source.Path != "countersign.yml" {
				t.Errorf("Source.Path = %q", p.Source.Path)
			}
			if !p.Agents.BuiltinEnabled() || len(p.Agents.Custom) != 1 || p.Agents.Custom[0].Trailers[0] != `^Generated-by: Acme` {
				t.Errorf("agents = %+v", p.Agents)
			}
			if p.Review.AgentApprovals() != 2 || p.Review.Agent.Approvers.MinPermission() != PermissionMaintain || p.Review.DismissStaleApprovals() {
				t.Errorf("review = %+v", p.Review)
			}
			r := p.ProtectedPaths.Rules[0]
			if r.Name != "workflows" || r.Scope() != AppliesToAll || r.NeededApprovals() != 1 || r.ExtraDeletionApprovals() != 1 || r.Approvers.Teams[0] != "acme/security" {
				t.Errorf("rule = %+v", r)
			}
			if !p.Commands.ApproveEnabled() || !p.Overrides.Allowed() {
				t.Errorf("commands/overrides = %+v %+v", p.Commands, p.Overrides)
			}
		}},
		{"integers in other notations", "review:\n  agent:\n    approvals: 0x2\n", func(t *testing.T, p *Policy) {
			if p.Review.AgentApprovals() != 2 {
				t.Errorf("approvals = %d", p.Review.AgentApprovals())
			}
		}},
		{"bot logins", "overrides:\n  users: [\"release-bot[bot]\", Alice-Smith]\n", nil},
		{"built-in agent switched off", "agents:\n  disable: [aider, devin]\n", func(t *testing.T, p *Policy) {
			if got := p.Agents.Disable; len(got) != 2 || got[1] != "devin" {
				t.Errorf("Disable = %v", got)
			}
		}},
		{"all in presets", "protected_paths:\n  presets: [all]\n", func(t *testing.T, p *Policy) {
			if ruleCount(p) != len(presets) {
				t.Errorf("all: %d rules", ruleCount(p))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("countersign.yml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// fullPolicy sets every key of the policy file (testdata/full-policy.yml,
// which checks' tests read too).
var fullPolicy = readTestdata("testdata/full-policy.yml")

func readTestdata(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ruleCount is the number of protected-path rules a policy has: one per
// enabled preset and one per maintainers' rule.
func ruleCount(p *Policy) int {
	return len(p.ProtectedPaths.EnabledPresets()) + len(p.ProtectedPaths.Rules)
}
