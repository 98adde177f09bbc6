package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/webhook"
	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func readWebhookTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignatureRejectedAndNothingProcessed(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	body := prEvent(t, "synchronize", "acme/widgets", 17, "abc")
	tests := []struct {
		name string
		body []byte
		sig  string
	}{
		{"missing", body, ""},
		{"wrong secret", body, webhook.Sign([]byte("not the secret"), body)},
		{"tampered body", bytes.Replace(body, []byte(`"abc"`), []byte(`"abd"`), 1), webhook.Sign(testSecret, body)},
		{"malformed", body, "sha256=xyz"},
		{"sha1 only", body, "sha1=0123456789abcdef0123456789abcdef01234567"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.deliverSigned(t, "pull_request", fmt.Sprintf("d-%d", i), tt.body, tt.sig)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", rec.Code)
			}
			if strings.Contains(rec.Body.String(), webhook.Sign(testSecret, tt.body)[7:]) {
				t.Fatal("response reveals the expected signature")
			}
		})
	}
	if got := ts.deliveries("pull_request", outcomeUnauthorized); got != float64(len(tests)) {
		t.Fatalf("unauthorized deliveries metric = %v, want %d", got, len(tests))
	}
	// A valid delivery reusing a rejected delivery's id is processed: the
	// rejected ones left no trace, and a marker shows the queue ran.
	if rec := ts.deliver(t, "pull_request", "d-0", body); rec.Code != http.StatusAccepted {
		t.Fatalf("valid delivery: status %d", rec.Code)
	}
	ts.waitIdle(t)
	if jobs := ts.fb.jobs(); len(jobs) != 1 || jobs[0].DeliveryID != "d-0" {
		t.Fatalf("evaluated %+v, want only the valid delivery", jobs)
	}
}

func TestBodyTooLarge(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	big := make([]byte, webhook.MaxBodyBytes+1)
	for _, chunked := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(big))
		if chunked {
			req.ContentLength = -1 // length unknown: the cap applies while reading
		}
		req.Header.Set(webhook.EventHeader, "pull_request")
		req.Header.Set(webhook.DeliveryHeader, "big")
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, big))
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked=%v: status %d, want 413", chunked, rec.Code)
		}
	}
	// Exactly at the cap is read (and here refused as malformed, not too large).
	atCap := big[:webhook.MaxBodyBytes]
	if rec := ts.deliver(t, "pull_request", "at-cap", atCap); rec.Code != http.StatusBadRequest {
		t.Fatalf("body at the cap: status %d, want 400", rec.Code)
	}
}

func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	tests := []struct {
		name, event, id string
		body            []byte
	}{
		{"truncated JSON", "pull_request", "b1", []byte(`{"action":"opened","pull_request":{`)},
		{"wrong field type", "pull_request_review", "b2", []byte(`{"action":"submitted","pull_request":{"number":"one"}}`)},
		{"not an object", "push", "b3", []byte(`[]`)},
		{"no pull request number", "pull_request", "b5", []byte(`{"action":"opened","repository":{"full_name":"acme/widgets"},"installation":{"id":1}}`)},
		{"no event header", "", "b6", []byte(`{}`)},
		{"no delivery header", "pull_request", "", prEvent(t, "opened", "acme/widgets", 1, "abc")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := ts.deliver(t, tt.event, tt.id, tt.body); rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", rec.Code, rec.Body)
			}
		})
	}
	ts.waitIdle(t)
	if n := len(ts.fb.jobs()); n != 0 {
		t.Fatalf("%d evaluations from bad requests", n)
	}
}

// A well-formed delivery that names no installation (GitHub's example
// payloads, a repository webhook pointed at the app) cannot be acted on, but
// it is not malformed: it is acknowledged, ignored, and evaluates nothing.
func TestDeliveryWithoutInstallationIsIgnored(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	body := bytes.Replace(prEvent(t, "opened", "acme/widgets", 1, "abc"), []byte(`"installation":{"id":4242}`), []byte(`"x":1`), 1)
	if bytes.Contains(body, []byte(`"installation"`)) {
		t.Fatal("test payload still names an installation")
	}
	rec := ts.deliver(t, "pull_request", "no-inst", body)
	if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), "no installation") {
		t.Fatalf("status %d (%s), want 202 naming the missing installation", rec.Code, rec.Body)
	}
	ts.waitIdle(t)
	if n := len(ts.fb.jobs()); n != 0 {
		t.Fatalf("%d evaluations from a delivery without installation", n)
	}
}

