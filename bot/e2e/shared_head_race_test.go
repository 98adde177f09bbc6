package e2e_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
)

// TestSharedHeadPassReadBeforeADismissalIsNotPublished: #1 and #2 share a
// head, so #2's evaluation judges #1 too before it publishes a pass. When
// bob's approval of #1 is dismissed after #2's evaluation read it, and #1's
// own evaluation writes action_required before #2's publishes, #2's pass
// (judged on #1's old reviews) must not be what the head shows: the head's
// check is written by another evaluation meanwhile, so #2 judges again.
// Nothing else would re-evaluate #2: the sweep sees a check newer than its
// last change.
func TestSharedHeadPassReadBeforeADismissalIsNotPublished(t *testing.T) {
	e := newEnv(t, envOptions{})
	n1, sha := e.agentPR("feature", map[string]string{"src/app.go": "package app\n"})
	e.check(sha, "action_required")
	e.sim.Push(repo, "release", githubsim.CommitSpec{Author: dave, Message: "Release notes", Files: map[string]string{"docs/release.md": "r\n"}})
	n2 := e.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: "feature", Base: "release", Title: "Same change"})
	review := e.sim.SubmitReview(repo, n1, "bob", "APPROVE", "")
	e.sim.SubmitReview(repo, n2, "bob", "APPROVE", "")
	e.check(sha, "success")
	e.idle()

	// #2's evaluation reads bob's permission twice: for #2, then for #1
	// after #1's reviews. The second read is held while the dismissal of
	// bob's review of #1 is evaluated and written.
	var (
		mu    sync.Mutex
		reads int
		held  bool
	)
	dismissed := make(chan struct{})
	remove := e.sim.Inject(githubsim.Fault{Method: http.MethodGet, Route: "/repos/{owner}/{repo}/collaborators/{username}/permission",
		Hold: func(r *http.Request, _ []byte) {
			mu.Lock()
			reads++
			hold := reads == 2
			held = held || hold
			mu.Unlock()
			if !hold {
				return
			}
			e.sim.DismissReview(repo, n1, review, "carol")
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if cr := e.sim.LatestCheckRun(repo, sha, "countersign"); cr.GetStatus() == "completed" && cr.GetConclusion() == "action_required" {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			close(dismissed)
		}})
	defer remove()
	e.sim.AddLabel(repo, n2, "again", "alice")
	select {
	case <-dismissed:
	case <-time.After(20 * time.Second):
		t.Fatal("#2's evaluation never read bob's permission a second time; the test no longer holds it where it judges #1")
	}
	e.idle()
	remove()
	if !held {
		t.Fatal("nothing was held")
	}
	cr := e.settled(sha)
	if cr.GetConclusion() == "success" {
		t.Fatalf("the shared head shows %s %q after #1's approval was dismissed: #2's pass, judged on #1's old reviews, was published last", cr.GetConclusion(), cr.GetOutput().GetTitle())
	}
}
