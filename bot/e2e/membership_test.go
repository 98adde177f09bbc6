package e2e_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/app"
	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/server"
)

// prCalls lists the calls that read pull request number of repo.
func prCalls(calls []githubsim.Call, number int) []string {
	p := fmt.Sprintf("/repos/%s/pulls/%d", repo, number)
	var out []string
	for _, c := range calls {
		if c.Path == p || strings.HasPrefix(c.Path, p+"/") {
			out = append(out, c.Method+" "+c.Path)
		}
	}
	return out
}

// standingCase is a pull request passing on @bob's approval, and a change
// of bob's standing made on GitHub that must withdraw the pass with no
// other event than the one GitHub sends for the change itself.
type standingCase struct {
	name  string
	files map[string]string // what the agent's pull request changes
	lose  func(e *env)      // bob loses standing, as an administrator does it
	// anyone: the event does not name whose standing changed (a team's),
	// so every verdict that read anyone's standing is judged again.
	anyone bool
}

var standingCases = []standingCase{
	{
		name:  "write permission removed (member.edited)",
		files: map[string]string{"docs/guide.md": "Guide, revised\n"},
		lose:  func(e *env) { e.sim.SetCollaborator(repo, "bob", "read", "acme-owner") },
	},
	{
		name:  "collaborator removed (member.removed)",
		files: map[string]string{"docs/guide.md": "Guide, revised\n"},
		lose:  func(e *env) { e.sim.SetCollaborator(repo, "bob", "none", "acme-owner") },
	},
	{
		name:  "left the team a protected path requires (membership.removed)",
		files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"},
		lose:  func(e *env) { e.sim.RemoveTeamMember("acme", "infra", "bob", "acme-owner") },
	},
	{
		name:   "the team a protected path requires is deleted (team.deleted)",
		files:  map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"},
		lose:   func(e *env) { e.sim.DeleteTeam("acme", "infra", "acme-owner") },
		anyone: true,
	},
	{
		name:  "removed from the organization (organization.member_removed)",
		files: map[string]string{"infra/main.tf": "resource \"null_resource\" \"b\" {}\n"},
		lose:  func(e *env) { e.sim.RemoveOrgMember("acme", "bob", "acme-owner") },
	},
}

// TestLostStandingWithdrawsThePass: an approver who loses write permission,
// stops being a collaborator, leaves the approving team (or the team is
// deleted) or leaves the organization no longer keeps a pull request passing. The webhook GitHub
// sends for the change re-evaluates the open pull requests whose verdict
// read bob's standing, and only those: a pull request erin approved is not
// written again.
func TestLostStandingWithdrawsThePass(t *testing.T) {
	for _, tc := range standingCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.sim.AddUser("acme-owner")
			n, head := e.agentPR("claude/change", tc.files)
			e.sim.SubmitReview(repo, n, "bob", "APPROVE", "")
			e.check(head, "success")

			// Another pull request that never involved bob.
			other, otherHead := e.agentPR("claude/other", map[string]string{"README.md": "# infra, other\n"})
			e.sim.SubmitReview(repo, other, "erin", "APPROVE", "")
			e.check(otherHead, "success")
			if cr := e.settled(head); cr.GetConclusion() != "success" {
				t.Fatalf("bob's approval did not pass the pull request: %s", cr.GetConclusion())
			}
			calls := len(e.sim.Calls())

			tc.lose(e)
			cr := e.check(head, "action_required")
			if !contains(cr.GetOutput().GetSummary(), "bob") {
				t.Errorf("the withdrawn pass does not say why bob no longer counts:\n%s", cr.GetOutput().GetSummary())
			}
			e.idle()
			if read := prCalls(e.sim.Calls()[calls:], other); len(read) > 0 && !tc.anyone {
				t.Errorf("a pull request whose verdict never read bob's standing was evaluated again: %v", read)
			}
			if cr := e.sim.LatestCheckRun(repo, otherHead, "countersign"); cr.GetConclusion() != "success" {
				t.Errorf("the other pull request's check is %s", cr.GetConclusion())
			}
		})
	}
}

// TestGainedStandingCountsTheApproval: the other way round, an approval that
// did not count because its author lacked write permission counts once
// GitHub says the permission was granted (member.edited), without another
// event.
func TestGainedStandingCountsTheApproval(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sim.AddUser("acme-owner")
	n, head := e.agentPR("claude/change", map[string]string{"docs/guide.md": "Guide, revised\n"})
	e.sim.SubmitReview(repo, n, "carol", "APPROVE", "") // carol has read permission
	if cr := e.settled(head); cr.GetConclusion() != "action_required" {
		t.Fatalf("carol's approval counted with read permission: %s", cr.GetConclusion())
	}
	e.sim.SetCollaborator(repo, "carol", "write", "acme-owner")
	e.check(head, "success")
}

// TestReplicasShareWhoseStandingAVerdictRead: with replicas, the record of
// whose standing a verdict read lives in Redis, so the replica that runs
// the fan-out of a change of standing knows what another replica's
// verdict read. Replica B judged the pull request before bob approved (it
// read nobody); replica A judged it after (it read bob); B must not skip
// the pull request when bob loses standing.
func TestReplicasShareWhoseStandingAVerdictRead(t *testing.T) {
	url := fencetest.StartRedis(t)
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret})
	t.Cleanup(sim.Close)
	base := sim.Start()
	c := &cluster{t: t, sim: sim}
	c.setupRepo()
	n, head := c.agentPR("claude/standing")
	ctx := context.Background()
	replica := func() *app.App {
		a, err := app.New(app.Options{
			Settings: server.Settings{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), GitHubURL: base, WebhookSecret: []byte(secret)},
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)), Shared: dialShared(t, url), WithoutLanding: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
		return a
	}
	a, b := replica(), replica()
	job := server.Job{Installation: c.inst, Owner: "acme", Repo: "infra", Number: n, HeadSHA: head, Reason: "test"}
	if err := b.Evaluator.Evaluate(ctx, job); err != nil {
		t.Fatal(err)
	}
	sim.SubmitReview(repo, n, "bob", "APPROVE", "")
	if err := a.Evaluator.Evaluate(ctx, job); err != nil {
		t.Fatal(err)
	}
	if cr := sim.LatestCheckRun(repo, head, "countersign"); cr.GetConclusion() != "success" {
		t.Fatalf("bob's approval did not pass the pull request: %s", cr.GetConclusion())
	}
	reads, err := b.Evaluator.ReadsStanding(ctx, job, server.Standing{Logins: []string{"bob"}})
	if err != nil || !reads {
		t.Fatalf("replica B would not evaluate again a verdict replica A based on bob's standing: %v, %v", reads, err)
	}
	reads, err = b.Evaluator.ReadsStanding(ctx, job, server.Standing{Logins: []string{"erin"}})
	if err != nil || reads {
		t.Errorf("replica B would evaluate again a verdict that never read erin's standing: %v, %v", reads, err)
	}
}

// dialShared connects to the test's Redis as one replica does, closed when the test ends.
func dialShared(t *testing.T, url string) *fence.Redis {
	t.Helper()
	f, err := fence.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
