package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

// loosePolicy protects nothing and asks no review of agents.
const loosePolicy = "protected_paths:\n  presets: []\nreview:\n  agent:\n    approvals: 0\n"

// TestTightenedBasePolicyAppliesToOpenPRs: a policy tightened on main
// governs open pull requests at once, even when a delivery carries the pull
// request's base.sha from before the change (GitHub only moves base.sha when
// the pull request is opened or its head is pushed).
func TestTightenedBasePolicyAppliesToOpenPRs(t *testing.T) {
	e := newEnv(t, envOptions{policy: loosePolicy})
	started := time.Now()
	n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"c\" {}\n"})
	e.check(head, "success")
	e.idle()
	stale := e.sim.PR(repo, n) // base.sha is main before the tightening

	tip := e.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Protect Terraform",
		Files: map[string]string{".github/countersign.yml": policy}})
	cr := e.check(head, "action_required")
	if s := cr.GetOutput().GetSummary(); !strings.Contains(s, tip[:7]) {
		t.Errorf("the verdict does not name the policy's commit %.7s:\n%s", tip, s)
	}

	// A delivery whose snapshot still carries the old base.sha, as GitHub
	// sends for a label: the policy is still read at main's tip.
	e.eventually("the clock is past the server's first second", func() bool {
		return time.Now().Truncate(time.Second).After(started)
	})
	stale.UpdatedAt = &github.Timestamp{Time: time.Now().Add(2 * time.Second).Truncate(time.Second)}
	if stale.GetBase().GetSHA() == tip {
		t.Fatalf("the snapshot is not stale: base %s", stale.GetBase().GetSHA())
	}
	owner, name, _ := strings.Cut(repo, "/")
	inst := e.inst
	body, err := json.Marshal(&github.PullRequestEvent{
		Action: github.String("labeled"), Number: github.Int(n), PullRequest: stale,
		Label:        &github.Label{Name: github.String("infra")},
		Repo:         &github.Repository{Name: github.String(name), FullName: github.String(repo), Owner: &github.User{Login: github.String(owner)}},
		Installation: &github.Installation{ID: &inst},
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := e.post("pull_request", "stale-base-labeled", body, sign(secret, body)); code/100 != 2 {
		t.Fatalf("delivery answered %d", code)
	}
	if cr := e.settled(head); cr.GetConclusion() != "action_required" {
		t.Fatalf("a stale base.sha brought back the old policy: %s %q", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
}

// TestYAMLPolicyFileFailsNamingIt: .github/countersign.yaml is not read;
// rather than being ignored it fails the check and says to rename it.
func TestYAMLPolicyFileFailsNamingIt(t *testing.T) {
	e := newEnv(t, envOptions{policy: "-", files: map[string]string{".github/countersign.yaml": loosePolicy}})
	_, head := e.agentPR("claude/yaml", map[string]string{"docs/guide.md": "Guide 3\n"})
	cr := e.check(head, "failure")
	if text := cr.GetOutput().GetTitle() + "\n" + cr.GetOutput().GetSummary(); !contains(text, ".github/countersign.yaml", "rename it to .github/countersign.yml") {
		t.Errorf("the check does not name the file and the fix:\n%s", text)
	}
}

// TestInvisibleOrgRepositoryIsSaid: with no policy file and no visible
// acme/.github repository, the built-in default applies and the check says
// why.
func TestInvisibleOrgRepositoryIsSaid(t *testing.T) {
	e := newEnv(t, envOptions{policy: "-"})
	_, head := e.agentPR("claude/nopolicy", map[string]string{"docs/guide.md": "Guide 4\n"})
	cr := e.check(head, "action_required")
	if s := cr.GetOutput().GetSummary(); !strings.Contains(s, "organization's .github repository is not visible to the app") {
		t.Errorf("the check does not say the org repository is not visible:\n%s", s)
	}
}