func TestPingAndUnhandled(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	if rec := ts.deliver(t, "ping", "p1", readWebhookTestdata(t, "ping.json")); rec.Code != http.StatusOK {
		t.Fatalf("ping: status %d", rec.Code)
	}
	tests := []struct {
		name, event string
		body        []byte
	}{
		{"unhandled event", "issues", []byte(`{"action":"opened"}`)},
		{"event unknown to go-github", "brand_new_event", []byte(`{}`)},
		{"unhandled action", "pull_request", readWebhookTestdata(t, "pull_request.closed.json")},
		{"check run created", "check_run", []byte(`{"action":"created","check_run":{"id":1},"installation":{"id":1}}`)},
		{"installation deleted", "installation", []byte(`{"action":"deleted","installation":{"id":1}}`)},
		{"push to another branch not touching the policy", "push", pushEvent(t, "acme/widgets", "refs/heads/feature", false, "README.md", "src/CODEOWNERS")},
		{"push not touching the policy", "push", pushEvent(t, "acme/widgets", "refs/heads/main", false, "README.md")},
		{"check suite without pull requests", "check_suite", []byte(`{"action":"rerequested","check_suite":{"head_sha":"abc","pull_requests":[]},"repository":{"full_name":"acme/widgets"},"installation":{"id":1}}`)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := ts.deliver(t, tt.event, fmt.Sprintf("u-%d", i), tt.body); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s), want 202", rec.Code, rec.Body)
			}
		})
	}
	ts.waitIdle(t)
	if n := len(ts.fb.jobs()); n != 0 {
		t.Fatalf("%d evaluations from ignored deliveries", n)
	}
	if got := ts.deliveries("other", outcomeIgnored); got != 2 {
		t.Fatalf("ignored deliveries of other events = %v, want 2", got)
	}
	if got := ts.get("/webhook"); got.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /webhook: %d", got.Code)
	}
}

