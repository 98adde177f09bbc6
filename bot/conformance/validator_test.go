//go:build conformance

package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// These tests check the checkers: a validator that accepts everything would
// make every other test in this package pass.

// hasProblem reports whether some problem is at ptr and mentions word.
func hasProblem(ps []Problem, ptr, word string) bool {
	for _, p := range ps {
		if p.Pointer == ptr && strings.Contains(p.Message, word) {
			return true
		}
	}
	return false
}

func TestSpecRejectsBadCheckRunRequests(t *testing.T) {
	s := loadSpec(t)
	const route = "/repos/{owner}/{repo}/check-runs"
	action := func(i int) map[string]any {
		return map[string]any{"label": fmt.Sprintf("Fix %d", i), "description": "Re-run", "identifier": fmt.Sprintf("fix%d", i)}
	}
	annotations := func(n int) []any {
		var out []any
		for i := 0; i < n; i++ {
			out = append(out, map[string]any{"path": "a.go", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"})
		}
		return out
	}
	valid := map[string]any{
		"name": "countersign", "head_sha": strings.Repeat("a", 40), "status": "completed", "conclusion": "failure",
		"output":  map[string]any{"title": "t", "summary": "s", "annotations": annotations(50)},
		"actions": []any{action(1), action(2), action(3)},
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range valid {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name     string
		body     map[string]any
		ptr, msg string // "" = valid
	}{
		{"valid", valid, "", ""},
		{"four actions", with("actions", []any{action(1), action(2), action(3), action(4)}), "/actions", "maximum number of items is 3"},
		{"51 annotations", with("output", map[string]any{"title": "t", "summary": "s", "annotations": annotations(51)}), "/output/annotations", "maximum number of items is 50"},
		{"bad conclusion", with("conclusion", "passed"), "/conclusion", "GitHub allows"},
		{"bad status", with("status", "done"), "/status", "GitHub allows"},
		{"missing head_sha", func() map[string]any { m := with("x", nil); delete(m, "x"); delete(m, "head_sha"); return m }(), "/head_sha", "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.body)
			ps := s.ValidateRequest("POST", route, b)
			if tc.ptr == "" {
				if len(ps) != 0 {
					t.Fatalf("valid request rejected: %v", ps)
				}
				return
			}
			if !hasProblem(ps, tc.ptr, tc.msg) {
				t.Fatalf("want a problem at %s mentioning %q, got %v", tc.ptr, tc.msg, ps)
			}
		})
	}
}

func TestSpecChecksResponses(t *testing.T) {
	s := loadSpec(t)
	const route = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
	var run map[string]any
	// A check run as GitHub's own example shows it.
	op, err := s.Operation("GET", route)
	if err != nil {
		t.Fatal(err)
	}
	ex := op.Responses.Status(200).Value.Content.Get("application/json").Examples["default"]
	if ex == nil || ex.Value == nil {
		t.Fatal("GitHub's description has no example check run")
	}
	b, _ := json.Marshal(ex.Value.Value)
	if ps := s.ValidateResponse("GET", route, 200, b); len(ps) != 0 {
		t.Fatalf("GitHub's own example is rejected: %v", ps)
	}
	json.Unmarshal(b, &run)

	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(b, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	for _, tc := range []struct {
		name     string
		status   int
		body     []byte
		ptr, msg string
	}{
		{"no id", 200, mutate(func(m map[string]any) { delete(m, "id") }), "/id", "missing"},
		{"conclusion enum", 200, mutate(func(m map[string]any) { m["conclusion"] = "passed" }), "/conclusion", "GitHub allows"},
		{"status enum", 200, mutate(func(m map[string]any) { m["status"] = "done" }), "/status", "GitHub allows"},
		{"bad time", 200, mutate(func(m map[string]any) { m["started_at"] = "yesterday" }), "/started_at", "date-time"},
		{"string id", 200, mutate(func(m map[string]any) { m["id"] = "1" }), "/id", "integer"},
		{"undocumented success", 201, b, "", "not a documented response"},
		{"undocumented error without message", 500, []byte(`{"error":"boom"}`), "/message", "missing"},
		{"304 with a body", 304, b, "", "has no body"},
		{"not JSON", 200, []byte("<html>"), "", "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := s.ValidateResponse("GET", route, tc.status, tc.body)
			if !hasProblem(ps, tc.ptr, tc.msg) {
				t.Fatalf("want a problem at %q mentioning %q, got %v", tc.ptr, tc.msg, ps)
			}
		})
	}
	if ps := s.ValidateResponse("GET", route, 500, []byte(`{"message":"Server Error","documentation_url":"https://docs.github.com/rest"}`)); len(ps) != 0 {
		t.Errorf("a GitHub-shaped 500 is rejected: %v", ps)
	}
	if ps := s.ValidateResponse("GET", "/repos/{owner}/{repo}/check-run/{id}", 200, b); !hasProblem(ps, "", "not in GitHub's REST API description") {
		t.Errorf("an unknown route is accepted: %v", ps)
	}
	if ps := s.ValidateResponse("DELETE", route, 204, nil); !hasProblem(ps, "", "not an operation") {
		t.Errorf("an unknown method is accepted: %v", ps)
	}
	// A 304 carries no body.
	if ps := s.ValidateResponse("GET", "/repos/{owner}/{repo}/pulls", 304, nil); len(ps) != 0 {
		t.Errorf("an empty 304 is rejected: %v", ps)
	}
	if ps := s.ValidateResponse("GET", "/repos/{owner}/{repo}/pulls", 304, []byte("[]")); !hasProblem(ps, "", "no body") {
		t.Errorf("a 304 with a body is accepted: %v", ps)
	}
	// Any conditional GET may be answered 304, documented or not.
	if ps := s.ValidateResponse("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", 304, nil); len(ps) != 0 {
		t.Errorf("an empty 304 on an operation that documents none is rejected: %v", ps)
	}
	// ghinstallation asks for a token with a JSON null body.
	if ps := s.ValidateRequest("POST", "/app/installations/{installation_id}/access_tokens", []byte("null")); len(ps) != 0 {
		t.Errorf("ghinstallation's null body is rejected: %v", ps)
	}
}

// handledEvents are the webhook events Countersign acts on.
var handledEvents = []string{"pull_request", "pull_request_review", "check_run", "check_suite", "installation",
	"installation_repositories", "push", "issue_comment", "merge_group"}

func TestWebhookSchemasRejectBadPayloads(t *testing.T) {
	w := loadHooks(t)
	var base []byte
	for _, ex := range loadExamples(t, "pull_request") {
		if ex.Action == "opened" {
			base = ex.Body
			break
		}
	}
	if base == nil {
		t.Fatal("no pull_request.opened example")
	}
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(base, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	pr := func(m map[string]any) map[string]any { return m["pull_request"].(map[string]any) }
	// GitHub's examples are older than its schemas (they lack fields added
	// since, such as repository.custom_properties), so each mutation must
	// add the expected problem to those the unchanged example already has.
	baseline := map[Problem]bool{}
	for _, p := range w.Validate("pull_request", "opened", base) {
		baseline[p] = true
	}
	for _, tc := range []struct {
		name, action string
		body         []byte
		ptr, msg     string
	}{
		{"no sender", "opened", mutate(func(m map[string]any) { delete(m, "sender") }), "", "sender"},
		{"state enum", "opened", mutate(func(m map[string]any) { pr(m)["state"] = "bogus" }), "/pull_request/state", "bogus"},
		{"number as string", "opened", mutate(func(m map[string]any) { m["number"] = "7" }), "/number", "integer"},
		{"invented field", "opened", mutate(func(m map[string]any) { m["surprise"] = true }), "", "surprise"},
		{"action mismatch", "synchronize", base, "/action", "opened"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []Problem
			for _, p := range w.Validate("pull_request", tc.action, tc.body) {
				if !baseline[p] {
					ps = append(ps, p)
				}
			}
			if !hasProblem(ps, tc.ptr, tc.msg) {
				t.Fatalf("want a problem at %q mentioning %q, got %v", tc.ptr, tc.msg, ps)
			}
		})
	}
	if ps := w.Validate("pull_request", "teleported", base); !hasProblem(ps, "", "describes no") {
		t.Errorf("an unknown action is accepted: %v", ps)
	}
}
