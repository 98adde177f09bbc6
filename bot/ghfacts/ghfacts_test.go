package ghfacts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-github/v62/github"
)

func TestPermission(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		want    string
		typ     string
		wantErr bool
	}{
		{"role name tells maintain from write", 200, `{"permission":"write","role_name":"maintain","user":{"login":"m","type":"User"}}`, "maintain", "User", false},
		{"role name tells triage from read", 200, `{"permission":"read","role_name":"triage","user":{"login":"t","type":"User"}}`, "triage", "User", false},
		{"a custom role falls back to the legacy field", 200, `{"permission":"write","role_name":"security-reviewer","user":{"login":"c"}}`, "write", "", false},
		{"legacy push is write", 200, `{"permission":"push","user":{"login":"p"}}`, "write", "", false},
		{"legacy pull is read", 200, `{"permission":"pull"}`, "read", "", false},
		{"none is no permission", 200, `{"permission":"none","role_name":"none","user":{"login":"n"}}`, "", "", false},
		{"a bot says so", 200, `{"permission":"write","role_name":"write","user":{"login":"b[bot]","type":"Bot"}}`, "write", "Bot", false},
		{"404 is no permission", 404, `{"message":"Not Found"}`, "", "", false},
		{"403 fails closed", 403, `{"message":"Resource not accessible by integration"}`, "", "", true},
		{"500 fails closed", 500, `{"message":"boom"}`, "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/repos/o/r/collaborators/someone/permission" {
					t.Errorf("path %s", r.URL.Path)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := github.NewClient(nil)
			c.BaseURL, _ = url.Parse(srv.URL + "/")
			a, err := Permission(context.Background(), c, "o", "r", "someone")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if a.Permission != tc.want || a.UserType != tc.typ {
				t.Errorf("got %+v, want permission %q type %q", a, tc.want, tc.typ)
			}
		})
	}
}