func TestHandledEventsBecomeJobs(t *testing.T) {
	fb := newFakeBackend()
	ts := newTestServer(t, fb, Options{})
	tests := []struct {
		file   string
		want   []string // keys
		reason string
	}{
		{"pull_request.synchronize.json", []string{"acme/widgets#17"}, "pull_request.synchronize"},
		{"pull_request.labeled.json", []string{"acme/widgets#17"}, "pull_request.labeled"},
		{"pull_request_review.submitted.json", []string{"acme/widgets#17"}, "pull_request_review.submitted"},
		{"pull_request_review.dismissed.json", []string{"acme/widgets#17"}, "pull_request_review.dismissed"},
		{"check_run.rerequested.json", []string{"acme/widgets#17"}, "check_run.rerequested"},
		{"check_suite.rerequested.json", []string{"acme/widgets#17", "acme/widgets#18"}, "check_suite.rerequested"},
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			event, _, _ := strings.Cut(tt.file, ".")
			id := fmt.Sprintf("h-%d", i)
			if rec := ts.deliver(t, event, id, readWebhookTestdata(t, tt.file)); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			ts.waitIdle(t)
			var got []string
			for _, j := range fb.jobs() {
				if j.DeliveryID == id {
					got = append(got, j.Key())
					if j.Reason != tt.reason || j.Installation != 4242 || j.HeadSHA == "" {
						t.Errorf("job %+v: want reason %s, installation 4242, a head sha", j, tt.reason)
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("evaluated %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplayedDeliveryNotProcessedAgain(t *testing.T) {
	ts := newTestServer(t, newFakeBackend(), Options{})
	body := prEvent(t, "synchronize", "acme/widgets", 17, "abc")
	if rec := ts.deliver(t, "pull_request", "dup-1", body); rec.Code != http.StatusAccepted {
		t.Fatalf("first: %d", rec.Code)
	}
	ts.waitIdle(t)
	rec := ts.deliver(t, "pull_request", "dup-1", body)
	if rec.Code != http.StatusOK && rec.Code != http.StatusAccepted {
		t.Fatalf("replay: status %d, want an acknowledgement", rec.Code)
	}
	// A later, different delivery is processed; by then a replay would have been too.
	ts.deliver(t, "pull_request", "marker", prEvent(t, "synchronize", "acme/widgets", 99, "def"))
	waitFor(t, "the marker evaluation", func() bool { return ts.fb.count("acme/widgets#99") == 1 })
	ts.waitIdle(t)
	if n := ts.fb.count("acme/widgets#17"); n != 1 {
		t.Fatalf("PR 17 evaluated %d times, want 1", n)
	}
	if got := ts.deliveries("pull_request", outcomeDuplicate); got != 1 {
		t.Fatalf("duplicate metric = %v", got)
	}
}

func TestBurstForOnePRIsCoalesced(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	ts := newTestServer(t, fb, Options{Workers: 4})
	for i := range 20 {
		body := prEvent(t, "synchronize", "acme/widgets", 17, fmt.Sprintf("sha-%02d", i))
		if rec := ts.deliver(t, "pull_request", fmt.Sprintf("burst-%d", i), body); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, rec.Code)
		}
	}
	close(fb.gate)
	ts.waitIdle(t)
	jobs := fb.jobs()
	if len(jobs) < 1 || len(jobs) > 2 {
		t.Fatalf("%d evaluations for a burst of 20, want 1 or 2", len(jobs))
	}
	if last := jobs[len(jobs)-1]; last.HeadSHA != "sha-19" || last.DeliveryID != "burst-19" {
		t.Fatalf("last evaluation %+v, want the burst's last state", last)
	}
	if got := testutil.ToFloat64(ts.m.coalesced); got < 18 {
		t.Fatalf("coalesced metric = %v, want at least 18", got)
	}
}

func TestOnePRNeverEvaluatedConcurrently(t *testing.T) {
	fb := newFakeBackend()
	fb.work = func() { time.Sleep(200 * time.Microsecond) } // simulated work, not synchronisation
	ts := newTestServer(t, fb, Options{Workers: 8})
	for i := range 300 {
		pr := 1 + i%3
		ts.deliver(t, "pull_request", fmt.Sprintf("s-%d", i), prEvent(t, "synchronize", "acme/widgets", pr, fmt.Sprint(i)))
	}
	ts.waitIdle(t)
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.maxPerKey != 1 {
		t.Fatalf("up to %d concurrent evaluations of one PR", fb.maxPerKey)
	}
	for pr := 1; pr <= 3; pr++ {
		var last string
		for _, j := range fb.evaluated {
			if j.Number == pr {
				last = j.HeadSHA
			}
		}
		want := fmt.Sprint(297 + pr - 1) // the last delivery for this PR
		if last != want {
			t.Fatalf("PR %d last evaluated at %s, want %s (its latest)", pr, last, want)
		}
	}
}

func TestDifferentPRsRunConcurrently(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	ts := newTestServer(t, fb, Options{Workers: 4})
	for pr := 1; pr <= 3; pr++ {
		ts.deliver(t, "pull_request", fmt.Sprintf("c-%d", pr), prEvent(t, "opened", "acme/widgets", pr, "x"))
	}
	waitFor(t, "three evaluations at once", func() bool { return fb.running() == 3 })
	if got := testutil.ToFloat64(ts.m.inFlight); got != 3 {
		t.Fatalf("in-flight gauge = %v, want 3", got)
	}
	close(fb.gate)
	ts.waitIdle(t)
}

func TestFailedEvaluationRetriedUntilSuccess(t *testing.T) {
	fb := newFakeBackend()
	fb.fail["acme/widgets#17"] = 3
	ts := newTestServer(t, fb, Options{})
	ts.deliver(t, "pull_request", "r-1", prEvent(t, "opened", "acme/widgets", 17, "x"))
	ts.waitIdle(t)
	if n := fb.count("acme/widgets#17"); n != 4 {
		t.Fatalf("%d attempts, want 4 (3 failures, then success)", n)
	}
	if got := testutil.ToFloat64(ts.m.retries.WithLabelValues(kindEvaluate)); got != 3 {
		t.Fatalf("retries metric = %v, want 3", got)
	}
	if got := testutil.ToFloat64(ts.m.failures.WithLabelValues(kindEvaluate)); got != 0 {
		t.Fatalf("failures metric = %v, want 0", got)
	}
}

func TestFailedEvaluationRetriesAreBounded(t *testing.T) {
	fb := newFakeBackend()
	fb.fail["acme/widgets#17"] = 1000
	ts := newTestServer(t, fb, Options{Retry: RetryPolicy{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond}})
	ts.deliver(t, "pull_request", "r-2", prEvent(t, "opened", "acme/widgets", 17, "x"))
	ts.waitIdle(t)
	if n := fb.count("acme/widgets#17"); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	if got := testutil.ToFloat64(ts.m.failures.WithLabelValues(kindEvaluate)); got != 1 {
		t.Fatalf("failures metric = %v, want 1", got)
	}
	if !strings.Contains(ts.logs.String(), "giving up") {
		t.Fatal("no log of the abandoned evaluation")
	}
}

func TestRetryDelay(t *testing.T) {
	r := RetryPolicy{Attempts: 5, Initial: 10 * time.Second, Max: 2 * time.Minute}
	for failures, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 5: 2 * time.Minute, 60: 2 * time.Minute} {
		for range 50 {
			if d := r.Delay(failures); d < want/2 || d > want {
				t.Fatalf("Delay(%d) = %v, want within [%v, %v]", failures, d, want/2, want)
			}
		}
	}
}

func TestQueueFullAnswers503(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	ts := newTestServer(t, fb, Options{Workers: 1, QueueSize: 2})
	for pr := 1; pr <= 2; pr++ {
		if rec := ts.deliver(t, "pull_request", fmt.Sprintf("q-%d", pr), prEvent(t, "opened", "acme/widgets", pr, "x")); rec.Code != http.StatusAccepted {
			t.Fatalf("PR %d: %d", pr, rec.Code)
		}
	}
	// A third PR does not fit; a newer event for a queued PR still coalesces.
	if rec := ts.deliver(t, "pull_request", "q-3", prEvent(t, "opened", "acme/widgets", 3, "x")); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("full queue: status %d, want 503", rec.Code)
	}
	if rec := ts.deliver(t, "pull_request", "q-2b", prEvent(t, "synchronize", "acme/widgets", 2, "y")); rec.Code != http.StatusAccepted {
		t.Fatalf("coalescing into a full queue: status %d, want 202", rec.Code)
	}
	if got := testutil.ToFloat64(ts.m.rejected); got != 1 {
		t.Fatalf("rejected metric = %v", got)
	}
	if got := testutil.ToFloat64(ts.m.queueDepth); got < 1 {
		t.Fatalf("queue depth metric = %v, want at least 1", got)
	}
	close(fb.gate)
	ts.waitIdle(t)
	// GitHub's redelivery keeps the delivery id; it is processed now.
	if rec := ts.deliver(t, "pull_request", "q-3", prEvent(t, "opened", "acme/widgets", 3, "x")); rec.Code != http.StatusAccepted {
		t.Fatalf("redelivery: status %d, want 202", rec.Code)
	}
	ts.waitIdle(t)
	if n := fb.count("acme/widgets#3"); n != 1 {
		t.Fatalf("PR 3 evaluated %d times after redelivery, want 1", n)
	}
}

func TestInstallationRepositoriesAddedFansOut(t *testing.T) {
	fb := newFakeBackend()
	fb.prs["acme/gadgets"] = []Job{{Installation: 4242, Owner: "acme", Repo: "gadgets", Number: 1, HeadSHA: "a"}, {Installation: 4242, Owner: "acme", Repo: "gadgets", Number: 2, HeadSHA: "b"}}
	fb.prs["acme/gizmos"] = []Job{{Owner: "acme", Repo: "gizmos", Number: 7, HeadSHA: "c"}}
	ts := newTestServer(t, fb, Options{})
	if rec := ts.deliver(t, "installation_repositories", "ir-1", readWebhookTestdata(t, "installation_repositories.added.json")); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d (%s)", rec.Code, rec.Body)
	}
	ts.waitIdle(t)
	var got []string
	for _, j := range fb.jobs() {
		got = append(got, j.Key())
		if j.Installation != 4242 || j.Reason != "installation_repositories.added" || j.DeliveryID != "ir-1" {
			t.Errorf("job %+v lacks the installation, reason or delivery", j)
		}
	}
	slices.Sort(got)
	if want := []string{"acme/gadgets#1", "acme/gadgets#2", "acme/gizmos#7"}; !slices.Equal(got, want) {
		t.Fatalf("evaluated %v, want %v", got, want)
	}
}

