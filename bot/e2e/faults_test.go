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
			if n := len(e.sim.CheckRuns(repo, head)); n != 1 {
				t.Errorf("%d check runs on the head, want 1", n)
			}
		})
	}
}
