package checks

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// devinPR is a pull request Devin opened; body is its description.
func devinPR(body string) PullRequest {
	return PullRequest{
		PullRequest: detect.PullRequest{Number: 21, AuthorLogin: "devin-ai-integration[bot]", AuthorType: "Bot", AuthorID: 158243242,
			HeadRef: "devin/1733130000-retry", Title: "Add retries", Body: body},
		HeadSHA: head, BaseRef: "main", BaseSHA: oldHead,
	}
}

// devinCommit is Devin's commit naming the human who asked for it in a trailer.
func devinCommit(sha, trailer string) detect.Commit {
	msg := "Add retries\n\nRetry on 502."
	if trailer != "" {
		msg += "\n\n" + trailer
	}
	return detect.Commit{SHA: sha, AuthorName: "Devin AI", AuthorEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
		AuthorLogin: "devin-ai-integration[bot]", CommitterName: "Devin AI", CommitterEmail: "158243242+devin-ai-integration[bot]@users.noreply.github.com",
		CommitterLogin: "devin-ai-integration[bot]", Message: msg, Parents: 1}
}

// TestOperatorKnownOnlyByEmail: an operator the agent names only by address
// must not be able to approve her own agent's change. Where the address
// resolves to a login she is excluded by login; where it does not, the
// check names her and asks one more independent approval per such operator.
func TestOperatorKnownOnlyByEmail(t *testing.T) {
	const unresolved = "operator alice@acme.example could not be matched to a GitHub account"
	coAuthor := "Co-Authored-By: Alice <alice@acme.example>"
	requested := "Adds retries.\n\nLink to Devin run: https://app.devin.ai/sessions/0123456789abcdef0123\nRequested by: Alice Example (alice@acme.example)"
	trailerOnly := func(rs ...Review) Facts {
		return Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", coAuthor)}, Files: files("a.go"),
			Reviews: rs, Reviewers: reviewers(writer("alice"), writer("bob"), writer("carol"))}
	}
	requestedBy := func(rs ...Review) Facts {
		return Facts{PR: devinPR(requested), Commits: []detect.Commit{devinCommit("c1", "")}, Files: files("a.go"),
			Reviews: rs, Reviewers: reviewers(writer("alice"), writer("bob"), writer("carol"))}
	}
	// alice's own commit in the PR tells which account the address is.
	aliceCommit := func() detect.Commit {
		c := humanCommit("c2", "alice")
		c.AuthorEmail, c.CommitterEmail = "Alice@acme.example", "alice@acme.example"
		return c
	}
	cases := []struct {
		name       string
		policy     func() Facts
		want       Conclusion
		needed     int
		excluded   []string
		unresolved bool
	}{
		{"co-author by address: her approval alone does not pass",
			func() Facts { return trailerOnly(review(1, "alice", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"requested by address: her approval alone does not pass",
			func() Facts { return requestedBy(review(1, "alice", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"one independent approval is not enough while the operator is unknown",
			func() Facts { return trailerOnly(review(1, "bob", ReviewApproved, head)) }, ActionRequired, 2, nil, true},
		{"a second independent approval passes",
			func() Facts {
				return trailerOnly(review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head))
			}, Success, 2, nil, true},
		{"requested by: a second independent approval passes",
			func() Facts {
				return requestedBy(review(1, "bob", ReviewApproved, head), review(2, "carol", ReviewApproved, head))
			}, Success, 2, nil, true},
		{"an address a commit of the PR ties to a login resolves to it",
			func() Facts {
				f := trailerOnly(review(1, "alice", ReviewApproved, head))
				f.Commits = append(f.Commits, aliceCommit())
				return f
			}, ActionRequired, 1, []string{"alice:operator"}, false},
		{"resolved by a commit: one independent approval passes",
			func() Facts {
				f := requestedBy(review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head))
				f.Commits = append(f.Commits, aliceCommit())
				return f
			}, Success, 1, []string{"alice:operator"}, false},
		{"a noreply address resolves to its login",
			func() Facts {
				f := trailerOnly(review(1, "Alice", ReviewApproved, head))
				f.Commits[0] = devinCommit("c1", "Co-Authored-By: Alice <9+alice@users.noreply.github.com>")
				return f
			}, ActionRequired, 1, []string{"Alice:operator"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.policy()
			f.Repo = "acme/web"
			v := Evaluate(policy(), &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%q), want %s", v.Conclusion, v.Title, tc.want)
			}
			r := reqByName(v, ReqAgentReview)
			if r == nil {
				t.Fatalf("no agent-review requirement: %+v", v.Requirements)
			}
			if r.Needed != tc.needed {
				t.Errorf("agent review needs %d approvals, want %d", r.Needed, tc.needed)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for _, out := range []string{v.Markdown(), v.Text()} {
				if got := strings.Contains(out, unresolved); got != tc.unresolved {
					t.Errorf("check text names the unresolved operator = %v, want %v:\n%s", got, tc.unresolved, out)
				}
			}
		})
	}
}

// TestAddressesGitHubResolves: the accounts GitHub ties addresses to
// (Facts.Addresses, from GraphQL Commit.authors) resolve operators and
// commit authors known only by address; what stays unresolved fails closed
// on every requirement, for built-in and custom agents and for human commits.
func TestAddressesGitHubResolves(t *testing.T) {
	coAuthor := "Co-Authored-By: Alice <alice@acme.example>"
	aliceIsHers := map[string]string{"alice@acme.example": "alice"}
	custom := policy(sreRule())
	custom.Agents.Custom = []config.AgentDef{{ID: "acme-agent", Name: "Acme Agent", Emails: []string{"agent@acme.example"}}}
	acmeCommit := detect.Commit{SHA: "c1", AuthorName: "Acme Agent", AuthorEmail: "agent@acme.example", CommitterName: "Acme Agent",
		CommitterEmail: "agent@acme.example", Message: "Tune the cluster\n\nCo-authored-by: Dan <dan@acme.example>", Parents: 1}
	// dave commits with an address no commit of the PR ties to his login.
	daveCommit := detect.Commit{SHA: "c2", AuthorName: "Dave", AuthorEmail: "dave@corp.example", CommitterName: "Dave",
		CommitterEmail: "dave@corp.example", Message: "Resize the cluster", Parents: 1}
	team := reviewers(writer("alice", "acme/sre"), writer("bob", "acme/sre"), writer("carol", "acme/sre"), writer("dan", "acme/sre"), writer("dave", "acme/sre"))
	cases := []struct {
		name     string
		policy   *config.Policy
		facts    Facts
		want     Conclusion
		needed   map[string]int
		excluded []string
		warn     string // a sentence the check must carry; "" for none
	}{
		{name: "GitHub's account for the co-author's address: her approval is excluded", policy: policy(),
			facts: Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", coAuthor)}, Files: files("a.go"),
				Reviews: []Review{review(1, "alice", ReviewApproved, head)}, Reviewers: team, Addresses: aliceIsHers},
			want: ActionRequired, needed: map[string]int{ReqAgentReview: 1}, excluded: []string{"alice:operator"}},
		{name: "GitHub's account resolved: one independent approval passes", policy: policy(),
			facts: Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", coAuthor)}, Files: files("a.go"),
				Reviews: []Review{review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head)}, Reviewers: team,
				Addresses: map[string]string{"alice@acme.example": "Alice"}},
			want: Success, needed: map[string]int{ReqAgentReview: 1}, excluded: []string{"alice:operator"}},
		{name: "an unresolved operator costs one more approval on a protected path too", policy: policy(sreRule()),
			facts: Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", coAuthor)}, Files: files("infra/main.tf"),
				// bob is not in acme/sre: alice alone would be the infra approval.
				Reviews:   []Review{review(1, "alice", ReviewApproved, head), review(2, "bob", ReviewApproved, head)},
				Reviewers: reviewers(writer("alice", "acme/sre"), writer("bob"))},
			want: ActionRequired, needed: map[string]int{ReqAgentReview: 2, "path:infra": 2},
			warn: "operator alice@acme.example could not be matched to a GitHub account"},
		{name: "custom agent's operator known only by address fails closed", policy: custom,
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{acmeCommit}, Files: files("infra/main.tf"),
				Reviews: []Review{review(1, "dan", ReviewApproved, head)}, Reviewers: team},
			want: ActionRequired, needed: map[string]int{ReqAgentReview: 2, "path:infra": 2},
			warn: "operator dan@acme.example could not be matched to a GitHub account"},
		{name: "custom agent's operator resolved by GitHub is excluded", policy: custom,
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{acmeCommit}, Files: files("infra/main.tf"),
				Reviews: []Review{review(1, "dan", ReviewApproved, head), review(2, "bob", ReviewApproved, head)}, Reviewers: team,
				Addresses: map[string]string{"dan@acme.example": "dan"}},
			want: Success, needed: map[string]int{ReqAgentReview: 1, "path:infra": 1}, excluded: []string{"dan:operator"}},
		{name: "a human commit author known only by address fails closed", policy: policy(sreRule()),
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: files("infra/main.tf"),
				Reviews: []Review{review(1, "dave", ReviewApproved, head)}, Reviewers: team},
			want: ActionRequired, needed: map[string]int{"path:infra": 2},
			warn: "commit author dave@corp.example could not be matched to a GitHub account"},
		{name: "unresolved commit author: two independent approvals pass", policy: policy(sreRule()),
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: files("infra/main.tf"),
				Reviews: []Review{review(1, "dave", ReviewApproved, head), review(2, "bob", ReviewApproved, head)}, Reviewers: team},
			want: Success, needed: map[string]int{"path:infra": 2},
			warn: "commit author dave@corp.example could not be matched to a GitHub account"},
		{name: "a human commit author resolved by GitHub is excluded", policy: policy(sreRule()),
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: files("infra/main.tf"),
				Reviews: []Review{review(1, "dave", ReviewApproved, head)}, Reviewers: team, Addresses: map[string]string{"dave@corp.example": "dave"}},
			want: ActionRequired, needed: map[string]int{"path:infra": 1}, excluded: []string{"dave:commit_author"}},
		{name: "a human commit author resolved by another commit's account is excluded", policy: policy(sreRule()),
			facts: func() Facts {
				c := humanCommit("c3", "dave")
				c.AuthorEmail, c.CommitterEmail = "Dave@corp.example", "dave@corp.example"
				return Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit, c}, Files: files("infra/main.tf"),
					Reviews: []Review{review(1, "dave", ReviewApproved, head)}, Reviewers: team}
			}(),
			want: ActionRequired, needed: map[string]int{"path:infra": 1}, excluded: []string{"dave:commit_author"}},
		{name: "a local check counts no approvals and asks no more for commit authors", policy: policy(sreRule()),
			facts: Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: files("infra/main.tf"), Local: true},
			want:  ActionRequired, needed: map[string]int{"path:infra": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			f.Repo = "acme/web"
			v := Evaluate(tc.policy, &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%q), want %s", v.Conclusion, v.Title, tc.want)
			}
			for name, n := range tc.needed {
				r := reqByName(v, name)
				if r == nil {
					t.Errorf("no %s requirement: %+v", name, v.Requirements)
				} else if r.Needed != n {
					t.Errorf("%s needs %d approvals, want %d", name, r.Needed, n)
				}
			}
			if len(v.Requirements) != len(tc.needed) {
				t.Errorf("requirements = %+v, want %v", v.Requirements, tc.needed)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for _, out := range []string{v.Markdown(), v.Text()} {
				if tc.warn != "" && !strings.Contains(out, tc.warn) {
					t.Errorf("check text does not say %q:\n%s", tc.warn, out)
				}
				if tc.warn == "" && strings.Contains(out, "could not be matched") {
					t.Errorf("check text warns of an unresolved identity:\n%s", out)
				}
			}
		})
	}
}

