package details

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzDetailsRequest: whatever the path and token, the handler answers 200
// only for a path it can parse and the token of exactly that PR and head,
// and never shows the secret.
func FuzzDetailsRequest(f *testing.F) {
	signer := NewSigner([]byte(webhookSecret))
	good := signer.Token("acme", "platform", 7, head)
	f.Add("acme", "platform", "7", head, good)
	f.Add("acme", "platform", "7", head, good[:42]+"A")
	f.Add("ACME", "Platform", "7", head, good)
	f.Add("acme", "platform", "007", head, good)
	f.Add("acme", "..", "7", head, good)
	f.Add("acme", "platform", "-7", head, "")
	f.Add("a%2Fb", "platform", "7", strings.ToUpper(head), good)
	f.Add("acme", "platform", "99999999999999999999", head, good)
	store := NewStore(4)
	mux := http.NewServeMux()
	mux.Handle(Pattern, Handler(Options{Signer: signer, Store: store}))
	f.Fuzz(func(t *testing.T, owner, repo, number, sha, token string) {
		target := "/details/" + url.PathEscape(owner) + "/" + url.PathEscape(repo) + "/" + url.PathEscape(number) + "/" + url.PathEscape(sha) + "?token=" + url.QueryEscape(token)
		req, err := http.NewRequest(http.MethodGet, "http://countersign.test"+target, nil)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			if !(signer.Valid(owner, repo, atoiOr(number), sha, token) && namePat.MatchString(owner) && namePat.MatchString(repo) && shaPat.MatchString(sha)) {
				t.Fatalf("200 for %q", target)
			}
		}
		if strings.Contains(rec.Body.String(), webhookSecret) {
			t.Fatal("the secret is in the answer")
		}
	})
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1e9 {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
