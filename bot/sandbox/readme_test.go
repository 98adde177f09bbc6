package sandbox

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/countersign/countersign/checks"
)

// readmeQuote returns the check text README.md quotes under "What a
// reviewer sees", without the "> " of the block quote.
func readmeQuote(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## What a reviewer sees")
	if i < 0 {
		t.Fatal(`README.md has no "What a reviewer sees" section`)
	}
	var lines []string
	for _, l := range strings.Split(s[i:], "\n") {
		if l == ">" || strings.HasPrefix(l, "> ") {
			lines = append(lines, strings.TrimPrefix(strings.TrimPrefix(l, ">"), " "))
		} else if len(lines) > 0 {
			break
		}
	}
	if len(lines) == 0 {
		t.Fatal("README.md quotes no check text")
	}
	return strings.Join(lines, "\n")
}

// shortSHA matches abbreviated commit ids, which differ on every run.
var shortSHA = regexp.MustCompile("\\b[0-9a-f]{7}\\b")

// TestReadmeStoryIsTheSandboxStory walks README.md's worked example in the
// sandbox: Bob approves pull request #1, the check shows exactly the text the
// README quotes, Dave's approval does not count, and Alice's makes it pass.
func TestReadmeStoryIsTheSandboxStory(t *testing.T) {
	want := readmeQuote(t)
	sb := start(t)
	c := newClient(t, sb)
	check := func() (string, string) {
		cr := sb.Sim.LatestCheckRun(seedRepo, sb.Sim.PR(seedRepo, 1).GetHead().GetSHA(), checks.CheckName)
		if cr == nil || cr.GetStatus() != "completed" {
			t.Fatalf("no completed check on #1: %v", cr)
		}
		return cr.GetConclusion(), cr.GetOutput().GetSummary()
	}
	if code, body := c.post("/sandbox/acme/platform/pull/1/review", url.Values{"as": {"bob"}, "event": {"APPROVE"}}); code != 200 {
		t.Fatalf("bob approves: %d\n%s", code, body)
	}
	concl, got := check()
	if concl != "action_required" {
		t.Errorf("after Bob's approval: %s, README says action_required", concl)
	}
	if shortSHA.ReplaceAllString(strings.TrimSpace(got), "SHA") != shortSHA.ReplaceAllString(strings.TrimSpace(want), "SHA") {
		t.Errorf("README.md quotes a check text the sandbox does not show.\nREADME:\n%s\n\nsandbox:\n%s", want, got)
	}
	if code, body := c.post("/sandbox/acme/platform/pull/1/review", url.Values{"as": {"dave"}, "event": {"APPROVE"}}); code != 422 || !strings.Contains(body, "Can not approve your own pull request") {
		t.Errorf("Dave approving his own pull request: %d, want GitHub's 422\n%s", code, body)
	}
	c.post("/sandbox/acme/platform/pull/1/review", url.Values{"as": {"alice"}, "event": {"APPROVE"}})
	if concl, _ := check(); concl != "success" {
		t.Errorf("after Alice's approval: %s, README says the check passes", concl)
	}
}
