package checks

import (
	"slices"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// TestCommitJudge: how `countersign audit` judges one commit of a history.
func TestCommitJudge(t *testing.T) {
	two := 2
	c := compiled(t, &config.Policy{
		Review: config.Review{Human: config.Requirement{Approvals: new(int)}},
		ProtectedPaths: config.ProtectedPaths{Presets: []string{}, Rules: []config.PathRule{
			{Name: "infra", Paths: []string{"infra/"}},
			{Name: "docs-by-agents", Paths: []string{"docs/"}, AppliesTo: config.AppliesToAgent},
			{Name: "free", Paths: []string{"free/"}, Approvals: new(int), DeletionApprovals: &two},
		}},
	})
	bot := detect.Commit{SHA: "b1", Message: "Bump x", AuthorName: "dependabot[bot]", AuthorLogin: "dependabot[bot]",
		AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com", CommitterEmail: "noreply@github.com"}
	merge := humanCommit("m1", "alice")
	merge.Message, merge.Parents = "Merge pull request #7 from acme/x", 2
	tests := []struct {
		name    string
		commit  detect.Commit
		merged  []detect.Commit
		changes []Change
		class   detect.Class
		via     string
		rules   []string
		needs   bool
	}{
		{"human, unprotected", humanCommit("h1", "alice"), nil, []Change{{"src/a.go", StatusModified}}, detect.ClassHuman, "", []string{}, false},
		{"human, protected", humanCommit("h2", "alice"), nil, []Change{{"infra/a.tf", StatusModified}, {"infra/b.tf", StatusAdded}}, detect.ClassHuman, "", []string{"infra"}, true},
		{"agent rule skips a human", humanCommit("h3", "alice"), nil, []Change{{"docs/a.md", StatusModified}}, detect.ClassHuman, "", []string{}, false},
		{"agent: review and agent rule", claudeCommit("a1"), nil, []Change{{"docs/a.md", StatusModified}}, detect.ClassAgent, "", []string{"docs-by-agents"}, true},
		{"rule needing nothing", humanCommit("h4", "alice"), nil, []Change{{"free/a", StatusModified}}, detect.ClassHuman, "", []string{"free"}, false},
		{"deletion needs more", humanCommit("h5", "alice"), nil, []Change{{"free/a", StatusRemoved}}, detect.ClassHuman, "", []string{"free"}, true},
		{"merge of an agent's commit", merge, []detect.Commit{humanCommit("x1", "bob"), claudeCommit("x2")}, nil, detect.ClassAgent, "x2", []string{}, true},
		{"merge of a bot's commits", merge, []detect.Commit{bot}, nil, detect.ClassAutomation, "b1", []string{}, false},
		{"merge of mixed commits", merge, []detect.Commit{bot, humanCommit("x3", "bob")}, nil, detect.ClassHuman, "", []string{}, false},
	}
	j := c.CommitJudge()
	for _, tt := range tests {
		got := j.Judge(tt.commit, tt.merged, tt.changes)
		class := got.Detection.Class
		if class == "" {
			class = detect.ClassHuman
		}
		if class != tt.class || got.Via != tt.via || !slices.Equal(got.Rules, tt.rules) || got.NeedsApproval != tt.needs {
			t.Errorf("%s: class %s via %q rules %v needs %v; want %s %q %v %v", tt.name, class, got.Via, got.Rules, got.NeedsApproval, tt.class, tt.via, tt.rules, tt.needs)
		}
	}
}
