package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/config"
)

// runCmd runs the binary in-process and returns the exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// checkJSON runs check --format json and decodes the verdict.
func checkJSON(t *testing.T, args ...string) (int, map[string]any, string) {
	t.Helper()
	code, out, errs := runCmd(t, append(append([]string{"check"}, args...), "--format", "json")...)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("check JSON (exit %d, stderr %q): %v\n%s", code, errs, err, out)
	}
	return code, v, errs
}

// baseRepo is main with a README, some code and Terraform under infra/,
// checked out on branch (created from main).
func baseRepo(t *testing.T, files map[string]string) *gt.Repo {
	g := gt.New(t)
	w := map[string]string{"README.md": "hello\n", "src/app.go": "package app\n", "infra/main.tf": "resource \"a\" \"b\" {}\n"}
	for k, v := range files {
		w[k] = v
	}
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "initial\n", Change: gt.Change{Write: w}})
	return g
}

func TestCheckHumanChangeNeedsNothing(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("fix", "main", gt.Commit{Author: gt.Bob, Message: "Fix the app\n", Change: gt.Change{Write: map[string]string{"src/app.go": "package app\n\n// fixed\n"}}})
	g.Checkout("fix")
	code, out, errs := runCmd(t, "check", "--repo", g.Dir)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "success") || !strings.Contains(out, "fix (") || !strings.Contains(out, "1 commit, 1 changed file") {
		t.Errorf("output:\n%s", out)
	}
}

func TestCheckAgentCommitsNeedAnApproval(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("claude/feature", "main", gt.Commit{Author: gt.Alice, Message: gt.Msg("Add a feature", gt.ClaudeTrailer),
		Change: gt.Change{Write: map[string]string{"src/feature.go": "package app\n"}}})
	g.Commit("claude/feature", "", gt.Commit{Author: gt.Copilot, Committer: gt.Bob, Message: "Polish\n",
		Change: gt.Change{Write: map[string]string{"src/feature.go": "package app\n\n// polished\n"}}})
	g.Commit("claude/feature", "", gt.Commit{Author: gt.Bob, Message: "Docs\n", Change: gt.Change{Write: map[string]string{"README.md": "hello again\n"}}})
	g.Checkout("claude/feature")

	code, v, errs := checkJSON(t, "--repo", g.Dir, "--base", "main")
	if code != exitRequired {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, errs)
	}
	if v["conclusion"] != "action_required" || v["agent_authored"] != true {
		t.Errorf("conclusion %v, agent_authored %v", v["conclusion"], v["agent_authored"])
	}
	if agents := asStrings(v["agents"]); strings.Join(agents, ",") != "claude-code,copilot" {
		t.Errorf("agents = %v", agents)
	}
	commits, _ := v["commits"].([]any)
	if len(commits) != 3 {
		t.Fatalf("commits = %v", v["commits"])
	}
	wantAgents := []any{"claude-code", "copilot", nil}
	for i, c := range commits {
		c := c.(map[string]any)
		for _, key := range []string{"sha", "agent", "automation", "signals", "operator"} {
			if _, ok := c[key]; !ok {
				t.Errorf("commit %d has no %q: %v", i, key, c)
			}
		}
		if c["agent"] != wantAgents[i] {
			t.Errorf("commit %d agent = %v, want %v", i, c["agent"], wantAgents[i])
		}
		if i < 2 && len(c["signals"].([]any)) == 0 {
			t.Errorf("agent commit %d has no signals", i)
		}
	}
	if op, _ := commits[0].(map[string]any)["operator"].(map[string]any); op == nil || op["email"] != gt.Alice.Email {
		t.Errorf("the Claude commit's operator = %v, want Alice, who delegated it", commits[0].(map[string]any)["operator"])
	}
	reqs, _ := v["requirements"].([]any)
	found := false
	for _, r := range reqs {
		r := r.(map[string]any)
		if r["name"] == "agent-review" && r["met"] == false && r["needed"].(float64) >= 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no unmet agent-review requirement in %v", reqs)
	}
	for _, key := range []string{"protected_files", "requirements", "policy"} {
		if _, ok := v[key]; !ok {
			t.Errorf("verdict JSON has no %q", key)
		}
	}
}

