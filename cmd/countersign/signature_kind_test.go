package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/gitfacts"
	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/bot/pull"
	"github.com/google/go-github/v62/github"
)

// The kind of a commit's signature is one fact, whoever reads the commit:
// the server (GitHub's REST commit, verification.signature), 'countersign
// check' (the gpgsig header, through git) and 'countersign detect' (the REST
// JSON on stdin) give the same answer for the same signature, and an armour
// none of them knows is no kind at all, never a guess.
func TestSignatureKindAgreesAcrossServerCheckAndDetect(t *testing.T) {
	armour := func(kind string) string {
		return fmt.Sprintf("-----BEGIN %s-----\n\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n-----END %s-----\n", kind, kind)
	}
	cases := []struct {
		name, sig, want string
	}{
		{"unsigned", "", ""},
		{"openpgp", armour("PGP SIGNATURE"), "gpg"},
		{"openpgp message", armour("PGP MESSAGE"), "gpg"},
		{"ssh", armour("SSH SIGNATURE"), "ssh"},
		{"x509 (gitsign, smimesign)", armour("SIGNED MESSAGE"), "x509"},
		{"unknown armour", armour("FUTURE SIGNATURE"), ""},
		{"not armour at all", "signed, trust me\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			viaGit := checkPathSignature(t, tc.sig)
			rc := restCommit(t, tc.sig)
			viaServer := serverPathSignature(t, rc)
			in, err := commitInput(rc)
			if err != nil {
				t.Fatal(err)
			}
			viaDetect := in.Signature
			if viaServer != tc.want || viaGit != tc.want || viaDetect != tc.want {
				t.Errorf("signature kind: server %q, check %q, detect %q; want %q from each", viaServer, viaGit, viaDetect, tc.want)
			}
		})
	}
}

// restCommit is the commit as GitHub's REST API shows it.
func restCommit(t *testing.T, sig string) *github.RepositoryCommit {
	t.Helper()
	v := map[string]any{"verified": false, "reason": "unknown_signature_type", "signature": nil, "payload": nil}
	if sig == "" {
		v["reason"] = "unsigned"
	} else {
		v["signature"] = sig
	}
	body, _ := json.Marshal(map[string]any{
		"sha": strings.Repeat("c", 40),
		"commit": map[string]any{
			"message":      "Fix the app\n",
			"author":       map[string]any{"name": "Bob Example", "email": "bob@example.com", "date": "2025-03-01T09:00:00Z"},
			"committer":    map[string]any{"name": "Bob Example", "email": "bob@example.com", "date": "2025-03-01T09:00:00Z"},
			"verification": v,
		},
		"parents": []any{map[string]any{"sha": strings.Repeat("b", 40)}},
	})
	var rc github.RepositoryCommit
	if err := json.Unmarshal(body, &rc); err != nil {
		t.Fatal(err)
	}
	return &rc
}

// checkPathSignature commits with the signature in a git repository and
// reads the commit back as 'countersign check' does.
func checkPathSignature(t *testing.T, sig string) string {
	t.Helper()
	g := baseRepo(t, nil)
	g.Commit("b", "main", gt.Commit{Author: gt.Bob, Signature: sig, Change: gt.Change{Write: map[string]string{"src/app.go": "x\n"}}})
	repo, err := gitfacts.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	f, err := repo.Facts(context.Background(), "main", "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Commits) != 1 {
		t.Fatalf("%d commits", len(f.Commits))
	}
	return f.Commits[0].Signature
}

// serverPathSignature has the server read the commit from a GitHub API
// (one compare call) and returns the kind it saw.
func serverPathSignature(t *testing.T, rc *github.RepositoryCommit) string {
	t.Helper()
	head, base := rc.GetSHA(), strings.Repeat("b", 40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/repos/o/r/compare/"+base+"..."+head {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"total_commits": 1, "commits": []any{rc},
			"files": []any{map[string]any{"filename": "src/app.go", "status": "modified", "additions": 1}}})
	}))
	defer srv.Close()
	c := github.NewClient(nil)
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	snap := &github.PullRequest{Number: github.Int(7), State: github.String("open"), User: &github.User{Login: github.String("bob"), Type: github.String("User")},
		Head: &github.PullRequestBranch{SHA: github.String(head), Ref: github.String("b")}, Base: &github.PullRequestBranch{SHA: github.String(base), Ref: github.String("main")},
		ChangedFiles: github.Int(1), Commits: github.Int(1)}
	g := pull.NewGitHub(pull.GitHubOptions{Client: c, Owner: "o", Repo: "r", Number: 7, Snapshot: snap})
	commits, err := g.Commits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 1 {
		t.Fatalf("%d commits", len(commits))
	}
	return commits[0].Signature
}
