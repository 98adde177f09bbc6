package webhook

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

var testSecret = []byte("It's a Secret to Everybody")

// The example from GitHub's "Validating webhook deliveries" documentation.
func TestVerifyGitHubDocumentedExample(t *testing.T) {
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if err := Verify(testSecret, []byte("Hello, World!"), sig); err != nil {
		t.Fatalf("documented example does not verify: %v", err)
	}
	if got := Sign(testSecret, []byte("Hello, World!")); got != sig {
		t.Fatalf("Sign = %s, want %s", got, sig)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"action":"opened"}`)
	good := Sign(testSecret, body)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{"valid", testSecret, body, good, nil},
		{"valid upper-case hex", testSecret, body, "sha256=" + strings.ToUpper(good[7:]), nil},
		{"missing", testSecret, body, "", ErrMissingSignature},
		{"no secret configured", nil, body, good, ErrNoSecret},
		{"sha1 header value", testSecret, body, "sha1=" + strings.Repeat("0", 40), ErrMalformedSignature},
		{"no prefix", testSecret, body, good[7:], ErrMalformedSignature},
		{"truncated", testSecret, body, good[:len(good)-2], ErrMalformedSignature},
		{"not hex", testSecret, body, "sha256=" + strings.Repeat("zz", 32), ErrMalformedSignature},
		{"trailing space", testSecret, body, good + " ", ErrMalformedSignature},
		{"wrong secret", []byte("other"), body, good, ErrBadSignature},
		{"tampered body", testSecret, []byte(`{"action":"closed"}`), good, ErrBadSignature},
		{"empty body", testSecret, nil, good, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.body, tt.header)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), good[7:]) {
				t.Fatalf("error %q reveals the expected signature", err)
			}
		})
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		event, action, _ := strings.Cut(strings.TrimSuffix(name, ".json"), ".")
		if event == "push" {
			action = ""
		}
		t.Run(name, func(t *testing.T) {
			v, err := Parse(event, readTestdata(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := Action(v); got != action {
				t.Fatalf("Action = %q, want %q", got, action)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	v, err := Parse("pull_request_review", readTestdata(t, "pull_request_review.submitted.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev := v.(*github.PullRequestReviewEvent)
	if ev.GetReview().GetState() != "approved" || ev.GetPullRequest().GetNumber() != 17 ||
		ev.GetRepo().GetFullName() != "acme/widgets" || ev.GetInstallation().GetID() != 4242 {
		t.Fatalf("unexpected review event: %+v", ev)
	}

	v, err = Parse("push", readTestdata(t, "push.policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	push := v.(*github.PushEvent)
	if push.GetRef() != "refs/heads/main" || push.GetRepo().GetDefaultBranch() != "main" ||
		len(push.Commits) != 1 || push.Commits[0].Modified[0] != ".github/countersign.yml" {
		t.Fatalf("unexpected push event: %+v", push)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, event, body, want string
	}{
		{"no event", "", `{}`, "missing X-GitHub-Event"},
		{"unknown event", "not_an_event", `{}`, "unknown event"},
		{"empty body", "pull_request", ``, "not a JSON object"},
		{"null", "pull_request", `null`, "not a JSON object"},
		{"array", "pull_request", `[{"action":"opened"}]`, "not a JSON object"},
		{"truncated", "pull_request", `{"action":"opened","pull_request":{`, "pull_request payload"},
		{"wrong type", "pull_request", `{"action":"opened","number":"seventeen"}`, "pull_request payload"},
		{"trailing garbage", "push", `{"ref":"refs/heads/main"} {}`, "push payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.event, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	js := []byte(`{"zen":"x"}`)
	if got, err := Payload("application/json; charset=utf-8", js); err != nil || !bytes.Equal(got, js) {
		t.Fatalf("json: %q, %v", got, err)
	}
	form := []byte("payload=" + url.QueryEscape(string(js)))
	if got, err := Payload("application/x-www-form-urlencoded", form); err != nil || !bytes.Equal(got, js) {
		t.Fatalf("form: %q, %v", got, err)
	}
	if _, err := Payload("application/x-www-form-urlencoded", []byte("other=1")); err == nil {
		t.Fatal("form without payload accepted")
	}
	if _, err := Payload("text/plain", js); err == nil {
		t.Fatal("text/plain accepted")
	}
}

// GitHub's published check_run examples carry "2018-04-25 20:42:10" style
// timestamps; the intake must read them, not refuse the delivery.
func TestParseLegacyTimestamps(t *testing.T) {
	body := []byte(`{"action":"rerequested","check_run":{"id":4,"head_sha":"d6fde92930d4715a2b49857d24b940956b26d2d3","started_at":"2018-04-25 20:42:10","completed_at":"2018-04-25 20:42:12 +0200","pull_requests":[{"number":2,"url":"u","id":1}]},"installation":{"id":7},"repository":{"id":9,"full_name":"o/r","name":"r","owner":{"login":"o"}}}`)
	ev, err := Parse("check_run", body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cr := ev.(*github.CheckRunEvent).GetCheckRun()
	if got := cr.GetStartedAt().UTC().Format(time.RFC3339); got != "2018-04-25T20:42:10Z" {
		t.Errorf("started_at = %s", got)
	}
	if got := cr.GetCompletedAt().UTC().Format(time.RFC3339); got != "2018-04-25T18:42:12Z" {
		t.Errorf("completed_at = %s", got)
	}
	if n := cr.PullRequests[0].GetNumber(); n != 2 || cr.GetID() != 4 {
		t.Errorf("fields lost in normalisation: number %d id %d", n, cr.GetID())
	}
	// A timestamp that is neither RFC 3339 nor the legacy form is still refused.
	bad := bytes.Replace(body, []byte(`"2018-04-25 20:42:10"`), []byte(`"yesterday"`), 1)
	if _, err := Parse("check_run", bad); err == nil {
		t.Error("Parse accepted started_at \"yesterday\"")
	}
}
