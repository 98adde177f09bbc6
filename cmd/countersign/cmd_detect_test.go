package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Real-shaped GitHub REST objects, trimmed to the fields that matter plus
// some that do not (urls, stats, files), as the API returns them.

const copilotPR = `{
  "url": "https://api.github.com/repos/github/github-mcp-server/pulls/415",
  "id": 2556000001,
  "number": 415,
  "state": "open",
  "draft": true,
  "title": "[WIP] Add issue graph tool",
  "user": {"login": "Copilot", "id": 198982749, "type": "Bot", "html_url": "https://github.com/apps/copilot-swe-agent", "site_admin": false},
  "body": "Adds the tool.\n\n- Fixes github/github-mcp-server#414\n\n<!-- START COPILOT CODING AGENT SUFFIX -->\n\n<!-- START COPILOT CODING AGENT TIPS -->\n---\n\n💡 You can make Copilot smarter by setting up custom instructions, customizing its development environment and configuring Model Context Protocol (MCP) servers. Learn more [Copilot coding agent tips](https://gh.io/copilot-coding-agent-tips) in the docs.",
  "labels": [],
  "head": {"label": "github:copilot/fix-415", "ref": "copilot/fix-415", "sha": "72775123aa"},
  "base": {"label": "github:main", "ref": "main", "sha": "64a49f34d0"},
  "author_association": "CONTRIBUTOR"
}`

const cursorPR = `{
  "number": 6,
  "title": "Expanded view",
  "user": {"login": "alice", "id": 1001, "type": "User"},
  "body": "<!-- CURSOR_AGENT_PR_BODY_BEGIN -->\nExpands the view.\n<!-- CURSOR_AGENT_PR_BODY_END -->",
  "labels": [{"id": 1, "name": "enhancement"}],
  "head": {"ref": "cursor/p1-06-expanded-view-9f65"},
  "base": {"ref": "main"}
}`

const dependabotPR = `{
  "number": 24,
  "title": "Bump lodash from 4.17.20 to 4.17.21",
  "user": {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"},
  "body": "Bumps [lodash](https://github.com/lodash/lodash) from 4.17.20 to 4.17.21.",
  "head": {"ref": "dependabot/npm_and_yarn/lodash-4.17.21"},
  "base": {"ref": "main"}
}`

// copilotCommit is an element of GET /pulls/{n}/commits.
const copilotCommit = `{
  "sha": "eb088dfe0000000000000000000000000000abcd",
  "node_id": "C_kwDO",
  "commit": {
    "author": {"name": "copilot-swe-agent[bot]", "email": "198982749+Copilot@users.noreply.github.com", "date": "2025-06-01T10:00:00Z"},
    "committer": {"name": "copilot-swe-agent[bot]", "email": "198982749+Copilot@users.noreply.github.com", "date": "2025-06-01T10:00:00Z"},
    "message": "Add issue graph tool\n\nCo-authored-by: SamMorrowDrums <4811358+SamMorrowDrums@users.noreply.github.com>",
    "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null}
  },
  "author": {"login": "Copilot", "id": 198982749, "type": "Bot"},
  "committer": {"login": "Copilot", "id": 198982749, "type": "Bot"},
  "parents": [{"sha": "72775123aa"}]
}`

// claudeWebCommit is GET /commits/{sha}, with stats and files.
const claudeWebCommit = `{
  "sha": "961d152e0000000000000000000000000000abcd",
  "commit": {
    "author": {"name": "Claude", "email": "noreply@anthropic.com"},
    "committer": {"name": "Claude", "email": "noreply@anthropic.com"},
    "message": "Update README\n\nClaude-Session: https://claude.ai/code/session_011CTv66HfGaaE3LMmFM9ZtN",
    "verification": {"verified": true, "reason": "valid", "signature": "-----BEGIN SSH SIGNATURE-----\nU1NI\n-----END SSH SIGNATURE-----"}
  },
  "author": null,
  "committer": null,
  "parents": [{"sha": "aaaa"}],
  "stats": {"total": 3, "additions": 2, "deletions": 1},
  "files": [{"filename": "README.md", "status": "modified", "additions": 2, "deletions": 1}]
}`

const humanCommit = `{
  "sha": "1111111111111111111111111111111111111111",
  "commit": {
    "author": {"name": "Claude Shannon", "email": "claude@shannon.org"},
    "committer": {"name": "GitHub", "email": "noreply@github.com"},
    "message": "Information theory notes"
  },
  "author": {"login": "cshannon", "id": 5, "type": "User"},
  "committer": {"login": "web-flow", "id": 19864447, "type": "User"},
  "parents": [{"sha": "p1"}]
}`

// line is one decoded output line.
type line struct {
	Type       string           `json:"type"`
	Number     *int             `json:"number"`
	SHA        *string          `json:"sha"`
	Class      string           `json:"class"`
	Agent      *string          `json:"agent"`
	AgentName  *string          `json:"agent_name"`
	Automation *string          `json:"automation"`
	Signals    []map[string]any `json:"signals"`
	Operator   map[string]any   `json:"operator"`
}