// TestOverrideWithUnresolvedOperator: while someone who took part is known
// only by an address no account matches, anyone may be her, so one
// override is not enough: it takes effect once one more person than there
// are unresolved identities (each allowed and independent by login) has
// overridden the head.
func TestOverrideWithUnresolvedOperator(t *testing.T) {
	p := policy()
	p.Overrides = config.Overrides{Users: []string{"lead", "alice", "rel"}}
	ov := func(id int64, login string) Override {
		return Override{ID: id, Login: login, UserType: "User", Reason: "hotfix " + login, CommitSHA: head}
	}
	facts := func(addrs map[string]string, os ...Override) Facts {
		return Facts{Repo: "acme/web", PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", "Co-Authored-By: Alice <alice@acme.example>")},
			Files: files("a.go"), Reviewers: reviewers(writer("alice"), writer("lead"), writer("rel")), Overrides: os, Addresses: addrs}
	}
	cases := []struct {
		name     string
		facts    Facts
		want     Conclusion
		title    string
		excluded []string
	}{
		{"one override while the operator is unresolved is not in force",
			facts(nil, ov(1, "alice")), ActionRequired, "", []string{"alice:override_unconfirmed"}},
		{"the same person twice is still one",
			facts(nil, ov(1, "lead"), ov(2, "lead")), ActionRequired, "", []string{"lead:superseded", "lead:override_unconfirmed"}},
		{"two people override: in force",
			facts(nil, ov(1, "alice"), ov(2, "lead")), Success, "Overridden by @alice and @lead: hotfix lead", nil},
		{"resolved operator: one independent override is enough",
			facts(map[string]string{"alice@acme.example": "alice"}, ov(1, "lead")), Success, "Overridden by @lead: hotfix lead", nil},
		{"resolved operator: her own override is excluded",
			facts(map[string]string{"alice@acme.example": "alice"}, ov(1, "alice")), ActionRequired, "", []string{"alice:operator"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(p, &tc.facts)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%q), want %s", v.Conclusion, v.Title, tc.want)
			}
			if tc.title != "" && v.Title != tc.title {
				t.Errorf("title = %q, want %q", v.Title, tc.title)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for _, x := range v.Excluded {
				if x.Reason == ExcludedUnconfirmed && !strings.Contains(x.Detail, "could not be matched to a GitHub account") {
					t.Errorf("detail %q does not say why the override waits", x.Detail)
				}
			}
		})
	}
}

