package server

import (
	"fmt"
	"net/http"
	"testing"
)

// commentPayload is an issue_comment delivery of acme/widgets#17.
func commentPayload(action, login, userType, body string, onPR bool) []byte {
	pr := ""
	if onPR {
		pr = `"pull_request":{"url":"https://api.github.com/repos/acme/widgets/pulls/17"},`
	}
	return fmt.Appendf(nil, `{"action":%q,"issue":{"number":17,%s"title":"t"},
"comment":{"id":99,"body":%q,"user":{"login":%q,"type":%q},"created_at":"2026-01-01T00:00:00Z"},
"changes":{"body":{"from":"/countersign approve"}},
"repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}},
"installation":{"id":4242},"sender":{"login":%q,"type":%q}}`, action, pr, body, login, userType, login, userType)
}

func TestIssueCommentsBecomeJobs(t *testing.T) {
	fb := newFakeBackend() // no Interactions: only the re-evaluations
	ts := newTestServer(t, fb, Options{})
	tests := []struct {
		name   string
		body   []byte
		evalua bool
	}{
		{"approve", commentPayload("created", "bob", "User", "/countersign approve", true), true},
		{"override", commentPayload("created", "erin", "User", "ok\n/countersign override incident", true), true},
		{"explain changes nothing", commentPayload("created", "bob", "User", "/countersign explain", true), false},
		{"no command", commentPayload("created", "bob", "User", "LGTM", true), false},
		{"quoted", commentPayload("created", "bob", "User", "> /countersign approve", true), false},
		{"bot", commentPayload("created", "helper[bot]", "Bot", "/countersign approve", true), false},
		{"issue, not a pull request", commentPayload("created", "bob", "User", "/countersign approve", false), false},
		{"edited approval", commentPayload("edited", "bob", "User", "nothing now", true), true},
		{"deleted approval", commentPayload("deleted", "bob", "User", "/countersign approve", true), true},
		{"deleted remark", commentPayload("deleted", "bob", "User", "LGTM", true), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("c-%d", i)
			if rec := ts.deliver(t, "issue_comment", id, tt.body); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			ts.waitIdle(t)
			n := 0
			for _, j := range fb.jobs() {
				if j.DeliveryID == id {
					n++
					if j.Key() != "acme/widgets#17" || j.Installation != 4242 {
						t.Errorf("job %+v", j)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.evalua]; n != want {
				t.Fatalf("%d evaluations, want %d", n, want)
			}
		})
	}
}
