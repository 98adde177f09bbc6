package githubsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/ghfacts"
)

// TestGraphQLCommitAuthors: Commit.authors lists the git author and each
// Co-authored-by trailer; GitActor.user is the account that verified the
// address (null for an address nobody verified and for bots), and the
// client reads it back.
func TestGraphQLCommitAuthors(t *testing.T) {
	f := setup(t, Options{})
	f.sim.AddVerifiedEmail("alice", "alice@acme.example")
	f.sim.AddBot("devin-ai-integration[bot]", 158243242)
	devin := Identity{Name: "Devin AI", Email: "158243242+devin-ai-integration[bot]@users.noreply.github.com"}
	c1 := f.sim.Push("acme/widgets", "devin/1-x", CommitSpec{Author: devin, Message: "Add retries\n\nCo-Authored-By: Alice <Alice@acme.example>\nCo-authored-by: Nobody <nobody@acme.example>",
		Files: map[string]string{"a.txt": "x\n"}})
	c2 := f.sim.Push("acme/widgets", "devin/1-x", CommitSpec{Author: devin, Message: "Co-authored-by: Alice <alice@acme.example>", Files: map[string]string{"a.txt": "y\n"}})
	logins, err := ghfacts.CommitAuthors(ctx(t), f.client, "acme", "widgets", []string{c1, c2})
	if err != nil {
		t.Fatal(err)
	}
	if len(logins) != 1 || logins["alice@acme.example"] != "alice" {
		t.Errorf("logins = %v, want alice@acme.example: alice only", logins)
	}

	// The same fact in the REST commit object: alice's verified address
	// makes her the author of a commit she wrote under it.
	c3 := f.sim.Push("acme/widgets", "devin/1-x", CommitSpec{Author: Identity{Name: "Alice", Email: "alice@acme.example"}, Message: "Tidy", Files: map[string]string{"a.txt": "z\n"}})
	rc, _, err := f.client.Repositories.GetCommit(ctx(t), "acme", "widgets", c3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetAuthor().GetLogin() != "alice" {
		t.Errorf("REST author = %q, want alice", rc.GetAuthor().GetLogin())
	}

	raw := func(body string) (int, map[string]any) {
		t.Helper()
		req, _ := f.client.NewRequest(http.MethodPost, f.base+"graphql", json.RawMessage(body))
		var buf bytes.Buffer
		resp, _ := f.client.Do(ctx(t), req, &buf)
		if resp == nil {
			t.Fatalf("no response to %s", body)
		}
		var m map[string]any
		_ = json.Unmarshal(buf.Bytes(), &m)
		if m == nil {
			b, _ := io.ReadAll(resp.Body)
			t.Logf("body: %s", b)
		}
		return resp.StatusCode, m
	}
	errorsOf := func(m map[string]any) string {
		b, _ := json.Marshal(m["errors"])
		return string(b)
	}
	// Strict: a field GitHub's Commit does not have is a validation error.
	status, m := raw(`{"query":"query { repository(owner: \"acme\", name: \"widgets\") { object(oid: \"` + c1 + `\") { ... on Commit { authorz { totalCount } } } } }"}`)
	if status != 200 || m["data"] != nil || !strings.Contains(errorsOf(m), "authorz") || !strings.Contains(errorsOf(m), "locations") {
		t.Errorf("unknown field: %d %v", status, m)
	}
	// Connections need first or last, as on GitHub.
	_, m = raw(`{"query":"query { repository(owner: \"acme\", name: \"widgets\") { object(oid: \"` + c1 + `\") { ... on Commit { authors { totalCount } } } } }"}`)
	if !strings.Contains(errorsOf(m), "MISSING_PAGINATION_BOUNDARIES") {
		t.Errorf("authors without first: %v", m)
	}
	_, m = raw(`{"query":"query { repository(owner: \"acme\", name: \"widgets\") { object(oid: \"` + c1 + `\") { ... on Commit { authors(first: 101) { totalCount } } } } }"}`)
	if !strings.Contains(errorsOf(m), "EXCESSIVE_PAGINATION") {
		t.Errorf("authors(first: 101): %v", m)
	}
	// A repository the installation cannot see is NOT_FOUND, with data.repository null.
	_, m = raw(`{"query":"query { repository(owner: \"acme\", name: \"secret\") { name } }"}`)
	if !strings.Contains(errorsOf(m), `"type":"NOT_FOUND"`) || !strings.Contains(errorsOf(m), `"path":["repository"]`) {
		t.Errorf("unknown repository: %v", m)
	}
	// A body that is not JSON is GitHub's 400.
	if status, _ := raw(`{"query": 1}`); status != http.StatusBadRequest {
		t.Errorf("bad body: status %d, want 400", status)
	}
	// Without a token: 401.
	resp, err := http.Post(f.base+"graphql", "application/json", strings.NewReader(`{"query":"{ repository(owner:\"acme\",name:\"widgets\"){name} }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", resp.StatusCode)
	}
}