// TestUnresolvedAddresses: the engine names the addresses worth asking
// GitHub about, and none once GitHub's answer is among the facts.
func TestUnresolvedAddresses(t *testing.T) {
	c, err := Compile(policy(sreRule()))
	if err != nil {
		t.Fatal(err)
	}
	dave := detect.Commit{SHA: "c2", AuthorName: "Dave", AuthorEmail: "Dave@Corp.example", CommitterName: "GitHub", CommitterEmail: "noreply@github.com",
		CommitterLogin: "web-flow", Message: "Resize", Parents: 1}
	f := &Facts{Repo: "acme/web", PR: devinPR("Requested by: Alice Example (alice@acme.example)"),
		Commits: []detect.Commit{devinCommit("c1", "Co-Authored-By: Bo <bo@acme.example>"), dave, humanCommit("c3", "erin")}}
	if got, want := strings.Join(c.Unresolved(f), ","), "alice@acme.example,bo@acme.example,dave@corp.example"; got != want {
		t.Errorf("Unresolved = %s, want %s", got, want)
	}
	f.Addresses = map[string]string{"alice@acme.example": "alice", "bo@acme.example": "bo", "dave@corp.example": "dave"}
	if got := c.Unresolved(f); len(got) != 0 {
		t.Errorf("Unresolved with GitHub's answer = %v, want none", got)
	}
}

