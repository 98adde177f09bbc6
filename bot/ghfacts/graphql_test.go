package ghfacts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestGraphQLURL(t *testing.T) {
	for base, want := range map[string]string{
		"https://api.github.com/":          "https://api.github.com/graphql",
		"https://ghe.example/api/v3/":      "https://ghe.example/api/graphql",
		"http://127.0.0.1:8080/":           "http://127.0.0.1:8080/graphql",
		"http://127.0.0.1:8080/prefix/v4/": "http://127.0.0.1:8080/prefix/v4/graphql",
	} {
		c := github.NewClient(nil)
		c.BaseURL, _ = url.Parse(base)
		if got := GraphQLURL(c); got != want {
			t.Errorf("GraphQLURL(%s) = %s, want %s", base, got, want)
		}
	}
}

// TestCommitAuthors: one POST /graphql names each commit by id; addresses
// tied to an account come back by lower-case address; an answer with errors,
// or one that ties an address to two logins, resolves nothing it cannot be
// sure of.
func TestCommitAuthors(t *testing.T) {
	sha := func(c byte) string { return strings.Repeat(string(c), 40) }
	cases := []struct {
		name    string
		status  int
		body    string
		want    map[string]string
		wantErr bool
	}{
		{"co-authors tied to accounts", 200, `{"data":{"repository":{
			"c0":{"authors":{"nodes":[{"email":"devin@x","name":"Devin","user":null},{"email":"Alice@Acme.example","name":"Alice","user":{"login":"alice"}}]}},
			"c1":{"authors":{"nodes":[{"email":"bob@acme.example","name":"Bob","user":{"login":"bob"}}]}}}}}`,
			map[string]string{"alice@acme.example": "alice", "bob@acme.example": "bob"}, false},
		{"an address tied to two logins is left out", 200, `{"data":{"repository":{
			"c0":{"authors":{"nodes":[{"email":"a@x","name":"A","user":{"login":"one"}}]}},
			"c1":{"authors":{"nodes":[{"email":"A@x","name":"A","user":{"login":"two"}}]}}}}}`, map[string]string{}, false},
		{"a commit GitHub does not know is null", 200, `{"data":{"repository":{"c0":null,"c1":{"authors":{"nodes":[]}}}}}`, map[string]string{}, false},
		{"GraphQL errors fail", 200, `{"errors":[{"message":"Field 'authorz' doesn't exist on type 'Commit'","locations":[{"line":3,"column":40}]}]}`, nil, true},
		{"partial data with errors fails", 200, `{"data":{"repository":{"c0":{"authors":{"nodes":[{"email":"a@x","user":{"login":"a"}}]}}}},"errors":[{"type":"NOT_FOUND","message":"Could not resolve"}]}`, nil, true},
		{"rate limited fails", 403, `{"message":"API rate limit exceeded"}`, nil, true},
		{"no repository fails", 200, `{"data":{"repository":null}}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Query     string         `json:"query"`
				Variables map[string]any `json:"variables"`
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/graphql" {
					t.Errorf("request %s %s, want POST /graphql", r.Method, r.URL.Path)
				}
				b, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(b, &got); err != nil {
					t.Errorf("body %s: %v", b, err)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := github.NewClient(nil)
			c.BaseURL, _ = url.Parse(srv.URL + "/")
			logins, err := CommitAuthors(context.Background(), c, "acme", "web", []string{sha('a'), sha('b')})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && len(logins) != len(tc.want) {
				t.Errorf("logins = %v, want %v", logins, tc.want)
			}
			for a, l := range tc.want {
				if logins[a] != l {
					t.Errorf("logins[%s] = %q, want %q", a, logins[a], l)
				}
			}
			if got.Variables["owner"] != "acme" || got.Variables["name"] != "web" || got.Variables["c0"] != sha('a') || got.Variables["c1"] != sha('b') {
				t.Errorf("variables = %v", got.Variables)
			}
			if !strings.Contains(got.Query, "c1: object(oid: $c1)") || !strings.Contains(got.Query, "authors(first:") {
				t.Errorf("query = %s", got.Query)
			}
		})
	}
	if _, err := CommitAuthors(context.Background(), github.NewClient(nil), "acme", "web", []string{"HEAD"}); err == nil {
		t.Error("a commit id that is not one was sent")
	}
}

// FuzzParseCommitAuthors holds the reading of GitHub's GraphQL answer (outside
// input) to never panicking, to failing on any answer that carries errors,
// and to returning only lower-case addresses that the answer ties to one
// non-empty login in a node of an asked-about commit.
func FuzzParseCommitAuthors(f *testing.F) {
	for _, seed := range []string{
		`{"data":{"repository":{"c0":{"authors":{"nodes":[{"email":"Alice@Acme.example","name":"Alice","user":{"login":"alice"}}]}}}}}`,
		`{"data":{"repository":{"c0":{"authors":{"nodes":[{"email":"a@x","user":{"login":"one"}}]}},"c1":{"authors":{"nodes":[{"email":"A@x","user":{"login":"two"}}]}}}}}`,
		`{"errors":[{"message":"Field 'authorz' doesn't exist on type 'Commit'"}]}`,
		`{"data":{"repository":{"c0":null}},"errors":[]}`,
		`{"data":null}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(seed), 2)
	}
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		n = max(0, min(n, MaxAuthorCommits))
		logins, err := parseCommitAuthors(raw, n)
		var generic struct {
			Data *struct {
				Repository map[string]*struct {
					Authors *struct {
						Nodes []*gitActor `json:"nodes"`
					} `json:"authors"`
				} `json:"repository"`
			} `json:"data"`
			Errors []json.RawMessage `json:"errors"`
		}
		decoded := json.Unmarshal(raw, &generic) == nil
		if err == nil && (!decoded || len(generic.Errors) > 0) {
			t.Fatalf("an answer with errors or not JSON was read: %s", raw)
		}
		for addr, login := range logins {
			if addr == "" || login == "" || addr != strings.ToLower(strings.TrimSpace(addr)) {
				t.Fatalf("bad entry %q: %q", addr, login)
			}
			found := false
			for i := range n {
				c := generic.Data.Repository[fmt.Sprintf("c%d", i)]
				if c == nil || c.Authors == nil {
					continue
				}
				for _, node := range c.Authors.Nodes {
					if node != nil && node.User != nil && node.User.Login == login && strings.EqualFold(strings.TrimSpace(node.Email), addr) {
						found = true
					}
				}
			}
			if !found {
				t.Fatalf("%s -> %s is in no node of an asked-about commit: %s", addr, login, raw)
			}
		}
	})
}
