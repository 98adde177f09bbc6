package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

func TestAgentTerraformPRNeedsAnIndependentOwner(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, head := e.agentPR("claude/resize", map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"})

	cr := e.check(head, "action_required")
	if out := cr.GetOutput(); !contains(out.GetTitle()+out.GetSummary(), "acme/infra") {
		t.Errorf("the check does not name the missing approver team:\n%s\n%s", out.GetTitle(), out.GetSummary())
	}

	// Neither the operator, a read-only team member, nor a bot can approve.
	for _, who := range []string{"alice", "carol", "helper[bot]"} {
		e.sim.SubmitReview(repo, n, who, "APPROVE", "lgtm")
		if cr := e.settled(head); cr.GetConclusion() != "action_required" {
			t.Fatalf("after %s approved: %s %q", who, cr.GetConclusion(), cr.GetOutput().GetTitle())
		}
	}
	summary := e.sim.LatestCheckRun(repo, head, "countersign").GetOutput().GetSummary()
	for _, why := range []string{"@alice delegated", "@carol has read permission", "only humans count"} {
		if !strings.Contains(summary, why) {
			t.Errorf("the summary does not say %q:\n%s", why, summary)
		}
	}

	// An eligible, independent human approves.
	e.sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")
	e.check(head, "success")

	// The agent pushes again after the approval: blocked again.
	head2 := e.sim.Push(repo, "claude/resize", githubsim.CommitSpec{Author: alice, Message: "More" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"c\" {}\n"}})
	e.check(head2, "action_required")
	for _, w := range e.writes(head2) {
		if w.Conclusion == "success" {
			t.Errorf("the new head passed at some point: %+v", w)
		}
	}
	// A new check run on the head only where its verdict changed (a
	// completed run's conclusion is final on GitHub), however many evaluations.
	e.runsJustified(head)
}

func TestPolicyEditIsJudgedByTheBasePolicy(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, head := e.agentPR("claude/loosen", map[string]string{
		".github/countersign.yml": "protected_paths:\n  presets: []\nreview:\n  agent:\n    approvals: 0\n",
		"infra/main.tf":           "resource \"null_resource\" \"x\" {}\n",
	})
	cr := e.check(head, "action_required")
	if !strings.Contains(cr.GetOutput().GetSummary(), "acme/infra") {
		t.Errorf("the base policy's terraform rule did not apply:\n%s", cr.GetOutput().GetSummary())
	}
}

func TestInvalidBasePolicyFailsNamingFileAndLine(t *testing.T) {
	e := newEnv(t, envOptions{policy: "review:\n  agent:\n    approvals: two\n"})
	_, head := e.agentPR("claude/any", map[string]string{"docs/guide.md": "Guide 2\n"})
	cr := e.check(head, "failure")
	text := cr.GetOutput().GetTitle() + "\n" + cr.GetOutput().GetSummary()
	if !strings.Contains(text, ".github/countersign.yml:3") {
		t.Errorf("the check does not name the file and line:\n%s", text)
	}
}

func TestHumanDocsPRPasses(t *testing.T) {
	e := newEnv(t, envOptions{})
	head := e.sim.Push(repo, "docs", githubsim.CommitSpec{Author: dave, Message: "Fix a typo", Files: map[string]string{"docs/guide.md": "Guide, fixed\n"}})
	e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "docs", Base: "main", Title: "Fix a typo"})
	e.check(head, "success")
}

func TestUnsignedAndMissignedDeliveriesChangeNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "x\n"})
	e.check(head, "action_required")
	e.idle()
	// bob's approval, delivered by an impostor: the body is real, the signature is not.
	body := []byte(fmt.Sprintf(`{"action":"submitted","review":{"id":1,"state":"approved","user":{"login":"bob","type":"User"},"commit_id":%q},"pull_request":{"number":%d,"head":{"sha":%q}},"repository":{"full_name":%q,"name":"infra","owner":{"login":"acme"}},"installation":{"id":%d}}`,
		head, n, head, repo, e.inst))
	before := len(e.sim.Calls())
	writes := len(e.writes(head))
	for i, sig := range []string{"", "sha256=" + strings.Repeat("0", 64), sign("wrong-secret", body)} {
		if code := e.post("pull_request_review", fmt.Sprintf("forged-%d", i), body, sig); code < 400 {
			t.Errorf("forged delivery %d answered %d", i, code)
		}
	}
	e.idle()
	if got := len(e.sim.Calls()); got != before {
		t.Errorf("forged deliveries caused %d GitHub calls", got-before)
	}
	if got := len(e.writes(head)); got != writes {
		t.Errorf("forged deliveries caused %d check-run writes", got-writes)
	}
}

func TestReplayedDeliveryIsProcessedOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, head := e.agentPR("claude/replay", map[string]string{"infra/main.tf": "x\n"})
	e.check(head, "action_required")
	e.idle()
	var opened *githubsim.Delivery
	for _, d := range e.sim.Deliveries() {
		if d.Event == "pull_request" && d.Action == "opened" {
			opened = &d
		}
	}
	if opened == nil {
		t.Fatal("no pull_request.opened delivery")
	}
	before := len(e.sim.Calls())
	for range 3 {
		code := e.post("pull_request", opened.GUID, opened.Body, sign(secret, opened.Body))
		if code >= 300 {
			t.Errorf("replay answered %d", code)
		}
	}
	e.idle()
	if got := len(e.sim.Calls()); got != before {
		t.Errorf("a replayed delivery caused %d GitHub calls", got-before)
	}
}
