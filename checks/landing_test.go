package checks

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

const landingPolicy = `protected_paths:
  presets: []
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/infra]
overrides:
  teams: [acme/leads]
landing:
  branches: [release/*]
deployments:
  environments: [production, prod-*]
`

func mustPolicy(t *testing.T, src string) *config.Policy {
	t.Helper()
	p, err := config.Parse("countersign.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProtectedBranchAndEnvironment(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	for _, tc := range []struct {
		branch string
		want   bool
	}{
		{"main", true}, {"release/1.0", true}, {"release/1.0/hotfix", false}, {"feature", false}, {"", false},
	} {
		if got := ProtectedBranch(p, tc.branch, "main"); got != tc.want {
			t.Errorf("ProtectedBranch(%q) = %v, want %v", tc.branch, got, tc.want)
		}
	}
	if !ProtectedBranch(nil, "trunk", "trunk") || ProtectedBranch(nil, "release/1", "trunk") {
		t.Error("with no policy only the default branch is protected")
	}
	for _, tc := range []struct {
		env  string
		want bool
	}{{"production", true}, {"prod-eu", true}, {"staging", false}, {"", false}} {
		if got := JudgedEnvironment(p, tc.env); got != tc.want {
			t.Errorf("JudgedEnvironment(%q) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

var (
	landAgent = detect.Commit{SHA: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", AuthorName: "Alice", AuthorEmail: "alice@acme.test", AuthorLogin: "alice",
		CommitterName: "Alice", CommitterEmail: "alice@acme.test", Message: "Add bucket\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n", Parents: 1}
	docsCommit = detect.Commit{SHA: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", AuthorName: "Dave", AuthorEmail: "dave@acme.test", AuthorLogin: "dave",
		CommitterName: "Dave", CommitterEmail: "dave@acme.test", Message: "Fix typo in guide\n", Parents: 1}
	humanInfra = detect.Commit{SHA: "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3", AuthorName: "Dave", AuthorEmail: "dave@acme.test", AuthorLogin: "dave",
		CommitterName: "Dave", CommitterEmail: "dave@acme.test", Message: "Resize\n", Parents: 1}
	docsFile  = []File{{Path: "docs/guide.md", Status: StatusModified}}
	infraFile = []File{{Path: "infra/main.tf", Status: StatusModified}}
	prHead    = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
)

func mergedPR(conclusion, title, checkHead string) *MergedPR {
	pr := &MergedPR{PullRequest: detect.PullRequest{Number: 12, AuthorLogin: "alice", AuthorType: "User", Title: "Add bucket", HeadRef: "feature"}, HeadSHA: prHead}
	if conclusion != "" {
		pr.Check = &CheckResult{HeadSHA: checkHead, Status: "completed", Conclusion: conclusion, Title: title}
	}
	return pr
}

func TestAccount(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	base := Push{Repo: "acme/infra", Branch: "main", Before: strings.Repeat("0", 39) + "1", After: landAgent.SHA, Pusher: "alice", Sender: "alice"}
	tests := []struct {
		name        string
		push        func(Push) Push
		conclusion  Conclusion
		title       string   // a substring of the title
		unaccounted []string // the SHAs of the unaccounted commits
		why         string   // a substring of the first unaccounted commit's why
	}{
		{"countersigned agent pr", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			x.PRs = map[int]*MergedPR{12: mergedPR("success", "Approved by @bob", prHead)}
			return x
		}, Success, "Countersigned: #12 by Claude Code for @alice, countersigned by @bob", nil, ""},
		{"overridden pr", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			x.PRs = map[int]*MergedPR{12: mergedPR("success", "Overridden by @carol: outage fix", prHead)}
			return x
		}, Success, "overridden by @carol: outage fix", nil, ""},
		{"admin merge of an action_required pr", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			x.PRs = map[int]*MergedPR{12: mergedPR("action_required", "Needs 1 approval from @acme/infra", prHead)}
			return x
		}, Failure, "Landed without countersignature: 1 commit", []string{landAgent.SHA}, "#12 was merged while its countersign check was action required"},
		{"pr check on another head", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			x.PRs = map[int]*MergedPR{12: mergedPR("success", "Approved by @bob", docsCommit.SHA)}
			return x
		}, Failure, "Landed without countersignature", []string{landAgent.SHA}, "not on the merged head"},
		{"pr with no check", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			x.PRs = map[int]*MergedPR{12: mergedPR("", "", "")}
			return x
		}, Failure, "Landed without countersignature", []string{landAgent.SHA}, "no countersign check"},
		{"pr check still running", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			pr := mergedPR("success", "Evaluating", prHead)
			pr.Check.Status, pr.Check.Conclusion = "in_progress", ""
			x.PRs = map[int]*MergedPR{12: pr}
			return x
		}, Failure, "Landed without countersignature", []string{landAgent.SHA}, "in progress"},
		{"agent commit pushed directly", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: docsFile}}
			return x
		}, Failure, "Landed without countersignature: 1 commit", []string{landAgent.SHA}, "pushed directly"},
		{"human docs change pushed directly", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: docsCommit, Files: docsFile}}
			x.After, x.Pusher, x.Sender = docsCommit.SHA, "dave", "dave"
			return x
		}, Success, "b2b2b2b by @dave, no approval needed", nil, ""},
		{"human infra change pushed directly", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: humanInfra, Files: infraFile}}
			x.After, x.Pusher, x.Sender = humanInfra.SHA, "dave", "dave"
			return x
		}, Failure, "Landed without countersignature", []string{humanInfra.SHA}, "needed"},
		{"mixed push: one accounted, one not", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: docsCommit, Files: docsFile}, {Commit: humanInfra, Files: infraFile}}
			return x
		}, Failure, "1 commit", []string{humanInfra.SHA}, ""},
		{"missing facts", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: docsCommit, Files: docsFile}}
			x.Incomplete = "listing the pull requests of b2b2b2b: 502 Bad Gateway"
			return x
		}, Failure, "Could not account for this push: listing the pull requests", nil, ""},
		{"pr facts missing", func(x Push) Push {
			x.Commits = []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}}
			return x
		}, Failure, "Could not account for this push: commit a1a1a1a came through #12", nil, ""},
		{"no head", func(x Push) Push { x.After = ""; return x }, Failure, "the pushed commit is unknown", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			push := tc.push(base)
			l := Account(p, &push)
			if l.Conclusion != tc.conclusion || !strings.Contains(l.Title, tc.title) {
				t.Fatalf("%s %q; want %s containing %q\n%s", l.Conclusion, l.Title, tc.conclusion, tc.title, l.Markdown())
			}
			var got []string
			for _, u := range l.Unaccounted {
				got = append(got, u.SHA)
			}
			if strings.Join(got, ",") != strings.Join(tc.unaccounted, ",") {
				t.Fatalf("unaccounted %v, want %v", got, tc.unaccounted)
			}
			if tc.why != "" && !strings.Contains(l.Unaccounted[0].Why, tc.why) {
				t.Errorf("why %q, want it to contain %q", l.Unaccounted[0].Why, tc.why)
			}
		})
	}
	if l := Account(nil, &Push{After: "x"}); l.Conclusion != Failure {
		t.Error("no policy did not fail")
	}
	if l := Account(p, nil); l.Conclusion != Failure {
		t.Error("no facts did not fail")
	}
}

