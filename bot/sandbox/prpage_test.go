package sandbox

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// item returns the HTML of the conversation entry with that id on a page.
func item(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("the page shows no %s", id)
	}
	j := strings.Index(page[i:], "</article>")
	if j < 0 {
		t.Fatalf("%s is not closed", id)
	}
	return page[i : i+j]
}

// TestPRPageShowsWhatCountedAndTheCheckHistory: on the sandbox's page of a
// pull request, each review and comment says whether it counted and why,
// the bot's reactions to commands show, and the check's history on the
// head lists every countersign check run written, newest first.
func TestPRPageShowsWhatCountedAndTheCheckHistory(t *testing.T) {
	sb := start(t)
	c := newClient(t, sb)
	code, body := c.post("/sandbox/acme/platform/pulls", url.Values{"as": {"dave"}, "writer": {"claude"}, "title": {"Scale the API"},
		"path": {"deploy/k8s/api/deployment.yaml"}, "content": {"replicas: 10\n"}, "body": {"For the launch."}})
	if code != http.StatusOK {
		t.Fatalf("open: %d\n%.300s", code, body)
	}
	n := len(sb.pullRequests())
	page := "/sandbox/acme/platform/pull/" + strconv.Itoa(n)

	// carol has read access: her approval does not count.
	if code, body := c.post(page+"/review", url.Values{"as": {"carol"}, "event": {"APPROVE"}, "body": {"lgtm"}}); code != http.StatusOK {
		t.Fatalf("carol's review: %d\n%.300s", code, body)
	}
	// alice (acme/sre) approves: it counts.
	if code, body := c.post(page+"/review", url.Values{"as": {"alice"}, "event": {"APPROVE"}}); code != http.StatusOK {
		t.Fatalf("alice's review: %d\n%.300s", code, body)
	}
	// bob asks for an explanation: the bot carries it out and reacts 👍.
	if code, body := c.post(page+"/comment", url.Values{"as": {"bob"}, "body": {"/countersign explain"}}); code != http.StatusOK {
		t.Fatalf("bob's comment: %d\n%.300s", code, body)
	}
	// The command's re-evaluation may still be running when the page returns
	// (the page then refreshes itself): wait for it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		head := sb.Sim.PR(seedRepo, n).GetHead().GetSHA()
		if cr := sb.Sim.LatestCheckRun(seedRepo, head, "countersign"); cr != nil && cr.GetConclusion() == "success" {
			break
		}
		if time.Now().After(deadline) {
			v := verdictOf(t, sb, n)
			t.Fatalf("after alice's approval the check is not success: %s %+v", v.Title, v.Excluded)
		}
	}
	if err := sb.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}

	code, html := c.get(sb.URL() + strings.TrimPrefix(page, "/"))
	if code != http.StatusOK {
		t.Fatalf("the page answered %d", code)
	}
	reviews := sb.Sim.Reviews(seedRepo, n)
	if len(reviews) != 2 {
		t.Fatalf("%d reviews, want carol's and alice's", len(reviews))
	}
	carol := item(t, html, "review-"+strconv.FormatInt(reviews[0].GetID(), 10))
	for _, want := range []string{"@carol", "approved", `data-counted="no"`, "not counted", "insufficient_permission", "@carol has read permission"} {
		if !strings.Contains(carol, want) {
			t.Errorf("carol's review does not show %q:\n%s", want, carol)
		}
	}
	alice := item(t, html, "review-"+strconv.FormatInt(reviews[1].GetID(), 10))
	for _, want := range []string{"@alice", "approved", `data-counted="yes"`, "counted for", "agent-review", "path:kubernetes"} {
		if !strings.Contains(alice, want) {
			t.Errorf("alice's approval does not show %q:\n%s", want, alice)
		}
	}
	if strings.Contains(alice, "not counted") {
		t.Errorf("alice's approval is shown as not counted:\n%s", alice)
	}
	var bobID int64
	for _, cm := range sb.Sim.Comments(seedRepo, n) {
		if cm.GetUser().GetLogin() == "bob" {
			bobID = cm.GetID()
		}
	}
	bob := item(t, html, "comment-"+strconv.FormatInt(bobID, 10))
	for _, want := range []string{"@bob", "/countersign explain", `data-reaction="&#43;1"`, "👍", "@countersign[bot]"} {
		if !strings.Contains(bob, want) {
			t.Errorf("bob's command does not show %q:\n%s", want, bob)
		}
	}

	// The check's history on the head: success (newest) above action_required.
	i := strings.Index(html, `id="check-history"`)
	if i < 0 {
		t.Fatal("the page has no check history")
	}
	history := html[i:]
	history = history[:strings.Index(history, "</table>")]
	var got []string
	for _, m := range regexp.MustCompile(`data-conclusion="([a-z_]*)"`).FindAllStringSubmatch(history, -1) {
		if m[1] != "" && (len(got) == 0 || got[len(got)-1] != m[1]) {
			got = append(got, m[1])
		}
	}
	if strings.Join(got, ",") != "success,action_required" {
		t.Errorf("the history's conclusions, newest first, are %v; want success then action_required", got)
	}
	if !strings.Contains(history, "Needs 1 independent approval") || !strings.Contains(history, "<td class=\"mono\">") {
		t.Errorf("the history does not show the titles and times:\n%s", history)
	}
	writes := 0
	head := sb.Sim.PR(seedRepo, n).GetHead().GetSHA()
	for _, w := range sb.Sim.CheckRunWrites() {
		if w.HeadSHA == head && w.Name == "countersign" {
			writes++
		}
	}
	if rows := strings.Count(history, "<tr class=\"run\""); rows != writes {
		t.Errorf("the history lists %d writes, the simulator recorded %d", rows, writes)
	}
}
