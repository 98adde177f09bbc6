package server

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-github/v62/github"
)

// standingBackend has two repositories of acme; the verdicts of #1, #2 and
// #3 read bob's, erin's and carol's standing; that of gadgets#4 is unknown.
func standingBackend() *fakeBackend {
	fb := newFakeBackend()
	fb.repos[4242] = []string{"acme/widgets", "acme/gadgets", "other/elsewhere"}
	fb.prs["acme/widgets"] = []Job{{Owner: "acme", Repo: "widgets", Number: 1, HeadSHA: "a"},
		{Owner: "acme", Repo: "widgets", Number: 2, HeadSHA: "b"}, {Owner: "acme", Repo: "widgets", Number: 3, HeadSHA: "c"}}
	fb.prs["acme/gadgets"] = []Job{{Owner: "acme", Repo: "gadgets", Number: 4, HeadSHA: "d"}}
	fb.prs["other/elsewhere"] = []Job{{Owner: "other", Repo: "elsewhere", Number: 5, HeadSHA: "e"}}
	fb.read = map[string][]string{"acme/widgets#1": {"bob"}, "acme/widgets#2": {"erin"}, "acme/widgets#3": {"carol"}, "other/elsewhere#5": {"bob"}}
	return fb
}

func evaluatedKeys(fb *fakeBackend) []string {
	var got []string
	for _, j := range fb.jobs() {
		got = append(got, j.Key())
	}
	slices.Sort(got)
	return slices.Compact(got)
}

var acmeOrg = &github.Organization{Login: github.String("acme")}

// TestStandingChangesFanOutToTheVerdictsThatReadThem: a burst of membership
// events for two people re-evaluates, in the organization's repositories,
// the pull requests whose verdict read either of them and those whose
// record is unknown, and no other: the two fan-outs do not coalesce.
func TestStandingChangesFanOutToTheVerdictsThatReadThem(t *testing.T) {
	fb := standingBackend()
	ts := newTestServer(t, fb, Options{})
	inst := &github.Installation{ID: github.Int64(4242)}
	for i, login := range []string{"Bob", "erin"} {
		body := mustJSON(t, &github.MembershipEvent{Action: github.String("removed"), Scope: github.String("team"),
			Member: &github.User{Login: github.String(login)}, Team: &github.Team{Slug: github.String("infra")},
			Org: acmeOrg, Installation: inst})
		if rec := ts.deliver(t, "membership", "m-"+login, body); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d (%s)", i, rec.Code, rec.Body)
		}
	}
	ts.waitIdle(t)
	if got, want := evaluatedKeys(fb), []string{"acme/gadgets#4", "acme/widgets#1", "acme/widgets#2"}; !slices.Equal(got, want) {
		t.Fatalf("evaluated %v, want %v", got, want)
	}
}

// TestStandingEventsMapToTheirScope: a collaborator's change covers its
// repository; a team's change with a repository covers that repository and
// every verdict that read anyone's standing there; an organization member's
// removal covers the organization's repositories.
func TestStandingEventsMapToTheirScope(t *testing.T) {
	inst := &github.Installation{ID: github.Int64(4242)}
	cases := []struct {
		name, event string
		payload     any
		want        []string
	}{
		{"member.edited", "member", &github.MemberEvent{Action: github.String("edited"), Member: &github.User{Login: github.String("bob")},
			Repo: repoObj("acme/widgets"), Installation: inst}, []string{"acme/widgets#1"}},
		{"team.removed_from_repository", "team", &github.TeamEvent{Action: github.String("removed_from_repository"),
			Team: &github.Team{Slug: github.String("infra")}, Repo: repoObj("acme/widgets"), Org: acmeOrg, Installation: inst},
			[]string{"acme/widgets#1", "acme/widgets#2", "acme/widgets#3"}},
		{"team.deleted", "team", &github.TeamEvent{Action: github.String("deleted"), Team: &github.Team{Slug: github.String("infra")},
			Org: acmeOrg, Installation: inst}, []string{"acme/gadgets#4", "acme/widgets#1", "acme/widgets#2", "acme/widgets#3"}},
		{"organization.member_removed", "organization", &github.OrganizationEvent{Action: github.String("member_removed"),
			Membership: &github.Membership{User: &github.User{Login: github.String("carol")}}, Organization: acmeOrg, Installation: inst},
			[]string{"acme/gadgets#4", "acme/widgets#3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fb := standingBackend()
			ts := newTestServer(t, fb, Options{})
			if rec := ts.deliver(t, tc.event, "d-1", mustJSON(t, tc.payload)); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			ts.waitIdle(t)
			if got := evaluatedKeys(fb); !slices.Equal(got, tc.want) {
				t.Fatalf("evaluated %v, want %v", got, tc.want)
			}
		})
	}
}