func TestInstallationCreatedFansOut(t *testing.T) {
	fb := newFakeBackend()
	fb.repos[4242] = []string{"acme/widgets", "acme/.github"}
	fb.prs["acme/widgets"] = []Job{{Owner: "acme", Repo: "widgets", Number: 17}}
	ts := newTestServer(t, fb, Options{})
	ts.deliver(t, "installation", "i-1", readWebhookTestdata(t, "installation.created.json"))
	ts.waitIdle(t)
	if jobs := fb.jobs(); len(jobs) != 1 || jobs[0].Key() != "acme/widgets#17" || jobs[0].Reason != "installation.created" {
		t.Fatalf("evaluated %+v", jobs)
	}
	fb.mu.Lock()
	listed := slices.Sorted(slices.Values(fb.prListing))
	fb.mu.Unlock()
	if !slices.Equal(listed, []string{"acme/.github", "acme/widgets"}) {
		t.Fatalf("listed PRs of %v", listed)
	}
}

func TestPushOfPolicyFansOut(t *testing.T) {
	tests := []struct {
		name string
		repo string
		ref  string
		push func(t *testing.T) []byte
		want []string
	}{
		{"policy change on default branch", "acme/widgets", "", func(t *testing.T) []byte {
			return readWebhookTestdata(t, "push.policy.json")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"yaml extension", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/main", false, "src/x.go", ".github/countersign.yaml")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"org .github repository", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/.github", "refs/heads/main", false, ".github/countersign.yml")
		}, []string{"acme/.github#3", "acme/gadgets#5", "acme/widgets#1", "acme/widgets#2"}},
		{"org .github repository, other branch", "", "", func(t *testing.T) []byte {
			// Only the org policy on the default branch is inherited; on
			// another branch it is the base of the repository's own PRs.
			return pushEvent(t, "acme/.github", "refs/heads/release", false, ".github/countersign.yml")
		}, []string{"acme/.github#3"}},
		{"org .github repository, CODEOWNERS", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/.github", "refs/heads/main", false, ".github/CODEOWNERS")
		}, []string{"acme/.github#3"}},
		{"forced push to default branch", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/main", true, "README.md")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"other branch", "", "", func(t *testing.T) []byte {
			// The policy is read at each PR's base branch tip: PRs based on
			// release may change verdict.
			return pushEvent(t, "acme/widgets", "refs/heads/release", false, ".github/countersign.yml")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"other branch, yaml extension", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/feature/x", false, ".github/countersign.yaml")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"CODEOWNERS on default branch", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/main", false, ".github/CODEOWNERS")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"root CODEOWNERS on other branch", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/release", false, "CODEOWNERS")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"docs CODEOWNERS on other branch", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/release", false, "docs/CODEOWNERS")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"forced push to other branch", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/feature", true, "README.md")
		}, []string{"acme/widgets#1", "acme/widgets#2"}},
		{"not touching the policy", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/main", false, "countersign.yml", "src/CODEOWNERS", ".github/CODEOWNERS.md")
		}, nil},
		{"other branch not touching the policy", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/heads/release", false, "README.md")
		}, nil},
		{"tag", "", "", func(t *testing.T) []byte {
			return pushEvent(t, "acme/widgets", "refs/tags/main", false, ".github/countersign.yml")
		}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.repos[4242] = []string{"acme/widgets", "acme/gadgets", "acme/.github", "other/elsewhere"}
			fb.prs["acme/widgets"] = []Job{{Owner: "acme", Repo: "widgets", Number: 1}, {Owner: "acme", Repo: "widgets", Number: 2}}
			fb.prs["acme/gadgets"] = []Job{{Owner: "acme", Repo: "gadgets", Number: 5}}
			fb.prs["acme/.github"] = []Job{{Owner: "acme", Repo: ".github", Number: 3}}
			fb.prs["other/elsewhere"] = []Job{{Owner: "other", Repo: "elsewhere", Number: 9}}
			ts := newTestServer(t, fb, Options{})
			if rec := ts.deliver(t, "push", fmt.Sprintf("push-%d", i), tt.push(t)); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			ts.waitIdle(t)
			var got []string
			for _, j := range fb.jobs() {
				got = append(got, j.Key())
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("evaluated %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHealthReadinessMetrics(t *testing.T) {
	fb := newFakeBackend()
	ts := newTestServer(t, fb, Options{})
	ts.SetReady(false)
	if rec := ts.getOps("/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("healthz: %d", rec.Code)
	}
	if rec := ts.getOps("/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz before the listener is up: %d", rec.Code)
	}
	ts.SetReady(true)
	if rec := ts.getOps("/readyz"); rec.Code != http.StatusOK {
		t.Fatalf("readyz: %d", rec.Code)
	}
	ts.deliver(t, "pull_request", "m-1", prEvent(t, "opened", "acme/widgets", 1, "x"))
	ts.deliver(t, "pull_request", "m-2", []byte("{"))
	ts.waitIdle(t)
	rec := ts.getOps("/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics: %d", rec.Code)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`countersign_webhook_deliveries_total{event="pull_request",outcome="queued"} 1`,
		`countersign_webhook_deliveries_total{event="pull_request",outcome="bad_request"} 1`,
		`countersign_evaluation_duration_seconds_count{result="success"} 1`,
		"countersign_queue_depth 0",
		"countersign_queue_capacity 1000",
		"countersign_evaluations_in_flight 0",
		`countersign_work_retries_total{kind="evaluate"} 0`,
		"countersign_ready 1",
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestShutdownDrainsQueuedWork(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	ts := newTestServer(t, fb, Options{Workers: 1})
	for pr := 1; pr <= 3; pr++ {
		ts.deliver(t, "pull_request", fmt.Sprintf("dr-%d", pr), prEvent(t, "opened", "acme/widgets", pr, "x"))
	}
	waitFor(t, "the first evaluation", func() bool { return fb.running() == 1 })
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	waitFor(t, "readyz to fail while draining", func() bool { return ts.getOps("/readyz").Code == http.StatusServiceUnavailable })
	if rec := ts.deliver(t, "pull_request", "dr-late", prEvent(t, "opened", "acme/widgets", 4, "x")); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("delivery while draining: %d, want 503", rec.Code)
	}
	close(fb.gate)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	var got []string
	for _, j := range fb.jobs() {
		got = append(got, j.Key())
	}
	if want := []string{"acme/widgets#1", "acme/widgets#2", "acme/widgets#3"}; !slices.Equal(got, want) {
		t.Fatalf("evaluated %v, want the queued %v", got, want)
	}
}

func TestShutdownDrainIsBounded(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{}) // never opened before the deadline
	ts := newTestServer(t, fb, Options{Workers: 1})
	ts.deliver(t, "pull_request", "slow-1", prEvent(t, "opened", "acme/widgets", 1, "x"))
	ts.deliver(t, "pull_request", "slow-2", prEvent(t, "opened", "acme/widgets", 2, "x"))
	waitFor(t, "the first evaluation", func() bool { return fb.running() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := ts.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "unfinished") {
		t.Fatalf("Shutdown = %v, want a drain timeout error", err)
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.ctxErrs != 1 {
		t.Fatalf("running evaluation saw %d cancellations, want 1", fb.ctxErrs)
	}
}

func TestServeAndStop(t *testing.T) {
	fb := newFakeBackend()
	ts := newTestServer(t, fb, Options{})
	ts.SetReady(false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx, ln, ops, 5*time.Second) }()
	url, opsURL := "http://"+ln.Addr().String(), "http://"+ops.Addr().String()
	waitFor(t, "readyz", func() bool {
		resp, err := http.Get(opsURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	status := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if got := status(url + path); got != http.StatusNotFound {
			t.Errorf("GET %s on the webhook listener: %d, want 404", path, got)
		}
		if got := status(opsURL + path); got != http.StatusOK {
			t.Errorf("GET %s on the metrics listener: %d, want 200", path, got)
		}
	}
	if got := status(opsURL + "/webhook"); got != http.StatusNotFound && got != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhook on the metrics listener: %d, want no webhook there", got)
	}
	body := prEvent(t, "opened", "acme/widgets", 3, "x")
	req, _ := http.NewRequest(http.MethodPost, url+"/webhook", bytes.NewReader(body))
	req.Header.Set(webhook.EventHeader, "pull_request")
	req.Header.Set(webhook.DeliveryHeader, "net-1")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery over the network: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if n := fb.count("acme/widgets#3"); n != 1 {
		t.Fatalf("evaluated %d times, want 1 (drained before exit)", n)
	}
}

func TestHandledEventsIsTheTable(t *testing.T) {
	got := HandledEvents()
	want := map[string][]string{
		"pull_request":               {"opened", "reopened", "synchronize", "edited", "ready_for_review", "labeled", "unlabeled"},
		"pull_request_review":        {"submitted", "edited", "dismissed"},
		"check_run":                  {"rerequested", "requested_action"},
		"check_suite":                {"rerequested"},
		"installation":               {"created", "new_permissions_accepted", "unsuspend"},
		"installation_repositories":  {"added"},
		"push":                       {},
		"issue_comment":              {"created", "edited", "deleted"},
		"merge_group":                {"checks_requested"},
		"deployment_protection_rule": {"requested"},
		"member":                     {"added", "removed", "edited"},
		"membership":                 {"added", "removed"},
		"organization":               {"member_added", "member_removed"},
		"team":                       {"deleted", "edited", "added_to_repository", "removed_from_repository"},
	}
	if len(got) != len(want) {
		t.Fatalf("HandledEvents = %v", got)
	}
	for e, acts := range want {
		if !slices.Equal(got[e], acts) {
			t.Errorf("%s: %v, want %v", e, got[e], acts)
		}
	}
	got["push"] = append(got["push"], "mutated")
	if len(HandledEvents()["push"]) != 0 {
		t.Fatal("HandledEvents shares its slices with the table")
	}
}

func TestLogsCarryDeliveryFieldsAndNoSecrets(t *testing.T) {
	key := testKeyPEM(t)
	set, err := LoadSettings(nil, mapEnv(map[string]string{
		"COUNTERSIGN_APP_ID": "1", "COUNTERSIGN_PRIVATE_KEY": string(key), "COUNTERSIGN_WEBHOOK_SECRET": string(testSecret),
	}))
	if err != nil {
		t.Fatal(err)
	}
	fb := newFakeBackend()
	fb.fail["acme/widgets#17"] = 1
	ts := newTestServer(t, fb, Options{})
	ts.log.Info("starting", "settings", set)
	body := readWebhookTestdata(t, "pull_request.synchronize.json")
	ts.deliver(t, "pull_request", "log-1", body)
	ts.deliverSigned(t, "pull_request", "log-2", body, "sha256="+strings.Repeat("0", 64))
	ts.deliver(t, "pull_request", "log-3", []byte(`{"action":`))
	ts.waitIdle(t)
	logs := ts.logs.String()
	for _, secret := range []string{string(testSecret), webhook.Sign(testSecret, body)[7:]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret:\n%s", logs)
		}
	}
	keyBody := strings.Split(string(key), "\n")[1] // first line of base64 key material
	if strings.Contains(logs, keyBody) || strings.Contains(logs, "PRIVATE KEY") {
		t.Fatalf("logs contain the private key:\n%s", logs)
	}
	// The work log lines carry the delivery's fields.
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "work failed; will retry" {
			found = true
			for k, v := range map[string]any{"delivery": "log-1", "installation": 4242.0, "repo": "acme/widgets",
				"pr": 17.0, "head_sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "reason": "pull_request.synchronize"} {
				if rec[k] != v {
					t.Errorf("log field %s = %v, want %v", k, rec[k], v)
				}
			}
		}
		if rec["msg"] == "queued" && (rec["event"] != "pull_request" || rec["action"] != "synchronize") {
			t.Errorf("queued log lacks event/action: %v", rec)
		}
	}
	if !found {
		t.Fatalf("no retry log line:\n%s", logs)
	}
}

func TestDedupTTLAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	d := newDedup(time.Hour, 3, func() time.Time { return now })
	if !d.reserve("a") || d.reserve("a") {
		t.Fatal("a second reserve of the same id succeeded")
	}
	now = now.Add(59 * time.Minute)
	if d.reserve("a") {
		t.Fatal("forgotten before its TTL")
	}
	now = now.Add(time.Minute)
	if !d.reserve("a") {
		t.Fatal("remembered past its TTL")
	}
	d.reserve("b")
	d.reserve("c")
	d.reserve("d") // over the bound: the oldest ("a") goes
	if d.len() != 3 || !d.reserve("a") {
		t.Fatalf("bound not kept: %d entries", d.len())
	}
	d.release("d")
	if !d.reserve("d") {
		t.Fatal("a released id is still remembered")
	}
}

// TestProbesAndMetricsAreNotOnTheWebhookListener: docs/security.md says to
// expose only POST /webhook, so the webhook listener answers 404 for the
// metrics and the probes; they are served on their own listener.
func TestProbesAndMetricsAreNotOnTheWebhookListener(t *testing.T) {
	fb := newFakeBackend()
	ts := newTestServer(t, fb, Options{})
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if rec := ts.get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s on the webhook listener: %d, want 404", path, rec.Code)
		}
	}
}