// TestAccountNamesWhoAndWhat: an unaccounted commit names its author, agent,
// operator and protected files, and the record names the pusher and sender.
func TestAccountNamesWhoAndWhat(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	push := &Push{Repo: "acme/infra", Branch: "main", Before: docsCommit.SHA, After: landAgent.SHA, Pusher: "root", Sender: "root-admin",
		Commits: []LandedCommit{{Commit: landAgent, Files: infraFile}}}
	l := Account(p, push)
	u := l.Unaccounted[0]
	if u.Author != "alice" || u.Agent != "Claude Code" || u.Operator != "@alice" || strings.Join(u.ProtectedFiles, ",") != "infra/main.tf" {
		t.Fatalf("unaccounted %+v", u)
	}
	md := l.Markdown()
	for _, want := range []string{"Landed without countersignature", "a1a1a1a", "Claude Code", "infra/main.tf", "root", "@root-admin"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	body := l.BypassBody("https://example.test/record", p.Overrides.Teams, p.Overrides.Users)
	for _, want := range []string{"@root", "@root-admin", "@acme/leads", "https://example.test/record", "infra/main.tf"} {
		if !strings.Contains(body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, body)
		}
	}
	if got := l.BypassTitle(); got != "Landed without countersignature on main at a1a1a1a" {
		t.Errorf("issue title %q", got)
	}
}

func TestLandingTextRoundTrip(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	push := &Push{Repo: "acme/infra", Branch: "main", After: landAgent.SHA, Pusher: "alice",
		Commits: []LandedCommit{{Commit: landAgent, Files: infraFile, PR: 12}},
		PRs:     map[int]*MergedPR{12: mergedPR("success", "Approved by @bob and @carol", prHead)}}
	l := Account(p, push)
	text, err := l.Text()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseLandingText(text)
	if err != nil {
		t.Fatal(err)
	}
	if back.Conclusion != Success || len(back.Changes) != 1 || strings.Join(back.Changes[0].Approvers, ",") != "bob,carol" || back.Changes[0].Agents[0] != "Claude Code" {
		t.Fatalf("read back %+v", back)
	}
	for _, bad := range []string{"", "no marker", LandingRecordMarker + "\n```json\n{\"conclusion\":\"neutral\"}\n```", LandingRecordMarker + "{"} {
		if _, err := ParseLandingText(bad); err == nil {
			t.Errorf("ParseLandingText(%q) accepted", bad)
		}
	}
}