// TestUnresolvedCannotCoverAFileAlone: an unresolved operator or commit
// author may be any approver, so besides the one more approval every
// requirement needs, a file that must be approved by particular people
// (its code owners, users or team members) needs one more of them per
// unresolved person: otherwise her own approval covers a file no one else
// looked at. Where the address resolves she is excluded and the file stays
// uncovered the ordinary way.
func TestUnresolvedCannotCoverAFileAlone(t *testing.T) {
	const (
		unresolvedAlice = "Co-Authored-By: Alice <alice@acme.example>"
		resolvedAlice   = "Co-Authored-By: Alice <9+alice@users.noreply.github.com>"
		perFile         = "each file with code owners one more owner's approval"
	)
	svc := func(a config.Approvers) *config.Policy {
		return policy(config.PathRule{Name: "svc", Paths: []string{"svc/**"}, Approvers: a})
	}
	owners := config.Approvers{CodeOwners: true}
	people := reviewers(writer("alice", "acme/pay"), writer("bob"), writer("carol"), writer("dan", "acme/pay"), writer("erin", "acme/pay"),
		writer("frank", "acme/pay"), writer("dave", "acme/pay"))
	approve := func(logins ...string) []Review {
		out := make([]Review, len(logins))
		for i, l := range logins {
			out[i] = review(int64(i+1), l, ReviewApproved, head)
		}
		return out
	}
	devin := func(trailer, codeOwners string, fs []File, rs []Review) Facts {
		f := Facts{PR: devinPR("Adds retries."), Commits: []detect.Commit{devinCommit("c1", trailer)}, Files: fs, Reviews: rs, Reviewers: people}
		f.CodeOwners = mustOwners(t, codeOwners)
		return f
	}
	// dave commits under an address no account is tied to.
	daveCommit := detect.Commit{SHA: "c2", AuthorName: "Dave", AuthorEmail: "dave@corp.example", CommitterName: "Dave",
		CommitterEmail: "dave@corp.example", Message: "Resize the pool", Parents: 1}
	const payAlice = "/svc/pay/ @alice\n/svc/api/ @bob\n"
	const payTeam = "/svc/pay/ @acme/pay\n/svc/api/ @acme/pay @bob\n"
	two := files("svc/pay/a.go", "svc/api/b.go")
	cases := []struct {
		name      string
		policy    *config.Policy
		facts     Facts
		want      Conclusion
		uncovered []string // of path:svc
		excluded  []string
		title     string // in the title; "" for nothing to check
		warn      string // in the Markdown and the text; "" for nothing to check
	}{
		{name: "resolved operator: excluded, her file stays uncovered (control)", policy: svc(owners),
			facts: devin(resolvedAlice, payAlice, two, approve("alice", "bob")),
			want:  ActionRequired, uncovered: []string{"svc/pay/a.go"}, excluded: []string{"alice:operator"},
			title: "Needs approval from code owners of svc/pay/a.go: "},
		{name: "unresolved operator: her approval alone does not cover her file", policy: svc(owners),
			facts: devin(unresolvedAlice, payAlice, two, approve("alice", "bob")),
			want:  ActionRequired, uncovered: []string{"svc/api/b.go", "svc/pay/a.go"},
			warn: perFile, title: "Needs approval from 1 more code owner of svc/api/b.go and 1 more file, since alice@acme.example could not be matched to a GitHub account"},
		{name: "unresolved operator, code owners and users: a user does not stand in for the file's owner", policy: svc(config.Approvers{CodeOwners: true, Users: []string{"bob", "carol"}}),
			facts: devin(unresolvedAlice, payAlice, files("svc/pay/a.go"), approve("alice", "carol")),
			want:  ActionRequired, uncovered: []string{"svc/pay/a.go"}, warn: perFile},
		{name: "unresolved operator in the owning team: one team member is not enough", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, files("svc/pay/a.go"), approve("alice", "bob")),
			want:  ActionRequired, uncovered: []string{"svc/pay/a.go"}, warn: perFile},
		{name: "unresolved operator: two team members other than her pass", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, two, approve("dan", "erin")),
			want:  Success},
		{name: "unresolved operator: she and another owner pass (one of them is not her)", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, files("svc/pay/a.go"), approve("alice", "dan")),
			want:  Success},
		{name: "unresolved operator: a named owner and a member of an owning team are two owners", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, files("svc/api/b.go"), approve("bob", "dan")),
			want:  Success},
		{name: "unresolved operator: the second owner approves one of two files", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, two, approve("bob", "dan")),
			want:  ActionRequired, uncovered: []string{"svc/pay/a.go"},
			title: "Needs approval from 1 more code owner of svc/pay/a.go, since alice@acme.example could not be matched to a GitHub account"},
		{name: "unresolved commit author covers her own file alone: not enough", policy: svc(config.Approvers{CodeOwners: true, Users: []string{"bob"}}),
			facts: func() Facts {
				f := Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: two,
					Reviews: approve("dave", "bob"), Reviewers: people, CodeOwners: mustOwners(t, "/svc/pay/ @dave\n/svc/api/ @carol @frank\n")}
				return f
			}(),
			want: ActionRequired, uncovered: []string{"svc/api/b.go", "svc/pay/a.go"}, warn: perFile,
			title: "Needs approval from 2 different code owners of svc/api/b.go and 1 more file, since dave@corp.example could not be matched to a GitHub account"},
		{name: "unresolved commit author: other owners pass", policy: svc(owners),
			facts: func() Facts {
				f := Facts{PR: humanPR("erin"), Commits: []detect.Commit{daveCommit}, Files: files("svc/pay/a.go"),
					Reviews: approve("dan", "frank"), Reviewers: people, CodeOwners: mustOwners(t, payTeam)}
				return f
			}(),
			want: Success},
		{name: "two unresolved people: two owners are not enough", policy: svc(config.Approvers{CodeOwners: true, Users: []string{"bob"}}),
			facts: func() Facts {
				f := devin(unresolvedAlice, payTeam, files("svc/pay/a.go"), approve("dan", "erin", "bob"))
				f.Commits = append(f.Commits, daveCommit)
				return f
			}(),
			want: ActionRequired, uncovered: []string{"svc/pay/a.go"}, title: "Needs approval from 1 more code owner of svc/pay/a.go"},
		{name: "two unresolved people: three owners pass", policy: svc(owners),
			facts: func() Facts {
				f := devin(unresolvedAlice, payTeam, files("svc/pay/a.go"), approve("dan", "erin", "frank"))
				f.Commits = append(f.Commits, daveCommit)
				return f
			}(),
			want: Success},
		// A file with no owner is covered by the approvals that count,
		// which are already one more per unresolved person.
		{name: "unresolved operator: a file with no owner needs the requirement's approvals", policy: svc(owners),
			facts: devin(unresolvedAlice, payTeam, files("svc/web/c.go"), approve("alice")),
			want:  ActionRequired, uncovered: []string{"svc/web/c.go"}},
		{name: "unresolved operator: a file with no owner is covered by two approvals", policy: svc(config.Approvers{CodeOwners: true, Users: []string{"bob", "carol"}}),
			facts: devin(unresolvedAlice, payTeam, files("svc/web/c.go"), approve("bob", "carol")),
			want:  Success},
		// Users and teams alone: any one of them satisfies the rule, so the
		// one more approval the requirement needs is what keeps her out.
		{name: "unresolved operator among approvers.users: she and one other pass", policy: svc(config.Approvers{Users: []string{"alice", "bob"}}),
			facts: devin(unresolvedAlice, payAlice, files("svc/pay/a.go"), approve("alice", "bob")),
			want:  Success},
		{name: "unresolved operator in approvers.teams: her approval alone does not pass", policy: svc(config.Approvers{Teams: []string{"acme/pay"}}),
			facts: devin(unresolvedAlice, payAlice, files("svc/pay/a.go"), approve("alice", "bob")),
			want:  ActionRequired},
		{name: "unresolved operator, deletion approvals: she counts for one of three", policy: policy(config.PathRule{Name: "svc", Paths: []string{"svc/**"},
			DeletionApprovals: ptr(1), Approvers: config.Approvers{Teams: []string{"acme/pay"}}}),
			facts: func() Facts {
				f := devin(unresolvedAlice, payAlice, files("svc/pay/a.go"), approve("alice", "dan"))
				f.Files[0].Status = StatusRemoved
				return f
			}(),
			want: ActionRequired},
		{name: "unresolved operator, deletion approvals with code owners: the file needs two owners too", policy: policy(config.PathRule{Name: "svc", Paths: []string{"svc/**"},
			DeletionApprovals: ptr(1), Approvers: config.Approvers{CodeOwners: true, Teams: []string{"acme/pay"}}}),
			facts: func() Facts {
				f := devin(unresolvedAlice, "/svc/pay/ @alice\n", files("svc/pay/a.go"), approve("alice", "dan", "erin"))
				f.Files[0].Status = StatusRemoved
				return f
			}(),
			want: ActionRequired, uncovered: []string{"svc/pay/a.go"}, warn: perFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			f.Repo = "acme/web"
			v := Evaluate(tc.policy, &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%q), want %s", v.Conclusion, v.Title, tc.want)
			}
			r := reqByName(v, "path:svc")
			if r == nil {
				t.Fatalf("no path:svc requirement: %+v", v.Requirements)
			}
			if strings.Join(r.Uncovered, ",") != strings.Join(tc.uncovered, ",") {
				t.Errorf("uncovered = %v, want %v", r.Uncovered, tc.uncovered)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			if !strings.Contains(v.Title, tc.title) {
				t.Errorf("title = %q, want it to say %q", v.Title, tc.title)
			}
			if tc.warn != "" {
				for _, out := range []string{v.Markdown(), v.Text()} {
					if !strings.Contains(out, tc.warn) {
						t.Errorf("check does not say %q:\n%s", tc.warn, out)
					}
				}
			}
		})
	}
}