// TestIntakeRecordsHeadMoves: a delivery that moves a pull request to a head
// (opened, synchronize, reopened) is recorded with its receipt before it is
// answered 202, so the evaluator binds comment commands to the move however
// the work is coalesced; other actions record nothing; a record that cannot
// be written refuses the delivery with 503 (GitHub marks it failed, and
// redelivery repairs it) and leaves no work queued.
func TestIntakeRecordsHeadMoves(t *testing.T) {
	fb := newFakeBackend()
	now := time.Date(2026, 12, 2, 12, 0, 3, 250e6, time.UTC)
	ts := newTestServer(t, fb, Options{Now: func() time.Time { return now }})
	for i, action := range []string{"opened", "synchronize", "labeled", "reopened", "edited"} {
		if rec := ts.deliver(t, "pull_request", fmt.Sprint("m-", i), prEvent(t, action, "acme/widgets", 17, "sha-"+action)); rec.Code != http.StatusAccepted {
			t.Fatalf("%s: status %d", action, rec.Code)
		}
	}
	fb.mu.Lock()
	got := append([]recordedMove(nil), fb.moves...)
	fb.mu.Unlock()
	want := []recordedMove{{"acme/widgets", 17, "sha-opened", now}, {"acme/widgets", 17, "sha-synchronize", now}, {"acme/widgets", 17, "sha-reopened", now}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moves recorded %v, want %v", got, want)
	}
	ts.waitIdle(t)

	fb.mu.Lock()
	fb.moveErr = errors.New("redis: connection refused")
	before := len(fb.evaluated)
	fb.mu.Unlock()
	if rec := ts.deliver(t, "pull_request", "m-fail", prEvent(t, "synchronize", "acme/widgets", 17, "sha-lost")); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a move that cannot be recorded: status %d, want 503", rec.Code)
	}
	ts.waitIdle(t)
	fb.mu.Lock()
	fb.moveErr = nil
	after := len(fb.evaluated)
	fb.mu.Unlock()
	if after != before {
		t.Errorf("a refused delivery was evaluated")
	}
	// GitHub's redelivery (same delivery id) is accepted once the record can be written.
	if rec := ts.deliver(t, "pull_request", "m-fail", prEvent(t, "synchronize", "acme/widgets", 17, "sha-lost")); rec.Code != http.StatusAccepted {
		t.Fatalf("the redelivery: status %d, want 202", rec.Code)
	}
}