func TestCheckRenameOutOfAProtectedPathNeedsTheOwner(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("retire", "main", gt.Commit{Author: gt.Bob, Message: "Retire terraform\n",
		Change: gt.Change{Rename: map[string]string{"infra/main.tf": "old/main.txt"}}})
	code, v, _ := checkJSON(t, "--repo", g.Dir, "--base", "main", "--head", "retire")
	if code != exitRequired {
		t.Fatalf("exit %d, want 1: %v", code, v)
	}
	pf, _ := v["protected_files"].([]any)
	if len(pf) != 1 {
		t.Fatalf("protected_files = %v", v["protected_files"])
	}
	f := pf[0].(map[string]any)
	if f["path"] != "old/main.txt" || f["previous_path"] != "infra/main.tf" || f["rule"] != "terraform" || f["status"] != "renamed" {
		t.Errorf("protected file = %v", f)
	}
	if v["agent_authored"] != false {
		t.Errorf("a human rename is agent-authored: %v", v["agent_authored"])
	}
}

func TestCheckDeletionOfAProtectedFile(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("rm", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Delete: []string{"infra/main.tf"}}})
	code, v, _ := checkJSON(t, "--repo", g.Dir, "--base", "main", "--head", "rm")
	pf, _ := v["protected_files"].([]any)
	if code != exitRequired || len(pf) != 1 || pf[0].(map[string]any)["status"] != "removed" {
		t.Errorf("exit %d, protected_files %v", code, v["protected_files"])
	}
}

const infraPolicy = `review:
  agent:
    approvals: 1
protected_paths:
  presets: []
  rules:
    - name: platform
      paths: ["infra/**"]
      approvers:
        teams: [acme/platform]
`

func TestCheckHeadCannotLoosenItsOwnGate(t *testing.T) {
	g := baseRepo(t, map[string]string{config.FileName: infraPolicy})
	// The branch deletes the rule from the policy and changes infra.
	g.Commit("sneaky", "main", gt.Commit{Author: gt.Bob, Message: "Loosen and change infra\n", Change: gt.Change{Write: map[string]string{
		config.FileName: "protected_paths:\n  presets: []\n",
		"infra/main.tf": "resource \"a\" \"c\" {}\n",
	}}})
	g.Checkout("sneaky")
	code, v, _ := checkJSON(t, "--repo", g.Dir)
	if code != exitRequired {
		t.Fatalf("exit %d: the head's own policy applied", code)
	}
	if !hasRequirement(v, "path:platform") {
		t.Errorf("requirements = %v, want path:platform from the base's policy", v["requirements"])
	}
	pol := v["policy"].(map[string]any)
	if pol["ref"] != "main" || pol["path"] != config.FileName || pol["sha"] != g.Resolve("main").String() {
		t.Errorf("policy source = %v", pol)
	}

	// --config is an explicit choice of policy, for trying one out.
	loose := filepath.Join(t.TempDir(), "loose.yml")
	os.WriteFile(loose, []byte("protected_paths:\n  presets: []\n"), 0o644)
	code, v, _ = checkJSON(t, "--repo", g.Dir, "--config", loose)
	// It drops the platform rule, but the policy file always protects itself.
	if code != exitRequired || hasRequirement(v, "path:platform") || !hasRequirement(v, "path:countersign") {
		t.Errorf("--config %s: exit %d, requirements %v", loose, code, v["requirements"])
	}
}