// TestParseCheckTitle reads the titles the engine itself writes.
func TestParseCheckTitle(t *testing.T) {
	for _, tc := range []struct {
		title     string
		approvers string
		override  string
		nothing   bool
	}{
		{"Approved by @bob", "bob", "", false},
		{"Approved by @bob, @carol and @dependabot-fan", "bob,carol,dependabot-fan", "", false},
		{"Overridden by @carol: prod is down: hotfix", "", "carol|prod is down: hotfix", false},
		// While someone who took part is unmatched, an override takes several people.
		{"Overridden by @alice and @lead: hotfix", "", "alice,lead|hotfix", false},
		{"Overridden by @alice, @lead and @rel: hotfix", "", "alice,lead,rel|hotfix", false},
		{"No approval needed: human change, no protected paths", "", "", true},
		{"Needs 1 approval", "", "", false},
	} {
		a, o, n := ParseCheckTitle(tc.title)
		ov := ""
		if o != nil {
			ov = o.Login + "|" + o.Reason
			if len(o.Logins) > 0 {
				ov = strings.Join(o.Logins, ",") + "|" + o.Reason
			}
		}
		if strings.Join(a, ",") != tc.approvers || ov != tc.override || n != tc.nothing {
			t.Errorf("ParseCheckTitle(%q) = %v, %q, %v", tc.title, a, ov, n)
		}
	}
}

func FuzzParseLandingText(f *testing.F) {
	f.Add(LandingRecordMarker + "\n```json\n{\"conclusion\":\"success\",\"changes\":[]}\n```\n")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLandingText(s)
		if err == nil && l.Conclusion != Success && l.Conclusion != Failure {
			t.Fatalf("accepted conclusion %q", l.Conclusion)
		}
	})
}

// TestSummaryOperators reads operators back from summaries the engine writes.
func TestSummaryOperators(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	v := Evaluate(p, &Facts{Repo: "acme/infra", PR: PullRequest{PullRequest: detect.PullRequest{Number: 1, AuthorLogin: "claude[bot]", AuthorType: "Bot"}, HeadSHA: prHead},
		Commits: []detect.Commit{landAgent}, Files: infraFile})
	if got := SummaryOperators(v.Markdown()); strings.Join(got, ",") != "@alice" {
		t.Fatalf("operators %v from\n%s", got, v.Markdown())
	}
	h := Evaluate(p, &Facts{Repo: "acme/infra", PR: PullRequest{PullRequest: detect.PullRequest{Number: 1, AuthorLogin: "dave"}, HeadSHA: prHead},
		Commits: []detect.Commit{docsCommit}, Files: docsFile})
	if got := SummaryOperators(h.Markdown()); got != nil {
		t.Fatalf("a human change has operators %v", got)
	}
	for _, s := range []string{"", "#### Authorship\n\nNo agent found.", "#### Authorship\n\nAgent-authored (x). Operators (cannot approve): Alice \\<a@b.c\\>, @bob_x."} {
		if got := SummaryOperators(s); got != nil {
			t.Errorf("SummaryOperators(%q) = %v", s, got)
		}
	}
}

func TestPRShape(t *testing.T) {
	for _, tc := range []struct {
		msg     string
		parents int
		want    int
	}{
		{"Merge pull request #12 from acme/feature\n\nAdd bucket\n", 2, 12},
		{"Merge pull request #12 from acme/feature\n", 1, 0},
		{"Add bucket (#34)\n\n* one\n", 1, 34},
		{"Add bucket (#34)\n", 2, 0},
		{"Fix #34 in the parser\n", 1, 0},
		{"Revert \"Add bucket (#34)\" (#35)\n", 1, 35},
	} {
		if got := PRShape(tc.msg, tc.parents); got != tc.want {
			t.Errorf("PRShape(%q, %d) = %d, want %d", tc.msg, tc.parents, got, tc.want)
		}
	}
}

// TestAccountLocal: offline, commits in a merged pull request's shape are
// accounted to it; others need nothing or are listed as unaccountable.
func TestAccountLocal(t *testing.T) {
	p := mustPolicy(t, landingPolicy)
	squash := landAgent
	squash.Message = "Add bucket (#12)\n\n* Add bucket\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
	l := AccountLocal(p, "acme/infra", "main", squash.SHA, []LandedCommit{
		{Commit: squash, Files: infraFile}, {Commit: docsCommit, Files: docsFile}, {Commit: humanInfra, Files: infraFile},
	})
	if l.Conclusion != Failure || l.Title != "Unaccountable: 1 commit" || len(l.Unaccounted) != 1 || l.Unaccounted[0].SHA != humanInfra.SHA ||
		!strings.Contains(l.Unaccounted[0].Why, "not in the shape of a merged pull request") {
		t.Fatalf("%s %q %+v", l.Conclusion, l.Title, l.Unaccounted)
	}
	if len(l.Changes) != 2 || l.Changes[0].PR != 12 || l.Changes[0].Agents[0] != "Claude Code" || !l.Changes[1].NothingNeeded {
		t.Fatalf("changes %+v", l.Changes)
	}
	ok := AccountLocal(p, "acme/infra", "main", docsCommit.SHA, []LandedCommit{{Commit: docsCommit, Files: docsFile}})
	if ok.Conclusion != Success {
		t.Fatalf("%s %q", ok.Conclusion, ok.Title)
	}
}
