package ghapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/countersign/countersign/bot/state"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var testKey = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

const secretToken = "ghs_SECRETTOKENVALUE0123456789"

// fakeGitHub serves the token endpoint and hands the rest to h.
type fakeGitHub struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	calls  []string
	tokens atomic.Int32
	h      http.HandlerFunc
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, f.prefix)
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+path)
	f.mu.Unlock()
	if r.Method == http.MethodPost && strings.HasPrefix(path, "/app/installations/") && strings.HasSuffix(path, "/access_tokens") {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "want a JWT", http.StatusUnauthorized)
			return
		}
		f.tokens.Add(1)
		fmt.Fprintf(w, `{"token":%q,"expires_at":%q}`, secretToken, time.Now().Add(time.Hour).Format(time.RFC3339))
		return
	}
	if strings.HasPrefix(path, "/app") {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "want a JWT", http.StatusUnauthorized)
			return
		}
	} else if r.Header.Get("Authorization") != "token "+secretToken {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	r.URL.Path = path
	f.h(w, r)
}

func (f *fakeGitHub) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func newTestApp(t *testing.T, prefix string, h http.HandlerFunc, mod func(*Options)) (*App, *fakeGitHub, *bytes.Buffer) {
	t.Helper()
	f := &fakeGitHub{t: t, prefix: prefix, h: h}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	var mu sync.Mutex
	o := Options{
		AppID:            7,
		PrivateKeyPEM:    testKey(),
		BaseURL:          srv.URL + prefix + "/",
		Registerer:       prometheus.NewRegistry(),
		Logger:           slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryBaseDelay:   time.Millisecond,
		MaxRetryDelay:    5 * time.Millisecond,
		MaxRateLimitWait: 3 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a, f, &logs
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNewRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"no app id": {PrivateKeyPEM: testKey()},
		"no key":    {AppID: 1},
		"bad key":   {AppID: 1, PrivateKeyPEM: []byte("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n")},
		"bad base":  {AppID: 1, PrivateKeyPEM: testKey(), BaseURL: "ftp://x/"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else if strings.Contains(err.Error(), "nope") {
			t.Errorf("%s: error quotes the key: %v", name, err)
		}
	}
}

func TestEnterpriseBaseURLAndAuth(t *testing.T) {
	a, f, _ := newTestApp(t, "/api/v3", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/app":
			fmt.Fprint(w, `{"id":7,"slug":"countersign"}`)
		case "/repos/o/r":
			fmt.Fprint(w, `{"full_name":"o/r"}`)
		default:
			http.NotFound(w, r)
		}
	}, nil)
	ctx := context.Background()
	app, _, err := a.AppClient().Apps.Get(ctx, "")
	if err != nil || app.GetSlug() != "countersign" {
		t.Fatalf("app: %v %v", app, err)
	}
	c, err := a.Client(42)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		repo, _, err := c.Repositories.Get(ctx, "o", "r")
		if err != nil || repo.GetFullName() != "o/r" {
			t.Fatalf("repo: %v %v", repo, err)
		}
	}
	if c2, _ := a.Client(42); c2 != c {
		t.Error("client of an installation is not cached")
	}
	if n := f.tokens.Load(); n != 1 {
		t.Errorf("installation token fetched %d times, want 1", n)
	}
	tok, err := a.Token(ctx, 42)
	if err != nil || tok != secretToken {
		t.Errorf("Token = %q, %v", tok, err)
	}
}

