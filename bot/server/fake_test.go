package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/webhook"
	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var testSecret = []byte("s3cr3t-webhook-value-for-tests")

// fakeBackend records what the server asks of the backend.
type fakeBackend struct {
	mu sync.Mutex
	// evaluated lists every Evaluate call in order.
	evaluated []Job
	// inFlight counts running Evaluate calls per key; maxPerKey is the most
	// ever seen for one key, and maxTotal across keys.
	inFlight  map[string]int
	total     int
	maxPerKey int
	maxTotal  int
	// gate, when set, makes Evaluate wait until it is closed (or ctx ends).
	gate chan struct{}
	// fail makes Evaluate of a key fail this many more times.
	fail map[string]int
	// stale makes Evaluate of a key return ErrEvaluateAgain this many more
	// times (its write may have landed after a newer one).
	stale map[string]int
	// work, when set, runs inside Evaluate (simulated work).
	work func()
	// prs are the open pull requests per "owner/repo"; repos the
	// repositories per installation.
	prs       map[string][]Job
	repos     map[int64][]string
	prListing []string
	ctxErrs   int
	// moves are the RecordMove calls, baseMoves the RecordBaseMove calls
	// (head is the base); moveErr fails both.
	moves     []recordedMove
	baseMoves []recordedMove
	moveErr   error
	// read lists, per job key, whose standing its verdict read; a key
	// without an entry is not known (ReadsStanding says yes).
	read map[string][]string
}

// recordedMove is one RecordMove call.
type recordedMove struct {
	repo   string
	number int
	head   string
	at     time.Time
}

func (f *fakeBackend) RecordMove(ctx context.Context, repo string, number int, head string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.moveErr != nil {
		return f.moveErr
	}
	f.moves = append(f.moves, recordedMove{repo, number, head, at})
	return nil
}

func (f *fakeBackend) RecordBaseMove(ctx context.Context, repo string, number int, base string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.moveErr != nil {
		return f.moveErr
	}
	f.baseMoves = append(f.baseMoves, recordedMove{repo, number, base, at})
	return nil
}

// ReadsStanding implements StandingFilter from read.
func (f *fakeBackend) ReadsStanding(ctx context.Context, job Job, change Standing) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	logins, ok := f.read[job.Key()]
	if !ok {
		return true, nil
	}
	if change.Anyone {
		return len(logins) > 0, nil
	}
	for _, l := range change.Logins {
		if slices.Contains(logins, l) {
			return true, nil
		}
	}
	return false, nil
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{inFlight: map[string]int{}, fail: map[string]int{}, stale: map[string]int{}, prs: map[string][]Job{}, repos: map[int64][]string{}}
}

func (f *fakeBackend) Evaluate(ctx context.Context, job Job) error {
	f.mu.Lock()
	k := job.Key()
	f.evaluated = append(f.evaluated, job)
	f.inFlight[k]++
	f.total++
	f.maxPerKey = max(f.maxPerKey, f.inFlight[k])
	f.maxTotal = max(f.maxTotal, f.total)
	gate, work := f.gate, f.work
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[k]--
		f.total--
		f.mu.Unlock()
	}()
	if work != nil {
		work()
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			f.mu.Lock()
			f.ctxErrs++
			f.mu.Unlock()
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[k] > 0 {
		f.fail[k]--
		return fmt.Errorf("transient: GitHub answered 502 for %s", k)
	}
	if f.stale[k] > 0 {
		f.stale[k]--
		return fmt.Errorf("publishing %s: %w", k, ErrEvaluateAgain)
	}
	return nil
}

func (f *fakeBackend) OpenPullRequests(ctx context.Context, installation int64, owner, repo string) ([]Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prListing = append(f.prListing, owner+"/"+repo)
	return append([]Job(nil), f.prs[owner+"/"+repo]...), nil
}

func (f *fakeBackend) InstallationRepos(ctx context.Context, installation int64) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.repos[installation]...), nil
}

func (f *fakeBackend) jobs() []Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Job(nil), f.evaluated...)
}

func (f *fakeBackend) count(key string) int {
	n := 0
	for _, j := range f.jobs() {
		if j.Key() == key {
			n++
		}
	}
	return n
}