// TestIntakeRecordsBaseMoves: the base a pull request is opened with is
// recorded with no time, and a retarget (edited with changes.base) with its
// receipt, before the delivery is answered 202, so the evaluator can tell
// approvals given before the base changed; other edits and actions record
// no base; a record that cannot be written refuses the delivery with 503.
func TestIntakeRecordsBaseMoves(t *testing.T) {
	fb := newFakeBackend()
	now := time.Date(2026, 12, 3, 9, 0, 1, 500e6, time.UTC)
	ts := newTestServer(t, fb, Options{Now: func() time.Time { return now }})
	retarget := &github.EditChange{Base: &github.EditBase{Ref: &github.EditRef{From: github.String("stack")}, SHA: &github.EditSHA{From: github.String("base-stack")}}}
	retitle := &github.EditChange{Title: &github.EditTitle{From: github.String("Old title")}}
	for i, ev := range [][]byte{
		basePREvent(t, "opened", "acme/widgets", 17, "sha-1", "stack", nil),
		basePREvent(t, "synchronize", "acme/widgets", 17, "sha-2", "stack", nil),
		basePREvent(t, "edited", "acme/widgets", 17, "sha-2", "stack", retitle),
		basePREvent(t, "edited", "acme/widgets", 17, "sha-2", "main", retarget),
		basePREvent(t, "labeled", "acme/widgets", 17, "sha-2", "main", nil),
	} {
		if rec := ts.deliver(t, "pull_request", fmt.Sprint("b-", i), ev); rec.Code != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d", i, rec.Code)
		}
	}
	fb.mu.Lock()
	got := append([]recordedMove(nil), fb.baseMoves...)
	fb.mu.Unlock()
	want := []recordedMove{{"acme/widgets", 17, "stack", time.Time{}}, {"acme/widgets", 17, "main", now}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("base moves recorded %v, want %v", got, want)
	}
	ts.waitIdle(t)

	fb.mu.Lock()
	fb.moveErr = errors.New("redis: connection refused")
	before := len(fb.evaluated)
	fb.mu.Unlock()
	if rec := ts.deliver(t, "pull_request", "b-fail", basePREvent(t, "edited", "acme/widgets", 17, "sha-2", "release", retarget)); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a retarget that cannot be recorded: status %d, want 503", rec.Code)
	}
	ts.waitIdle(t)
	fb.mu.Lock()
	fb.moveErr = nil
	after := len(fb.evaluated)
	fb.mu.Unlock()
	if after != before {
		t.Errorf("a refused delivery was evaluated")
	}
}