func TestConditionalRequestsServeCachedBodyPerInstallation(t *testing.T) {
	var version atomic.Int32
	a, f, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		etag := `"v` + strconv.Itoa(int(version.Load())) + `"`
		w.Header().Set("X-RateLimit-Remaining", "4999")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		fmt.Fprintf(w, `{"number":1,"title":"t%d"}`, version.Load())
	}, nil)
	ctx := context.Background()
	c, _ := a.Client(1)
	get := func(c *github.Client) string {
		t.Helper()
		pr, resp, err := c.PullRequests.Get(ctx, "o", "r", 1)
		if err != nil {
			t.Fatal(err)
		}
		return pr.GetTitle() + "/" + strconv.Itoa(resp.StatusCode)
	}
	if got := get(c); got != "t0/200" {
		t.Fatalf("first = %s", got)
	}
	if got := get(c); got != "t0/200" {
		t.Fatalf("cached = %s", got)
	}
	if hits := value(a.metrics.cache.WithLabelValues("hit")); hits != 1 {
		t.Errorf("cache hits = %v, want 1", hits)
	}
	version.Store(1)
	if got := get(c); got != "t1/200" {
		t.Fatalf("after change = %s", got)
	}
	// Another installation never gets the first one's entry.
	c2, _ := a.Client(2)
	get(c2)
	if hits := value(a.metrics.cache.WithLabelValues("hit")); hits != 1 {
		t.Errorf("cache hits after other installation = %v, want 1", hits)
	}
	if n := f.count("GET /repos/o/r/pulls/1"); n != 4 {
		t.Errorf("GETs = %d, want 4", n)
	}
}

func TestCacheIsBounded(t *testing.T) {
	a, _, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"x"`)
		fmt.Fprint(w, `{}`)
	}, func(o *Options) { o.CacheEntries = 3 })
	c, _ := a.Client(1)
	for i := 1; i <= 10; i++ {
		if _, _, err := c.PullRequests.Get(context.Background(), "o", "r", i); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.cache.len(); n != 3 {
		t.Errorf("cache holds %d entries, want 3", n)
	}
}

func TestServerErrorsAreRetriedThenGiveUp(t *testing.T) {
	var fails atomic.Int32
	fails.Store(2)
	a, f, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		if fails.Add(-1) >= 0 {
			http.Error(w, "boom", http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `{"id":5}`)
	}, nil)
	c, _ := a.Client(1)
	pr, _, err := c.PullRequests.Get(context.Background(), "o", "r", 7)
	if err != nil || pr.GetID() != 5 {
		t.Fatalf("after two 502s: %v %v", pr, err)
	}
	if n := f.count("GET /repos/o/r/pulls/7"); n != 3 {
		t.Errorf("GETs = %d, want 3", n)
	}

	// A POST may have been carried out before the 502: it is not repeated
	// in place (a second check run), the caller looks before creating again.
	fails.Store(1)
	_, _, err = c.Checks.CreateCheckRun(context.Background(), "o", "r", github.CreateCheckRunOptions{Name: "countersign", HeadSHA: "abc"})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("POST after a 502: %v, want the 502", err)
	}
	if n := f.count("POST /repos/o/r/check-runs"); n != 1 {
		t.Errorf("POSTs = %d, want 1", n)
	}

	fails.Store(100)
	_, _, err = c.PullRequests.Get(context.Background(), "o", "r", 1)
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusBadGateway {
		t.Fatalf("persistent 502: %v", err)
	}
	if n := f.count("GET /repos/o/r/pulls/1"); n != 4 {
		t.Errorf("GETs = %d, want MaxAttempts=4", n)
	}
}

func TestOrdinaryForbiddenIsNotRetried(t *testing.T) {
	a, f, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Resource not accessible by integration"}`, http.StatusForbidden)
	}, nil)
	c, _ := a.Client(1)
	_, _, err := c.PullRequests.Get(context.Background(), "o", "r", 1)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 403 {
		t.Fatalf("err = %v", err)
	}
	if n := f.count("GET /repos/o/r/pulls/1"); n != 1 {
		t.Errorf("GETs = %d, want 1", n)
	}
}

func TestRateLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header func(h http.Header)
	}{
		{"secondary 403 Retry-After", 403, func(h http.Header) { h.Set("Retry-After", "1") }},
		{"secondary 429 Retry-After", 429, func(h http.Header) { h.Set("Retry-After", "1") }},
		{"primary 403", 403, func(h http.Header) {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
		}},
		{"primary 429", 429, func(h http.Header) {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var limited atomic.Bool
			limited.Store(true)
			a, f, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
				if limited.CompareAndSwap(true, false) {
					tc.header(w.Header())
					http.Error(w, `{"message":"API rate limit exceeded"}`, tc.status)
					return
				}
				fmt.Fprint(w, `{"number":1}`)
			}, nil)
			c, _ := a.Client(1)
			pr, _, err := c.PullRequests.Get(context.Background(), "o", "r", 1)
			if err != nil || pr.GetNumber() != 1 {
				t.Fatalf("after waiting: %v %v", pr, err)
			}
			if n := f.count("GET /repos/o/r/pulls/1"); n != 2 {
				t.Errorf("GETs = %d, want 2", n)
			}
		})
	}
}

func TestRateLimitBeyondBoundFailsFast(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		secondary bool
		header    func(h http.Header)
	}{
		{"secondary 429", 429, true, func(h http.Header) { h.Set("Retry-After", "3600") }},
		{"secondary 403", 403, true, func(h http.Header) { h.Set("Retry-After", "3600") }},
		{"primary 403", 403, false, func(h http.Header) {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		}},
		{"primary 429", 429, false, func(h http.Header) {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, f, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
				tc.header(w.Header())
				http.Error(w, `{"message":"rate limit"}`, tc.status)
			}, nil)
			c, _ := a.Client(1)
			start := time.Now()
			_, _, err := c.PullRequests.Get(context.Background(), "o", "r", 1)
			var rl *RateLimitError
			if !errors.As(err, &rl) || rl.Secondary != tc.secondary {
				t.Fatalf("err = %#v", err)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("waited %v for a limit beyond the bound", time.Since(start))
			}
			if !IsTransient(err) {
				t.Error("rate limit is not transient")
			}
			if !strings.Contains(Reason(err), "rate limit") {
				t.Errorf("Reason = %q", Reason(err))
			}
			_, _, err = c.PullRequests.Get(context.Background(), "o", "r", 2)
			if err == nil {
				t.Fatal("second call succeeded")
			}
			if !tc.secondary {
				if n := f.count("GET /repos/o/r/pulls/2"); n != 0 {
					t.Errorf("called GitHub %d times while the primary limit is exhausted", n)
				}
			}
		})
	}
}

