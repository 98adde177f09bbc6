package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
)

func renamed(from, to string) File {
	return File{Path: to, PreviousPath: from, Status: StatusRenamed}
}

// TestProtectedFileBlame: a path requirement names an agent only when that
// agent's commits changed the protected file (issue 14 item 10), and says
// what happened to each file (item 11).
func TestProtectedFileBlame(t *testing.T) {
	mixed := []detect.Commit{claudeCommit("c1"), humanCommit("c2", "carol")}
	pr := humanPR("carol")
	tests := []struct {
		name   string
		facts  Facts
		reason string   // the infra requirement's reason
		agents []string // ProtectedFiles[0].Agents
		need   []string // CommitFilesNeeded
	}{
		{"only a human commit changed the protected file",
			Facts{PR: pr, Commits: mixed, Files: files("infra/main.tf", "web/a.go"), CommitFiles: map[string][]string{"c1": {"web/a.go"}}},
			"infra/main.tf changed", nil, nil},
		{"the agent's commit changed it",
			Facts{PR: pr, Commits: mixed, Files: files("infra/main.tf", "web/a.go"), CommitFiles: map[string][]string{"c1": {"infra/main.tf"}}},
			"infra/main.tf changed by Claude Code", []string{"Claude Code"}, nil},
		{"which commit changed it is not known",
			Facts{PR: pr, Commits: mixed, Files: files("infra/main.tf", "web/a.go")},
			"infra/main.tf changed, in a change agent-authored by Claude Code", nil, []string{"c1"}},
		{"some files by the agent",
			Facts{PR: pr, Commits: mixed, Files: files("infra/a.tf", "infra/b.tf", "web/a.go"), CommitFiles: map[string][]string{"c1": {"infra/b.tf"}}},
			"infra/a.tf and 1 more file changed (1 of the 2 by Claude Code)", nil, nil},
		{"a rename's old path counts",
			Facts{PR: pr, Commits: mixed, Files: []File{renamed("infra/old.tf", "infra/new.tf")}, CommitFiles: map[string][]string{"c1": {"infra/old.tf", "infra/new.tf"}}},
			"infra/new.tf changed by Claude Code", []string{"Claude Code"}, nil},
		{"every commit the agent's: no commit files needed",
			Facts{PR: pr, Commits: []detect.Commit{claudeCommit("c1"), claudeCommit("c2")}, Files: files("infra/main.tf")},
			"infra/main.tf changed by Claude Code", []string{"Claude Code"}, nil},
		{"a single commit: no commit files needed",
			Facts{PR: pr, Commits: []detect.Commit{trailerCommit("c1", "carol")}, Files: files("infra/main.tf")},
			"infra/main.tf changed by Claude Code", []string{"Claude Code"}, nil},
		{"human change: no blame",
			Facts{PR: pr, Commits: []detect.Commit{humanCommit("c1", "carol"), humanCommit("c2", "dan")}, Files: files("infra/main.tf")},
			"infra/main.tf changed", nil, nil},
		{"an agent's pull request of human commits",
			Facts{PR: copilotPR(), Commits: []detect.Commit{humanCommit("c1", "carol")}, Files: files("infra/main.tf")},
			"infra/main.tf changed, in a change agent-authored by GitHub Copilot", nil, nil},
		{"renamed out of the rule and modified are told apart",
			Facts{PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")},
				Files: []File{renamed("infra/old.tf", "a/old.txt"), {Path: "infra/x.tf", Status: StatusModified}, {Path: "infra/y.tf", Status: StatusModified}}},
			"a/old.txt renamed out of infra, and 2 more files changed", nil, nil},
		{"all renamed out",
			Facts{PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")},
				Files: []File{renamed("infra/a.tf", "web/a.txt"), renamed("infra/b.tf", "web/b.txt")}},
			"web/a.txt and 1 more file renamed out of infra", nil, nil},
		{"deleted and changed",
			Facts{PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")},
				Files: []File{{Path: "infra/a.tf", Status: StatusModified}, {Path: "infra/b.tf", Status: StatusRemoved}, renamed("infra/c.tf", "web/c.txt")}},
			"infra/a.tf changed, and 2 more files deleted or renamed out of infra", nil, nil},
		{"no protected file: no commit files needed",
			Facts{PR: pr, Commits: mixed, Files: files("web/a.go")}, "", nil, nil},
	}
	p := policy(sreRule())
	c, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			f.Repo = "acme/web"
			if got := c.CommitFilesNeeded(&f); !slices.Equal(got, tc.need) {
				t.Errorf("CommitFilesNeeded = %v, want %v", got, tc.need)
			}
			v := c.Evaluate(&f)
			r := reqByName(v, "path:infra")
			if tc.reason == "" {
				if r != nil {
					t.Fatalf("unexpected requirement %+v", r)
				}
				return
			}
			if r == nil {
				t.Fatalf("no infra requirement: %+v", v.Requirements)
			}
			if r.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", r.Reason, tc.reason)
			}
			if got := v.ProtectedFiles[0].Agents; !slices.Equal(got, tc.agents) {
				t.Errorf("ProtectedFiles[0].Agents = %v, want %v", got, tc.agents)
			}
		})
	}
}