func runDetectIn(t *testing.T, stdin string, args ...string) (int, []line, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"detect"}, args...), streams{in: strings.NewReader(stdin), out: &out, err: &errb})
	var lines []line
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		// Every key must be present, nulls included.
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &keys); err != nil {
			t.Fatalf("output line %q is not JSON: %v", l, err)
		}
		for _, k := range []string{"type", "class", "agent", "agent_name", "automation", "signals", "operator"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("output line %q lacks %q", l, k)
			}
		}
		var ln line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, ln)
	}
	return code, lines, errb.String()
}

func TestDetectObjects(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		typ, class string
		agent      string
		automation string
		opLogin    string
		id         string // number or sha
	}{
		{"copilot-pr", copilotPR, "pull_request", "agent", "copilot", "", "", "415"},
		{"cursor-pr-under-human", cursorPR, "pull_request", "agent", "cursor", "", "alice", "6"},
		{"dependabot-pr", dependabotPR, "pull_request", "automation", "", "dependabot", "", "24"},
		{"copilot-commit-element", copilotCommit, "commit", "agent", "copilot", "", "SamMorrowDrums", "eb088dfe0000000000000000000000000000abcd"},
		{"claude-web-commit-with-files", claudeWebCommit, "commit", "agent", "claude-code", "", "", "961d152e0000000000000000000000000000abcd"},
		{"human-named-claude", humanCommit, "commit", "human", "", "", "", "1111111111111111111111111111111111111111"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, lines, stderr := runDetectIn(t, tc.in)
			if code != exitOK || len(lines) != 1 {
				t.Fatalf("exit %d, %d lines, stderr %q", code, len(lines), stderr)
			}
			l := lines[0]
			if l.Type != tc.typ || l.Class != tc.class {
				t.Errorf("type/class = %s/%s, want %s/%s", l.Type, l.Class, tc.typ, tc.class)
			}
			id := ""
			if l.Number != nil {
				id = itoa(*l.Number)
			}
			if l.SHA != nil {
				id = *l.SHA
			}
			if id != tc.id || (l.Number != nil) == (l.SHA != nil) {
				t.Errorf("number/sha = %v/%v, want %s", l.Number, l.SHA, tc.id)
			}
			if got := deref(l.Agent); got != tc.agent {
				t.Errorf("agent = %q, want %q", got, tc.agent)
			}
			if (l.AgentName != nil) != (tc.agent != "") {
				t.Errorf("agent_name = %v with agent %q", l.AgentName, tc.agent)
			}
			if got := deref(l.Automation); got != tc.automation {
				t.Errorf("automation = %q, want %q", got, tc.automation)
			}
			if tc.opLogin != "" && (l.Operator == nil || l.Operator["login"] != tc.opLogin) {
				t.Errorf("operator = %v, want login %s", l.Operator, tc.opLogin)
			}
			if tc.class == "human" && (len(l.Signals) != 0 || l.Operator != nil || l.Signals == nil) {
				t.Errorf("human verdict with signals %v (want []) or operator %v", l.Signals, l.Operator)
			}
			if tc.class == "agent" && len(l.Signals) == 0 {
				t.Errorf("agent verdict without signals")
			}
		})
	}
}

func TestDetectArrays(t *testing.T) {
	// A mixed array, then a second array as 'gh api --paginate' concatenates pages.
	in := "[" + copilotPR + "," + copilotCommit + "]\n[" + humanCommit + "," + dependabotPR + "]\n"
	code, lines, stderr := runDetectIn(t, in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Type+":"+l.Class)
	}
	want := "pull_request:agent commit:agent commit:human pull_request:automation"
	if strings.Join(got, " ") != want {
		t.Fatalf("lines = %v, want %s", got, want)
	}
	if code, lines, _ := runDetectIn(t, "[]"); code != exitOK || len(lines) != 0 {
		t.Errorf("empty array: exit %d, %d lines", code, len(lines))
	}
}

func TestDetectBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		args     []string
		msg      string
	}{
		{"element-3-neither", "[" + copilotPR + "," + copilotCommit + "," + humanCommit + `,{"id":1,"title":"an issue","user":{"login":"x"}}]`, nil,
			"stdin: element 3: neither a pull request nor a commit"},
		{"index-counts-across-arrays", "[" + copilotPR + "]\n[" + humanCommit + ",42]", nil, "stdin: element 2: not a JSON object (a number)"},
		{"empty-stdin", "", nil, "stdin: no input"},
		{"invalid-json", `[{"number": 1,`, nil, "stdin: element 0: invalid JSON"},
		{"garbage-after-value", copilotPR + " }", nil, "stdin: element 1: invalid JSON"},
		{"number-wrong-type", `{"number":"415","head":{"ref":"x"},"user":{"login":"a"}}`, nil, "stdin: element 0: pull request: field number: string where int is expected"},
		{"pr-without-user", `{"number":7,"head":{"ref":"x"}}`, nil, "stdin: element 0: pull request #7: no user.login"},
		{"pr-number-zero", `{"number":0,"head":{},"user":{"login":"a"}}`, nil, "positive integer"},
		{"commit-without-author", `{"sha":"abc","commit":{"message":"x"}}`, nil, "stdin: element 0: commit abc: no commit.author or commit.committer"},
		{"commit-null", `{"sha":"abc","commit":null}`, nil, "stdin: element 0: commit abc: no commit object"},
		{"string-element", `["x"]`, nil, "element 0: not a JSON object (a string)"},
		{"positional-argument", copilotPR, []string{"pr.json"}, `unexpected argument "pr.json"`},
		{"unknown-flag", copilotPR, []string{"--nope"}, "flag provided but not defined"},
		{"missing-config", copilotPR, []string{"--config", filepath.Join(t.TempDir(), "nope.yml")}, "nope.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"detect"}, tc.args...), streams{in: strings.NewReader(tc.in), out: &out, err: &errb})
			if code != exitError {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitError, errb.String())
			}
			if out.Len() != 0 {
				t.Errorf("printed %q despite the error", out.String())
			}
			if !strings.Contains(errb.String(), tc.msg) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.msg)
			}
		})
	}
}

func TestDetectHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"detect", "-h"}, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "--config") && !strings.Contains(errb.String(), "-config") {
		t.Errorf("help lacks the --config flag: %q", errb.String())
	}
}

func TestDetectConfig(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "countersign.yml")
	if err := os.WriteFile(policy, []byte(`agents:
  disable: [cursor]
  custom:
    - id: acme-agent
      name: Acme Agent
      emails: ["*@agents.acme.example"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	acme := `{"sha":"abc","commit":{"author":{"name":"Acme","email":"run-7@agents.acme.example"},"committer":{"name":"Acme","email":"run-7@agents.acme.example"},"message":"x"}}`
	code, lines, stderr := runDetectIn(t, "["+acme+","+cursorPR+"]", "--config", policy)
	if code != exitOK || len(lines) != 2 {
		t.Fatalf("exit %d, %d lines, stderr %q", code, len(lines), stderr)
	}
	if deref(lines[0].Agent) != "acme-agent" || deref(lines[0].AgentName) != "Acme Agent" {
		t.Errorf("custom agent not detected: %+v", lines[0])
	}
	if lines[1].Class != "human" {
		t.Errorf("disabled cursor still detected: %+v", lines[1])
	}
	// Without the policy, the same input uses the built-in catalogue.
	_, lines, _ = runDetectIn(t, "["+acme+","+cursorPR+"]")
	if lines[0].Class != "human" || deref(lines[1].Agent) != "cursor" {
		t.Errorf("built-in catalogue: %+v", lines)
	}

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("agents:\n  disable: [no-such-agent]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"detect", "--config", bad}, streams{in: strings.NewReader(copilotPR), out: &out, err: &errb}); code != exitError || out.Len() != 0 {
		t.Fatalf("bad policy: exit %d, stdout %q", code, out.String())
	}
	if !strings.Contains(errb.String(), "bad.yml") || !strings.Contains(errb.String(), "no-such-agent") {
		t.Errorf("stderr %q does not name the file and the id", errb.String())
	}
}

// FuzzDetectInput feeds arbitrary bytes to 'countersign detect': it never
// panics, exits 0 with one well-formed JSON line per object or 2 with a
// message and no output.
func FuzzDetectInput(f *testing.F) {
	for _, s := range []string{copilotPR, cursorPR, dependabotPR, copilotCommit, claudeWebCommit, humanCommit,
		"[" + copilotPR + "," + humanCommit + "]", "[][]", "", "null", "[1]", `{"number":1,"head":null,"user":{"login":"a"}}`,
		`{"sha":"a","commit":{"author":{},"committer":{}}}`, `{"sha":"a","commit":{"author":{"email":"x"},"committer":{}},"parents":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"detect"}, streams{in: bytes.NewReader(in), out: &out, err: &errb})
		switch code {
		case exitOK:
			for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				if l == "" {
					continue
				}
				var r struct {
					Type  string `json:"type"`
					Class string `json:"class"`
				}
				if err := json.Unmarshal([]byte(l), &r); err != nil || (r.Type != "pull_request" && r.Type != "commit") || r.Class == "" {
					t.Fatalf("bad output line %q (%v)", l, err)
				}
			}
		case exitError:
			if out.Len() != 0 || errb.Len() == 0 {
				t.Fatalf("exit 2 with stdout %q, stderr %q", out.String(), errb.String())
			}
		default:
			t.Fatalf("exit %d", code)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