func TestAcceptedIsAnError(t *testing.T) {
	a, _, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{}`)
	}, nil)
	c, _ := a.Client(1)
	_, _, err := c.Repositories.ListContributorsStats(context.Background(), "o", "r")
	var ae *github.AcceptedError
	if !errors.As(err, &ae) || !IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestTokensNeverLogged(t *testing.T) {
	var fails atomic.Int32
	fails.Store(3)
	a, _, logs := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		if fails.Add(-1) >= 0 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		http.Error(w, "nope", http.StatusInternalServerError)
	}, nil)
	c, _ := a.Client(1)
	_, _, err := c.PullRequests.Get(context.Background(), "o", "r", 1)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, s := range []string{logs.String(), err.Error(), Reason(err)} {
		if strings.Contains(s, secretToken) || strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "Bearer") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "rate limit") {
		t.Errorf("retries not logged: %s", logs.String())
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, _, _ := newTestApp(t, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "4321")
		fmt.Fprint(w, `[]`)
	}, func(o *Options) { o.Registerer = reg })
	c, _ := a.Client(9)
	c.PullRequests.ListFiles(context.Background(), "alice", "secret-repo", 12, nil)
	if v := value(a.metrics.calls.WithLabelValues("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "200")); v != 1 {
		t.Errorf("calls metric = %v", v)
	}
	if v := value(a.metrics.remaining.WithLabelValues("9", "core")); v != 4321 {
		t.Errorf("remaining = %v", v)
	}
	// A second App on the same registry shares the collectors instead of panicking.
	if _, err := New(Options{AppID: 1, PrivateKeyPEM: testKey(), Registerer: reg}); err != nil {
		t.Fatal(err)
	}
}

func TestRoute(t *testing.T) {
	for in, want := range map[string]string{
		"/repos/o/r/pulls/12/files":                   "/repos/{owner}/{repo}/pulls/{pull_number}/files",
		"/repos/o/r/pulls/12":                         "/repos/{owner}/{repo}/pulls/{pull_number}",
		"/repos/o/r/pulls":                            "/repos/{owner}/{repo}/pulls",
		"/repos/o/r/contents/.github/countersign.yml": "/repos/{owner}/{repo}/contents/{path}",
		"/repos/o/r/commits/abc/check-runs":           "/repos/{owner}/{repo}/commits/{ref}/check-runs",
		"/repos/o/r/check-runs/55":                    "/repos/{owner}/{repo}/check-runs/{check_run_id}",
		"/repos/o/r/collaborators/bob/permission":     "/repos/{owner}/{repo}/collaborators/{username}/permission",
		"/orgs/acme/teams/infra/members":              "/orgs/{org}/teams/{team_slug}/members",
		"/orgs/acme/teams/infra/memberships/bob":      "/orgs/{org}/teams/{team_slug}/memberships/{username}",
		"/app/installations/5/access_tokens":          "/app/installations/{installation_id}/access_tokens",
		"/installation/repositories":                  "/installation/repositories",
		"/repos/o/r/issues/3/comments":                "/repos/{owner}/{repo}/issues/{issue_number}/comments",
		"/repos/o/r/pulls/3/reviews":                  "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
		"/repos/o/r/compare/a...b":                    "/repos/{owner}/{repo}/compare/{basehead}",
		"/api/v3/repos/o/r":                           "/repos/{owner}/{repo}",
	} {
		u, _ := url.Parse("http://h" + in)
		if got := Route("http://h/api/v3/", u); got != want {
			t.Errorf("Route(%s) = %s, want %s", in, got, want)
		}
	}
}

// value reads a counter's or gauge's current value.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// TestRateLimitSpentIsShared: GitHub keeps one rate limit per installation
// whichever replica calls. Once one replica was told the installation's
// budget is spent until the reset, another replica sharing the rate-limit
// state fails fast (pending, never passing) instead of calling GitHub
// again, which would only add refused calls; another installation still calls.
func TestRateLimitSpentIsShared(t *testing.T) {
	shared := state.NewMemoryRateLimits()
	reset := time.Now().Add(time.Hour)
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/repos/o/r/pulls/1" {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
			http.Error(w, `{"message":"API rate limit exceeded for installation ID 1."}`, http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"number":2}`)
	}
	withShared := func(o *Options) { o.RateLimits = shared }
	a, _, _ := newTestApp(t, "", handler, withShared)
	b, fb, _ := newTestApp(t, "", handler, withShared)
	ca, _ := a.Client(1)
	if _, _, err := ca.PullRequests.Get(context.Background(), "o", "r", 1); err == nil {
		t.Fatal("replica A's call succeeded")
	}
	cb, _ := b.Client(1)
	_, _, err := cb.PullRequests.Get(context.Background(), "o", "r", 2)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !rl.Reset.Equal(time.Unix(reset.Unix(), 0)) {
		t.Fatalf("replica B: err = %v, want a rate-limit error until %v", err, reset)
	}
	if n := fb.count("GET /repos/o/r/pulls/2"); n != 0 {
		t.Errorf("replica B called GitHub %d times for an installation whose budget replica A saw spent", n)
	}
	if got, ok := b.RateLimit(1); !ok || got.Remaining != 0 {
		t.Errorf("replica B's view of installation 1: %+v %v, want 0 remaining", got, ok)
	}
	c2, _ := b.Client(2)
	if _, _, err := c2.PullRequests.Get(context.Background(), "o", "r", 2); err != nil {
		t.Errorf("another installation: %v", err)
	}
}
