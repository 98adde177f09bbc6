package e2e_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestProtectedFileBlamedOnItsCommits: an agent's commit changes the docs
// and a human commit of the same pull request changes the Terraform file;
// the check says the Terraform file changed, and not that the agent changed
// it (issue 14 item 10).
func TestProtectedFileBlamedOnItsCommits(t *testing.T) {
	e := newEnv(t, envOptions{})
	docs := e.sim.Push(repo, "mixed", githubsim.CommitSpec{Author: alice, Message: "Docs" + agentTrailer, Files: map[string]string{"docs/guide.md": "Guide v2\n"}})
	sha := e.sim.Push(repo, "mixed", githubsim.CommitSpec{Author: dave, Message: "Bump the instance", Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"}})
	e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "mixed", Base: "main", Title: "Mixed"})
	cr := e.check(sha, "action_required")
	title, summary := cr.GetOutput().GetTitle(), cr.GetOutput().GetSummary()
	if strings.Contains(title, "infra/main.tf changed by") || strings.Contains(summary, "infra/main.tf changed by") {
		t.Fatalf("the Terraform file is blamed on an agent:\n%s\n%s", title, summary)
	}
	if !strings.Contains(title, "infra/main.tf changed") {
		t.Fatalf("title %q does not say the Terraform file changed", title)
	}

	// The agent's next commit changes it too: now it is the agent's.
	sha = e.sim.Push(repo, "mixed", githubsim.CommitSpec{Author: alice, Message: "Tune" + agentTrailer, Files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"c\" {}\n"}})
	cr = e.check(sha, "action_required")
	if title := cr.GetOutput().GetTitle(); !strings.Contains(title, "infra/main.tf changed by Claude Code") {
		t.Fatalf("title %q does not blame Claude Code", title)
	}

	// The cost: one read per agent commit, ever (a commit's files are cached);
	// the human commit is never read.
	e.idle()
	reads := map[string]int{}
	for _, c := range e.sim.Calls() {
		for _, s := range []string{docs, sha} {
			if c.Method == "GET" && strings.HasSuffix(c.Path, "/commits/"+s) {
				reads[s]++
			}
		}
	}
	if reads[docs] != 1 || reads[sha] != 1 {
		t.Fatalf("commit reads %v; want one for each agent commit", reads)
	}
}
