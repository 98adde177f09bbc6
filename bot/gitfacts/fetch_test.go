package gitfacts_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/countersign/countersign/bot/gitfacts"
)

const testToken = "ghs_s3cr3tT0ken"

// gitServer serves the repository at dir over git smart HTTP with git
// http-backend, requiring basic auth x-access-token:testToken, and counts
// the requests that reached git.
func gitServer(t *testing.T, dir string, allowSHA bool) (url string, served *atomic.Int64) {
	t.Helper()
	needGit(t)
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path:", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	env := []string{"GIT_PROJECT_ROOT=" + filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()}
	if allowSHA {
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=uploadpack.allowReachableSHA1InWant", "GIT_CONFIG_VALUE_0=true")
	}
	h := &cgi.Handler{Path: backend, Env: env, Stderr: io.Discard}
	served = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "x-access-token" || pass != testToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
			return
		}
		served.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(dir), served
}

func TestFetchFactsMatchesTheLocalFacts(t *testing.T) {
	g := agentBranch(t)
	// An unrelated branch that must not be fetched.
	g.Commit("unrelated", "main", gitfactsCommit("big.bin"))
	base, head := g.Resolve("main").String(), g.Resolve("agent/work").String()
	local, err := open(t, g.Dir).Facts(context.Background(), "main", "agent/work")
	if err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{true, false} {
		url, served := gitServer(t, filepath.Join(g.Dir, ".git"), allow)
		f, err := gitfacts.FetchFacts(context.Background(), url, testToken, base, head)
		if err != nil {
			t.Fatalf("allowReachableSHA1InWant=%v: %v", allow, err)
		}
		if served.Load() == 0 {
			t.Fatal("the server was never asked")
		}
		if f.Local {
			t.Error("fetched facts claim to be local")
		}
		if f.PR.HeadSHA != head || f.PR.BaseSHA != base {
			t.Errorf("shas %s %s", f.PR.HeadSHA, f.PR.BaseSHA)
		}
		if len(f.Commits) != len(local.Commits) || len(f.Files) != len(local.Files) {
			t.Fatalf("fetched %d commits %d files, local %d %d", len(f.Commits), len(f.Files), len(local.Commits), len(local.Files))
		}
		for i := range f.Commits {
			if !reflect.DeepEqual(f.Commits[i], local.Commits[i]) {
				t.Errorf("commit %d: %+v vs %+v", i, f.Commits[i], local.Commits[i])
			}
		}
		for i := range f.Files {
			if f.Files[i] != local.Files[i] {
				t.Errorf("file %d: %+v vs %+v", i, f.Files[i], local.Files[i])
			}
		}
	}
}

func TestFetchFactsFailsWithoutLeakingTheToken(t *testing.T) {
	g := agentBranch(t)
	url, _ := gitServer(t, filepath.Join(g.Dir, ".git"), true)
	base, head := g.Resolve("main").String(), g.Resolve("agent/work").String()
	wrong := "ghs_wrongTOKENvalue"
	_, err := gitfacts.FetchFacts(context.Background(), url, wrong, base, head)
	if err == nil {
		t.Fatal("a wrong token fetched")
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error leaks the token: %v", err)
	}
	if _, err := gitfacts.FetchFacts(context.Background(), url, testToken, base, "0123456789abcdef0123456789abcdef01234567"); err == nil {
		t.Error("fetching a commit the remote lacks succeeded")
	}
	if _, err := gitfacts.FetchFacts(context.Background(), url, testToken, "main", head); err == nil || !strings.Contains(err.Error(), "full commit id") {
		t.Errorf("a branch name instead of a sha: %v", err)
	}
}