func TestCheckInvalidPolicyAtTheBaseIsAnError(t *testing.T) {
	g := baseRepo(t, map[string]string{config.FileName: "review:\n  agent:\n    approvals: lots\n"})
	g.Commit("b", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/app.go": "x\n"}}})
	g.Checkout("b")
	code, out, errs := runCmd(t, "check", "--repo", g.Dir)
	if code != exitError {
		t.Fatalf("exit %d, want 2\n%s", code, out)
	}
	if !strings.Contains(errs, config.FileName+":3") || !strings.Contains(out, config.FileName+":3") {
		t.Errorf("the error does not name %s:3\nstdout:\n%s\nstderr:\n%s", config.FileName, out, errs)
	}
	code, v, _ := checkJSON(t, "--repo", g.Dir)
	if code != exitError || v["conclusion"] != "failure" || len(asStrings(v["errors"])) == 0 {
		t.Errorf("JSON: exit %d, %v", code, v)
	}
	// A broken --config is an error too.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("nonsense_key: 1\n"), 0o644)
	if code, _, errs := runCmd(t, "check", "--repo", g.Dir, "--config", bad); code != exitError || !strings.Contains(errs, "bad.yml:1") {
		t.Errorf("bad --config: exit %d, %q", code, errs)
	}
}

func TestCheckMergeFromMainKeepsMainsCommitsOut(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("topic", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/topic.go": "t\n"}}})
	// An agent commit lands on main (reviewed there), then main is merged into topic.
	g.Commit("main", "", gt.Commit{Author: gt.Copilot, Message: "Agent work on main\n", Change: gt.Change{Write: map[string]string{"src/other.go": "o\n"}}})
	g.Commit("topic", "", gt.Commit{Author: gt.Bob, Message: "Merge main\n", Merge: []string{"main"}, Change: gt.Change{Write: map[string]string{"src/other.go": "o\n"}}})
	g.Commit("topic", "", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/topic.go": "t2\n"}}})
	g.Checkout("topic")
	code, v, _ := checkJSON(t, "--repo", g.Dir)
	if code != exitOK || v["agent_authored"] != false || len(v["commits"].([]any)) != 3 {
		t.Errorf("exit %d, agent_authored %v, %d commits: main's agent commit leaked into the range", code, v["agent_authored"], len(v["commits"].([]any)))
	}
}

func TestCheckDefaultBaseAndErrors(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("trunk", "main", gt.Commit{Author: gt.Alice, Change: gt.Change{Write: map[string]string{"x": "1\n"}}})
	g.SetRef("refs/remotes/origin/trunk", "trunk")
	g.SetSymbolicRef("refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
	g.Commit("b", "trunk", gt.Commit{Author: gt.Alice, Message: gt.Msg("agent", gt.ClaudeTrailer), Change: gt.Change{Write: map[string]string{"y": "1\n"}}})
	g.Checkout("b")
	code, v, _ := checkJSON(t, "--repo", filepath.Join(g.Dir, "src"))
	if code != exitRequired || len(v["commits"].([]any)) != 1 {
		t.Errorf("default base origin/trunk: exit %d, commits %v", code, v["commits"])
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--repo", t.TempDir()}, "not in a git repository"},
		{[]string{"check", "--repo", g.Dir, "--head", "nope"}, "unknown revision"},
		{[]string{"check", "--repo", g.Dir, "--base", "nope"}, "unknown revision"},
		{[]string{"check", "--repo", g.Dir, "--format", "yaml"}, "--format"},
		{[]string{"check", "--repo", g.Dir, "--config", filepath.Join(t.TempDir(), "missing.yml")}, "missing.yml"},
		{[]string{"check", "--repo", g.Dir, "extra"}, "unexpected argument"},
		{[]string{"check", "--bogus"}, "bogus"},
	} {
		code, _, errs := runCmd(t, tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
	empty := gt.New(t)
	if code, _, errs := runCmd(t, "check", "--repo", empty.Dir); code != exitError || !strings.Contains(errs, "default branch") {
		t.Errorf("no default branch: exit %d, %q", code, errs)
	}
	if code, _, _ := runCmd(t, "check", "-h"); code != exitOK {
		t.Errorf("check -h: exit %d", code)
	}
}

func hasRequirement(v map[string]any, name string) bool {
	reqs, _ := v["requirements"].([]any)
	for _, r := range reqs {
		if r.(map[string]any)["name"] == name {
			return true
		}
	}
	return false
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