// TestRenderBlame: the check run's summary and the local text say which
// protected file an agent's commits changed, and name no agent for the
// file only a human commit changed.
func TestRenderBlame(t *testing.T) {
	f := &Facts{Repo: "acme/web", PR: humanPR("carol"), Commits: []detect.Commit{claudeCommit("c1"), humanCommit("c2", "carol")},
		Files: files("infra/a.tf", "infra/b.tf"), CommitFiles: map[string][]string{"c1": {"infra/b.tf"}}}
	v := Evaluate(policy(sreRule()), f)
	md := v.Markdown()
	for _, want := range []string{"- `infra/a.tf`\n", "- `infra/b.tf` — changed by Claude Code\n", "infra/a.tf and 1 more file changed (1 of the 2 by Claude Code)"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(v.Title, "changed by Claude Code") {
		t.Errorf("title blames Claude Code for both files: %q", v.Title)
	}
	if txt := v.Text(); !strings.Contains(txt, "infra/a.tf and 1 more file changed (1 of the 2 by Claude Code)") {
		t.Errorf("text lacks the requirement's reason:\n%s", txt)
	}
}

// TestStaleCommandDetail: a comment approval or override made before the
// head moved carries no commit; the exclusion says so instead of leaving a
// blank ("approved , head is 5d6e7f8") (issue 14 item 11).
func TestStaleCommandDetail(t *testing.T) {
	p := policy()
	p.Commands.Approve = ptr(true)
	p.Overrides.Users = []string{"lead"}
	stale := commentApproval(1, "alice", "")
	old := review(2, "bob", ReviewApproved, oldHead)
	f := &Facts{Repo: "acme/web", PR: copilotPR(), Commits: []detect.Commit{claudeCommit("c1")}, Files: files("web/a.go"),
		Reviews:   []Review{stale, old},
		Overrides: []Override{{ID: 3, Login: "lead", UserType: "User", Reason: "hotfix", CommitSHA: "", At: stale.SubmittedAt}},
		Reviewers: reviewers(writer("alice"), writer("bob"), writer("lead"))}
	v := Evaluate(p, f)
	want := map[string]string{
		"alice": "approved before the head moved to 5d6e7f8",
		"bob":   "approved 1a2b3c4, head is 5d6e7f8",
		"lead":  "override made before the head moved to 5d6e7f8",
	}
	for _, x := range v.Excluded {
		if w, ok := want[x.Login]; ok {
			if x.Reason != ExcludedStale || x.Detail != w {
				t.Errorf("@%s: %s %q, want stale %q", x.Login, x.Reason, x.Detail, w)
			}
			delete(want, x.Login)
		}
	}
	if len(want) > 0 {
		t.Errorf("not excluded as stale: %v (excluded: %v)", want, excl(v))
	}
}

// TestOperatorListedOnce: the same person known once by login and address
// and once by the address alone is one operator, unless the address is
// several logins' (issue 14 item 12).
func TestOperatorListedOnce(t *testing.T) {
	alice := detect.Identity{Login: "alice", Name: "Alice Example", Email: "alice@acme.example"}
	tests := []struct {
		name    string
		ids     []detect.Identity
		commits []detect.Commit
		want    []string
	}{
		{"login and address, then the address", []detect.Identity{alice, {Name: "Alice", Email: "Alice@acme.example"}}, nil,
			[]string{"@alice"}},
		{"the address, then login and address", []detect.Identity{{Email: "alice@acme.example"}, alice}, nil, []string{"@alice"}},
		{"login, then a noreply address", []detect.Identity{{Login: "alice"}, {Email: "1234+alice@users.noreply.github.com"}}, nil, []string{"@alice"}},
		{"an address two logins share stays unresolved", []detect.Identity{alice, {Login: "bob", Email: "alice@acme.example"}, {Email: "alice@acme.example"}}, nil,
			[]string{"@alice", "@bob", "<alice@acme.example>"}},
		{"an address the commits give two logins stays unresolved", []detect.Identity{alice, {Email: "alice@acme.example"}},
			[]detect.Commit{{SHA: "c1", AuthorEmail: "alice@acme.example", AuthorLogin: "alice"}, {SHA: "c2", AuthorEmail: "alice@acme.example", AuthorLogin: "mallory"}},
			[]string{"@alice", "<alice@acme.example>"}},
		{"a login without address and an address without login are kept apart", []detect.Identity{{Login: "alice"}, {Email: "alice@acme.example"}}, nil,
			[]string{"@alice", "<alice@acme.example>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ids []detect.Identity
			for _, id := range tc.ids {
				ids = addIdentity(ids, id)
			}
			got := []string{}
			for _, id := range newResolver(tc.commits, nil).resolve(ids) {
				if l := identityLogin(id); l != "" {
					got = append(got, "@"+l)
				} else {
					got = append(got, "<"+id.Email+">")
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("operators %v, want %v", got, tc.want)
			}
		})
	}
}
