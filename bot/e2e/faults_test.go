package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestAPIFaultsNeverPass: GitHub failing mid-evaluation (server errors,
// primary and secondary rate limits, as 403 and as 429) never yields a
// passing check, and once GitHub recovers the check converges to the right
// verdict.
func TestAPIFaultsNeverPass(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   githubsim.Fault
		status  int
		primary bool
	}{
		{"server error", githubsim.Fault{Status: 500}, 500, false},
		{"primary rate limit", githubsim.Fault{PrimaryRateLimit: true}, 403, true},
		{"secondary rate limit 403", githubsim.Fault{SecondaryRateLimit: true, RetryAfter: time.Second}, 403, false},
		{"secondary rate limit 429", githubsim.Fault{SecondaryRateLimit: true, Status: 429, RetryAfter: time.Second}, 429, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			f := tc.fault
			f.Method, f.Route = "GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"
			remove := e.sim.Inject(f)

			// A human docs PR: success is the right verdict once the facts can be read.
			head := e.sim.Push(repo, "docs", githubsim.CommitSpec{Author: dave, Message: "Docs", Files: map[string]string{"docs/guide.md": "New\n"}})
			e.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: "docs", Base: "main", Title: "Docs"})

			e.eventually("GitHub failed a call mid-evaluation", func() bool {
				for _, c := range e.sim.Calls() {
					if c.Route == f.Route && c.Status == tc.status {
						return true
					}
				}
				return false
			})
			if !tc.primary {
				// The check-run API still works: the failure is published.
				e.eventually("a failing check is published", func() bool {
					for _, w := range e.writes(head) {
						if w.Conclusion == "failure" && strings.HasPrefix(w.Title, "Could not evaluate: ") {
							return true
						}
					}
					return false
				})
			}
			during := len(e.writes(head))
			remove()
			if tc.primary {
				// The limit lifts when its window resets.
				e.clock.Add(2 * time.Hour)
			}
			e.check(head, "success")
			ws := e.writes(head)
			for i, w := range ws {
				if i < during && w.Conclusion == "success" {
					t.Errorf("write %d passed while GitHub was failing: %+v", i, w)
				}
				switch w.Conclusion {
				case "", "success", "failure", "action_required":
				default:
					t.Errorf("write %d concluded %q", i, w.Conclusion)
				}
				if strings.Contains(w.Title+w.Summary, "ghs_") || strings.Contains(w.Title+w.Summary, "PRIVATE KEY") {
					t.Errorf("write %d leaks a secret: %q", i, w.Title)
				}
			}
			if last := ws[len(ws)-1]; last.Conclusion != "success" {
				t.Errorf("last write %+v, want success", last)
			}
			e.runsJustified(head)
		})
	}
}

// TestAPIFaultsNeverPassAPRThatNeedsApproval: an agent's Terraform change
// approved only by someone who cannot approve it, while GitHub fails at
// random on every read the verdict rests on (server errors, primary and
// secondary rate limits). No write in the head's whole history is ever a
// pass; once GitHub recovers the verdict is action_required, on one run.
func TestAPIFaultsNeverPassAPRThatNeedsApproval(t *testing.T) {
	routes := []string{
		"/repos/{owner}/{repo}/pulls/{pull_number}",
		"/repos/{owner}/{repo}/compare/{basehead}",
		"/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
		"/repos/{owner}/{repo}/contents/{path}",
		"/repos/{owner}/{repo}/collaborators/{username}/permission",
		"/orgs/{org}/teams/{team_slug}/members",
		"/repos/{owner}/{repo}/commits/{ref}/check-runs",
	}
	for _, tc := range []struct {
		name    string
		fault   githubsim.Fault
		primary bool
	}{
		{"server error", githubsim.Fault{Status: 502}, false},
		{"primary rate limit", githubsim.Fault{PrimaryRateLimit: true}, true},
		{"secondary rate limit 403", githubsim.Fault{SecondaryRateLimit: true, RetryAfter: time.Second}, false},
		{"secondary rate limit 429", githubsim.Fault{SecondaryRateLimit: true, Status: 429, RetryAfter: time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			var removes []func()
			for _, r := range routes {
				f := tc.fault
				f.Method, f.Route, f.Probability = "GET", r, 0.5
				removes = append(removes, e.sim.Inject(f))
			}
			n, head := e.agentPR("claude/tf", map[string]string{"infra/main.tf": "resource \"null_resource\" \"f\" {}\n"})
			e.sim.SubmitReview(repo, n, "carol", "APPROVE", "") // read access: cannot approve
			e.eventually("GitHub failed calls mid-evaluation", func() bool {
				failed := 0
				for _, c := range e.sim.Calls() {
					if c.Status == 502 || c.Status == 403 || c.Status == 429 {
						failed++
					}
				}
				// A primary limit stops every call of the installation until it resets.
				return failed >= 3 || (tc.primary && failed >= 1)
			})
			if !tc.primary {
				// Redeliveries and the sweep repair what the faults broke.
				sweepNow(t, e.srv)
			}
			for _, rm := range removes {
				rm()
			}
			if tc.primary {
				e.clock.Add(2 * time.Hour)
			}
			sweepNow(t, e.srv)
			e.check(head, "action_required")
			e.idle()
			e.neverPassed(head)
			e.runsJustified(head)
			for i, w := range e.writes(head) {
				if w.Status == "completed" && w.Conclusion != "action_required" && !strings.HasPrefix(w.Title, "Could not evaluate: ") {
					t.Errorf("write %d concluded %s (%q) on incomplete facts", i, w.Conclusion, w.Title)
				}
			}
		})
	}
}
