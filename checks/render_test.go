package checks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// bigFacts is a 3,000-file, 250-commit pull request by Claude Code with 50
// reviews, most of which do not count.
func bigFacts() *Facts {
	f := &Facts{Repo: "acme/web", PR: humanPR("carol"), Reviewers: map[string]Reviewer{}}
	for i := range 250 {
		c := claudeCommit(fmt.Sprintf("%040x", i+1))
		c.Message = fmt.Sprintf("Step %d: rework module %d with a rather long subject line | pipes and *stars*\n\nBody.", i, i)
		if i%5 == 0 {
			c = trailerCommit(fmt.Sprintf("%040x", i+1), "dave")
		}
		f.Commits = append(f.Commits, c)
	}
	for i := range 3000 {
		dir := []string{"infra/modules", "src/app", "deploy/k8s", "docs"}[i%4]
		f.Files = append(f.Files, File{Path: fmt.Sprintf("%s/pkg%03d/file_%04d_with_a_fairly_long_name.tf", dir, i%97, i), Status: StatusModified, Additions: 3})
	}
	for i := range 50 {
		login := fmt.Sprintf("reviewer%02d", i)
		sha := head
		if i%3 == 0 {
			sha = oldHead
		}
		f.Reviews = append(f.Reviews, review(int64(100+i), login, ReviewApproved, sha))
		perm := config.PermissionWrite
		if i%4 == 0 {
			perm = config.PermissionRead
		}
		f.Reviewers[login] = Reviewer{Login: login, Permission: perm, Teams: []string{"acme/web"}}
	}
	return f
}

func bigPolicy() *config.Policy {
	return policy(
		config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Approvers: config.Approvers{Teams: []string{"acme/sre"}}},
		config.PathRule{Name: "deploy", Paths: []string{"deploy/**"}, DeletionApprovals: ptr(1)},
		config.PathRule{Name: "terraform", Paths: []string{"*.tf"}, AppliesTo: config.AppliesToAgent},
	)
}

func TestMarkdownFitsGitHubLimit(t *testing.T) {
	v := Evaluate(bigPolicy(), bigFacts())
	if len(v.ProtectedFiles) < 3000 || len(v.Commits) != 250 {
		t.Fatalf("fixture too small: %d protected files, %d commits", len(v.ProtectedFiles), len(v.Commits))
	}
	md := v.Markdown()
	if len(md) > MaxSummary {
		t.Fatalf("markdown is %d bytes, over %d", len(md), MaxSummary)
	}
	for _, want := range []string{"#### Requirements", "**path:infra**", "**path:deploy**", "**path:terraform**", "… and ", "more commits", "#### Policy"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// Requirements and exclusions are kept whole.
	for _, x := range v.Excluded {
		if !strings.Contains(md, fmt.Sprintf("| @%s | review #%d |", x.Login, x.ID)) {
			t.Errorf("exclusion of %s #%d missing", x.Login, x.ID)
		}
	}
	if len(v.Excluded) < 20 {
		t.Errorf("expected most of the 50 reviews excluded, got %d", len(v.Excluded))
	}
	if strings.Contains(md, "pipes and *stars*") {
		t.Errorf("commit subjects are not escaped")
	}
}

func TestMarkdownSmallPRIsWhole(t *testing.T) {
	f := &Facts{Repo: "acme/web", PR: copilotPR(), Commits: []detect.Commit{claudeCommit("c1")}, Files: files("infra/main.tf"),
		Reviews: []Review{review(1, "bob", ReviewChangesRequested, head)}, Reviewers: reviewers(writer("bob", "acme/sre"))}
	v := Evaluate(policy(sreRule()), f)
	md := v.Markdown()
	for _, want := range []string{v.Title, "`infra/main.tf`", "#### Changes requested", "@bob (review #1)", "agent claude-code", "acme/web:.github/countersign.yml at main"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "more") {
		t.Errorf("a small PR should not be shortened:\n%s", md)
	}
	txt := v.Text()
	if !strings.HasPrefix(txt, "countersign: action_required — Changes requested by @bob") || !strings.Contains(txt, "[ ] path:infra: 0/1") {
		t.Errorf("text:\n%s", txt)
	}
}

func TestMarkdownHugeExclusionsStillFits(t *testing.T) {
	f := bigFacts()
	f.Reviews = nil
	for i := range 5000 {
		f.Reviews = append(f.Reviews, review(int64(i+1), "ghost", ReviewApproved, head))
	}
	md := Evaluate(bigPolicy(), f).Markdown()
	if len(md) > MaxSummary || !strings.Contains(md, "summary shortened") {
		t.Errorf("markdown is %d bytes", len(md))
	}
}

func TestJSONRoundTrip(t *testing.T) {
	f := bigFacts()
	p := bigPolicy()
	p.Overrides.Users = []string{"lead"}
	f.Reviewers["lead"] = writer("lead")
	f.Overrides = []Override{{ID: 1, Login: "lead", UserType: "User", Reason: "hotfix", CommitSHA: head}}
	for _, v := range []*Verdict{
		Evaluate(p, f),
		Evaluate(policy(), &Facts{PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")}}),
		Invalid(fmt.Errorf("x.yml:1:1: bad"), config.Source{Path: "x.yml"}, nil),
	} {
		b, err := v.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Verdict
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, v) {
			t.Errorf("round trip changed the verdict %q", v.Title)
		}
		b2, _ := back.JSON()
		if string(b) != string(b2) {
			t.Errorf("re-encoding differs")
		}
		for _, field := range []string{`"conclusion"`, `"title"`, `"agents"`, `"commits"`, `"protected_files"`, `"requirements"`, `"policy"`} {
			if !strings.Contains(string(b), field) {
				t.Errorf("JSON lacks %s", field)
			}
		}
	}
}