func (f *fakeBackend) running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// testServer is a Server under test with its captured logs.
type testServer struct {
	*Server
	fb   *fakeBackend
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func fastRetry() RetryPolicy {
	return RetryPolicy{Attempts: 5, Initial: time.Millisecond, Max: 4 * time.Millisecond}
}

func newTestServer(t *testing.T, fb *fakeBackend, opt Options) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	opt.Backend = fb
	opt.WebhookSecret = testSecret
	opt.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opt.Retry == (RetryPolicy{}) {
		opt.Retry = fastRetry()
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fb.mu.Lock()
		if fb.gate != nil {
			select {
			case <-fb.gate:
			default:
				close(fb.gate)
			}
		}
		fb.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	s.SetReady(true)
	return &testServer{Server: s, fb: fb, logs: logs}
}

// deliver POSTs a signed delivery and returns the response.
func (ts *testServer) deliver(t *testing.T, event, id string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return ts.deliverSigned(t, event, id, body, webhook.Sign(testSecret, body))
}

func (ts *testServer) deliverSigned(t *testing.T, event, id string, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if event != "" {
		req.Header.Set(webhook.EventHeader, event)
	}
	if id != "" {
		req.Header.Set(webhook.DeliveryHeader, id)
	}
	if sig != "" {
		req.Header.Set(webhook.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

// get GETs path on the webhook listener.
func (ts *testServer) get(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// getOps GETs path on the metrics listener (the probes and /metrics).
func (ts *testServer) getOps(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.OpsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// idle reports whether no work is queued, waiting or running.
func (q *queue) isEmpty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.slots) == 0
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (ts *testServer) waitIdle(t *testing.T) {
	t.Helper()
	waitFor(t, "the queue to empty", ts.q.(*queue).isEmpty)
}

func (ts *testServer) deliveries(event, outcome string) float64 {
	return testutil.ToFloat64(ts.m.deliveries.WithLabelValues(event, outcome))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func repoObj(full string) *github.Repository {
	owner, name, _ := strings.Cut(full, "/")
	return &github.Repository{ID: github.Int64(1), Name: github.String(name), FullName: github.String(full),
		Owner: &github.User{Login: github.String(owner), Type: github.String("Organization")}, DefaultBranch: github.String("main")}
}

const testInstallation = 4242

func prEvent(t *testing.T, action, full string, number int, sha string) []byte {
	return mustJSON(t, &github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(number),
		PullRequest: &github.PullRequest{Number: github.Int(number), State: github.String("open"),
			Head: &github.PullRequestBranch{SHA: github.String(sha), Ref: github.String("feature")}},
		Repo:         repoObj(full),
		Installation: &github.Installation{ID: github.Int64(testInstallation)},
	})
}

// basePREvent is prEvent with the pull request's base branch, and for
// edited, the changes it carries (nil: none).
func basePREvent(t *testing.T, action, full string, number int, sha, base string, changes *github.EditChange) []byte {
	return mustJSON(t, &github.PullRequestEvent{
		Action: github.String(action), Number: github.Int(number), Changes: changes,
		PullRequest: &github.PullRequest{Number: github.Int(number), State: github.String("open"),
			Head: &github.PullRequestBranch{SHA: github.String(sha), Ref: github.String("feature")},
			Base: &github.PullRequestBranch{SHA: github.String("base-" + base), Ref: github.String(base)}},
		Repo:         repoObj(full),
		Installation: &github.Installation{ID: github.Int64(testInstallation)},
	})
}

func pushEvent(t *testing.T, full, ref string, forced bool, files ...string) []byte {
	owner, name, _ := strings.Cut(full, "/")
	return mustJSON(t, &github.PushEvent{
		Ref: github.String(ref), Before: github.String("aaaa"), After: github.String("bbbb"), Forced: github.Bool(forced),
		Commits: []*github.HeadCommit{{ID: github.String("bbbb"), Modified: files}},
		Repo: &github.PushEventRepository{Name: github.String(name), FullName: github.String(full),
			Owner: &github.User{Login: github.String(owner), Name: github.String(owner)}, DefaultBranch: github.String("main")},
		Installation: &github.Installation{ID: github.Int64(testInstallation)},
	})
}
