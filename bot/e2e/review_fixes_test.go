package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// laxPolicy protects nothing: every pull request into a branch with it passes.
const laxPolicy = `review:
  agent:
    approvals: 0
protected_paths:
  presets: []
`

// TestSharedHeadWorstVerdict: two open pull requests at one head share its
// check run. A second pull request into a branch with a permissive policy
// must not make the first, which needs an approval, mergeable.
func TestSharedHeadWorstVerdict(t *testing.T) {
	e := newEnv(t, envOptions{})
	n1, sha := e.agentPR("feature", map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"})
	e.check(sha, "action_required")

	e.sim.Push(repo, "lax", githubsim.CommitSpec{Author: dave, Message: "Relax the policy", Files: map[string]string{".github/countersign.yml": laxPolicy}})
	n2 := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "lax", Title: "Same change"})
	e.idle()
	neverPassed := func(when string) {
		t.Helper()
		shared := false
		for _, w := range e.writes(sha) {
			if w.Conclusion == "success" {
				t.Fatalf("%s: the shared head showed success (%q) while #%d needs an approval", when, w.Title, n1)
			}
			shared = shared || contains(w.Title, "PR #1:", "head shared with #2")
		}
		if !shared {
			t.Fatalf("%s: no write names the blocking pull request", when)
		}
		if cr := e.settled(sha); cr.GetConclusion() != "action_required" {
			t.Fatalf("%s: check %s %q, want action_required", when, cr.GetConclusion(), cr.GetOutput().GetTitle())
		}
	}
	neverPassed("after #2 opened")
	e.sim.EditPR(repo, n2, "Same change, retitled", "")
	e.idle()
	neverPassed("after #2 was edited")

	// Once #1 is approved, both pass and so does the head.
	e.sim.SubmitReview(repo, n1, "bob", "APPROVE", "")
	e.check(sha, "success")
}

// TestCommandBoundToLastHeadMove: an approval written while the branch was
// at Y does not count for X after a force-push back to X.
func TestCommandBoundToLastHeadMove(t *testing.T) {
	e := interactionEnv(t, interactionPolicy)
	n, shaX, _ := e.terraformPR("feature")
	shaY := e.sim.Push(repo, "feature", githubsim.CommitSpec{Author: alice, Message: "Another try" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"y\" {}\n"}})
	e.afterStart(e.check(shaY, "action_required"))
	id := e.sim.Comment(repo, n, "bob", "/countersign approve")
	e.check(shaY, "success")

	var written time.Time
	for _, c := range e.sim.Comments(repo, n) {
		if c.GetID() == id {
			written = c.GetCreatedAt().Time
		}
	}
	e.eventually("a second after the approval", func() bool { return time.Now().UTC().Truncate(time.Second).After(written) })
	before := len(e.writes(shaX))
	e.sim.ForcePush(repo, "feature", shaX, "alice")
	e.idle()
	received := time.Now() // the force-push's delivery was received before the app went idle
	for _, w := range e.writes(shaX)[before:] {
		if w.Conclusion == "success" {
			t.Fatalf("X passed on an approval written for Y: %q", w.Title)
		}
	}
	if cr := e.settled(shaX); cr.GetConclusion() != "action_required" {
		t.Fatalf("X: check %s %q after the force-push back, want action_required", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}

	// An approval written at X, in a later second than the force-push's
	// delivery was received, counts.
	e.eventually("a second after the force-push", func() bool { return time.Now().Truncate(time.Second).After(received) })
	e.sim.Comment(repo, n, "bob", "/countersign approve")
	e.check(shaX, "success")
}

// TestMergeGroupUnaccountedCommit: a merge group whose commits include an
// earlier pull request rebased into it (new SHAs, no "(#N)" subject) fails,
// although the pull request its ref names passes.
func TestMergeGroupUnaccountedCommit(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, sha1 := e.agentPR("a", map[string]string{"infra/main.tf": "resource \"null_resource\" \"a\" {}\n"})
	e.check(sha1, "action_required")
	sha2 := e.sim.Push(repo, "b", githubsim.CommitSpec{Author: dave, Message: "Change b", Files: map[string]string{"docs/guide.md": "Guide v2\n"}})
	e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "b", Base: "main", Title: "Change b"})
	e.check(sha2, "success")

	base := e.sim.Head(repo, "main")
	gh := githubsim.Identity{Name: "GitHub", Email: "noreply@github.com"}
	ref := "gh-readonly-queue/main/pr-2-" + base
	e.sim.Push(repo, ref, githubsim.CommitSpec{Author: alice, Committer: gh, Message: "Change a" + agentTrailer,
		Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"a\" {}\n"}})
	head := e.sim.Push(repo, ref, githubsim.CommitSpec{Author: alice, Committer: gh, Message: "Merge pull request #2 from acme/b\n\nChange b",
		Files: map[string]string{"docs/guide.md": "Guide v2\n"}})
	e.idle()

	body, _ := json.Marshal(map[string]any{
		"action": "checks_requested",
		"merge_group": map[string]any{"head_sha": head, "head_ref": "refs/heads/" + ref, "base_sha": base, "base_ref": "refs/heads/main",
			"head_commit": map[string]any{"id": head, "message": "Merge pull request #2 from acme/b\n\nChange b"}},
		"repository":   map[string]any{"name": "infra", "full_name": repo, "owner": map[string]any{"login": "acme"}},
		"installation": map[string]any{"id": e.inst},
		"sender":       map[string]any{"login": "dave"},
	})
	if st := e.post("merge_group", "review-fixes-group", body, sign(secret, body)); st/100 != 2 {
		t.Fatalf("merge_group delivery: status %d", st)
	}
	cr := e.check(head, "failure")
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, "belong to no evaluated pull request") {
		t.Fatalf("title %q does not say a commit is unaccounted for", title)
	}
}
