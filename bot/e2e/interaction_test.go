package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

// interactionPolicy protects Terraform files (approvers: acme/infra, alice
// or frank), counts `/countersign approve` comments and lets erin override.
const interactionPolicy = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/infra]
        users: [alice, frank]
commands:
  approve: true
overrides:
  users: [erin]
`

const botLogin = "countersign[bot]"

// interactionEnv adds frank (write), tina (triage) and mallory (no access)
// to the standard environment.
func interactionEnv(t *testing.T, policy string) *env {
	e := newEnv(t, envOptions{policy: policy})
	e.sim.AddUser("frank")
	e.sim.AddUser("tina")
	e.sim.AddUser("mallory")
	e.sim.SetPermission(repo, "frank", "write")
	e.sim.SetPermission(repo, "tina", "triage")
	return e
}

// terraformPR opens an agent-written pull request (alice delegating to
// Claude Code) that changes infra/main.tf, and waits for its check.
func (e *env) terraformPR(branch string) (int, string, *github.CheckRun) {
	e.t.Helper()
	n, sha := e.agentPR(branch, map[string]string{"infra/main.tf": "resource \"null_resource\" \"" + branch + "\" {}\n"})
	cr := e.check(sha, "action_required")
	e.afterStart(cr)
	return n, sha, cr
}

// afterStart waits until the clock is in a later second than the check
// run's start: GitHub's timestamps have one-second precision, and a command
// applies to the head Countersign had seen when it was written.
func (e *env) afterStart(cr *github.CheckRun) {
	e.t.Helper()
	started := cr.GetStartedAt().Time
	e.eventually("a second after the check run started", func() bool {
		return time.Now().UTC().Truncate(time.Second).After(started)
	})
}

// botComments returns the comments the app wrote on a pull request.
func (e *env) botComments(n int) []string {
	var out []string
	for _, c := range e.sim.Comments(repo, n) {
		if c.GetUser().GetLogin() == botLogin {
			out = append(out, c.GetBody())
		}
	}
	return out
}

// reply waits for a comment of the app that contains every substring.
func (e *env) reply(n int, subs ...string) string {
	e.t.Helper()
	var got string
	e.eventually(fmt.Sprintf("a reply on #%d containing %q", n, subs), func() bool {
		for _, b := range e.botComments(n) {
			if contains(b, subs...) {
				got = b
				return true
			}
		}
		return false
	})
	return got
}

// reactions returns the contents of the app's reactions to a comment.
func (e *env) reactions(id int64) []string {
	var out []string
	for _, r := range e.sim.Reactions(repo, id) {
		if r.GetUser().GetLogin() == botLogin {
			out = append(out, r.GetContent())
		}
	}
	return out
}

// reacted waits for the app's reaction to a comment.
func (e *env) reacted(id int64, content string) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("a %s reaction on comment %d", content, id), func() bool {
		return slices.Contains(e.reactions(id), content)
	})
}

// requested returns the pending review requests, sorted.
func (e *env) requested(n int) (users, teams []string) {
	users, teams = e.sim.RequestedReviewers(repo, n)
	slices.Sort(users)
	slices.Sort(teams)
	return users, teams
}

func TestInteractionRequestReviewButton(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, _, cr := e.terraformPR("feature")

	// carol has read permission: refused, with the reason, and nobody is asked.
	e.sim.RequestAction(repo, cr.GetID(), "carol", "request-review")
	e.reply(n, "@carol", `"Request review" button needs triage permission`, "read permission")
	// mallory has no access at all.
	e.sim.RequestAction(repo, cr.GetID(), "mallory", "request-review")
	e.reply(n, "@mallory", "no access")
	e.idle()
	if u, tm := e.requested(n); len(u)+len(tm) != 0 {
		t.Fatalf("a refused click requested reviewers: users %v teams %v", u, tm)
	}

	// tina may triage: the terraform rule's team and users are asked,
	// never alice, who delegated the change to the agent.
	before := len(e.botComments(n))
	e.sim.RequestAction(repo, cr.GetID(), "tina", "request-review")
	e.eventually("reviewers requested", func() bool {
		u, tm := e.requested(n)
		return len(u)+len(tm) > 0
	})
	e.idle()
	users, teams := e.requested(n)
	if !slices.Equal(users, []string{"frank"}) || !slices.Equal(teams, []string{"infra"}) {
		t.Fatalf("requested users %v teams %v, want [frank] [infra]", users, teams)
	}
	if got := len(e.botComments(n)); got != before {
		t.Fatalf("an allowed click wrote %d comments", got-before)
	}
}

func TestInteractionRecheckButtonAndRerequest(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, sha, cr := e.terraformPR("feature")

	// carol (acme/infra, read) approves: not enough permission.
	e.sim.SubmitReview(repo, n, "carol", "APPROVE", "")
	e.idle()
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s after a read-only approval", got.GetConclusion())
	}
	// Her permission is raised; GitHub sends no webhook for that.
	e.sim.SetPermission(repo, "carol", "write")

	// mallory cannot re-check.
	e.sim.RequestAction(repo, cr.GetID(), "mallory", "recheck")
	e.reply(n, "@mallory", `"Re-check" button needs triage permission`)
	e.idle()
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("a refused re-check changed the check to %s", got.GetConclusion())
	}
	// dave can: the check is evaluated again and now passes.
	e.sim.RequestAction(repo, cr.GetID(), "dave", "recheck")
	e.check(sha, "success")

	// Re-running the check from GitHub's UI evaluates again too.
	n2, sha2, cr2 := e.terraformPR("second")
	e.sim.SubmitReview(repo, n2, "erin", "APPROVE", "")
	e.idle()
	e.sim.AddTeam("acme", "infra", "bob", "carol", "erin") // no webhook either
	if got := e.settled(sha2); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s before the rerequest", got.GetConclusion())
	}
	e.sim.RerequestCheckRun(repo, cr2.GetID(), "dave")
	e.check(sha2, "success")
}

func TestInteractionApproveCommand(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, sha, _ := e.terraformPR("feature")

	// Ineligible: read permission, the operator, an outsider.
	carol := e.sim.Comment(repo, n, "carol", "/countersign approve")
	e.reply(n, "@carol", "did not count", "insufficient_permission")
	alice := e.sim.Comment(repo, n, "alice", "Looks good.\n/countersign approve")
	e.reply(n, "@alice", "did not count", "operator")
	mallory := e.sim.Comment(repo, n, "mallory", "/countersign approve")
	e.reply(n, "@mallory", "did not count")
	e.idle()
	for _, id := range []int64{carol, alice, mallory} {
		if r := e.reactions(id); len(r) != 0 {
			t.Errorf("refused approval %d got reactions %v", id, r)
		}
	}
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s after ineligible approvals", got.GetConclusion())
	}

	// bob (acme/infra, write) approves by comment: counted, acknowledged.
	bob := e.sim.Comment(repo, n, "bob", "/countersign approve")
	e.reacted(bob, "+1")
	cr := e.check(sha, "success")
	if !strings.Contains(cr.GetOutput().GetTitle(), "@bob") {
		t.Fatalf("title %q does not name bob", cr.GetOutput().GetTitle())
	}

	// Editing the approval voids it: the check is evaluated again and blocks.
	e.sim.EditComment(repo, bob, "bob", "/countersign approve\n\n(edited)")
	e.check(sha, "action_required")
	e.reply(n, "@bob", "edited comment")
}

// A command GitHub shows as a quote, as code or not at all never counts
// (issue 14 item 6): each of these was counted by the old line rules. The
// same approver's plain command then counts, so the hidden ones were read
// by a working app and refused, not lost.
func TestInteractionHiddenCommandsDoNotCount(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, sha, _ := e.terraformPR("feature")
	var hidden []int64
	for _, body := range []string{
		"> I said earlier:\n/countersign approve",           // lazy block-quote continuation
		"1. ~~~\n   /countersign approve\n",                 // a fence opened on a list item
		"Thanks! <!--\n/countersign approve\n-->",           // an HTML comment opened mid-line
		"- /countersign approve",                            // a list item, not a paragraph of its own
		"```\n/countersign approve\n```\nshipping it today", // a fenced code block
	} {
		hidden = append(hidden, e.sim.Comment(repo, n, "bob", body))
	}
	e.idle()
	for _, id := range hidden {
		if r := e.reactions(id); len(r) != 0 {
			t.Errorf("hidden command %d got reactions %v", id, r)
		}
	}
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s after commands GitHub does not show as text", got.GetConclusion())
	}
	bob := e.sim.Comment(repo, n, "bob", "/countersign approve")
	e.reacted(bob, "+1")
	e.check(sha, "success")
}

func TestInteractionApproveCommandOff(t *testing.T) {
	e := interactionEnv(t, "") // the harness policy: comment approvals off
	n, sha, _ := e.terraformPR("feature")
	id := e.sim.Comment(repo, n, "bob", "/countersign approve")
	e.reply(n, "@bob", "comment approvals are off", "commands.approve")
	e.idle()
	if r := e.reactions(id); len(r) != 0 {
		t.Fatalf("reactions %v on an approval that cannot count", r)
	}
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s", got.GetConclusion())
	}
}

func TestInteractionOverride(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, sha, _ := e.terraformPR("feature")

	noReason := e.sim.Comment(repo, n, "erin", "/countersign override")
	e.reply(n, "@erin", "needs a reason")
	notAllowed := e.sim.Comment(repo, n, "dave", "/countersign override the deploy is stuck")
	e.reply(n, "@dave", "not in overrides")
	e.idle()
	for _, id := range []int64{noReason, notAllowed} {
		if r := e.reactions(id); len(r) != 0 {
			t.Errorf("refused override %d got reactions %v", id, r)
		}
	}
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s after refused overrides", got.GetConclusion())
	}

	ok := e.sim.Comment(repo, n, "erin", "/countersign override hotfix for INC-42")
	e.reacted(ok, "rocket")
	cr := e.check(sha, "success")
	if got, want := cr.GetOutput().GetTitle(), "Overridden by @erin: hotfix for INC-42"; got != want {
		t.Fatalf("title %q, want %q", got, want)
	}

	// The override is bound to that head: a new push is blocked again.
	sha2 := e.sim.Push(repo, "feature", githubsim.CommitSpec{Author: alice, Message: "More" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"}})
	e.check(sha2, "action_required")
}

func TestInteractionExplainRecheckUnknown(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, _, _ := e.terraformPR("feature")

	explain := e.sim.Comment(repo, n, "dave", "/countersign explain")
	e.reacted(explain, "+1")
	text := e.reply(n, "@dave", "countersign: action_required", "path:terraform")
	if strings.Contains(text, "\n/countersign") {
		t.Fatalf("a reply holds a command line:\n%s", text)
	}
	recheck := e.sim.Comment(repo, n, "tina", "/countersign recheck")
	e.reacted(recheck, "+1")
	ask := e.sim.Comment(repo, n, "tina", "/countersign request-review")
	e.reacted(ask, "+1")
	if users, teams := e.requested(n); !slices.Equal(users, []string{"frank"}) || !slices.Equal(teams, []string{"infra"}) {
		t.Fatalf("request-review asked users %v teams %v, want [frank] [infra]", users, teams)
	}

	outsider := e.sim.Comment(repo, n, "mallory", "/countersign explain")
	e.reply(n, "@mallory", "needs triage permission", "no access")
	unknown := e.sim.Comment(repo, n, "dave", "/countersign frobnicate")
	e.reply(n, "@dave", "unknown command", "frobnicate")
	e.idle()
	for _, id := range []int64{outsider, unknown} {
		if r := e.reactions(id); len(r) != 0 {
			t.Errorf("refused command %d got reactions %v", id, r)
		}
	}
}

func TestInteractionIgnoredComments(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, sha, _ := e.terraformPR("feature")
	ids := []int64{
		e.sim.Comment(repo, n, "helper[bot]", "/countersign approve"),
		e.sim.Comment(repo, n, "bob", "> /countersign approve\n\nQuoting the docs, not approving."),
		e.sim.Comment(repo, n, "bob", "```\n/countersign approve\n```"),
		e.sim.Comment(repo, n, "bob", "I will /countersign approve later"),
	}
	e.idle()
	for _, id := range ids {
		if r := e.reactions(id); len(r) != 0 {
			t.Errorf("comment %d got reactions %v", id, r)
		}
	}
	if c := e.botComments(n); len(c) != 0 {
		t.Errorf("the app answered ignored comments: %q", c)
	}
	if got := e.settled(sha); got.GetConclusion() != "action_required" {
		t.Fatalf("check %s after comments that are not commands", got.GetConclusion())
	}
}

func TestInteractionMergeGroup(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n1, _, _ := e.terraformPR("one")
	n2, sha2, _ := e.terraformPR("two")
	e.sim.SubmitReview(repo, n2, "bob", "APPROVE", "")
	e.check(sha2, "success")

	g1 := e.sim.EnqueueMergeGroup(repo, n1, "dave")
	cr := e.check(g1, "failure")
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, fmt.Sprintf("#%d", n1)) {
		t.Fatalf("merge group title %q does not name #%d", title, n1)
	}

	g2 := e.sim.EnqueueMergeGroup(repo, n2, "dave")
	cr = e.check(g2, "success")
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, fmt.Sprintf("#%d", n2)) {
		t.Fatalf("merge group title %q does not name #%d", title, n2)
	}
}
