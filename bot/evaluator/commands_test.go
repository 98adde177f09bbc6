package evaluator

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/checks"
)

func TestAuditRecordsTheOverride(t *testing.T) {
	var buf bytes.Buffer
	e := New(Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pr := &pull.PR{}
	pr.HeadSHA = "0123456789abcdef0123456789abcdef01234567"
	j := &judged{pr: pr, v: &checks.Verdict{
		Conclusion:     checks.Success,
		Override:       &checks.Override{ID: 7, Login: "erin", Reason: "hotfix for INC-42", CommitSHA: pr.HeadSHA, At: at},
		ProtectedFiles: []checks.ProtectedFile{{Path: "infra/main.tf", Rule: "terraform"}},
		Requirements:   []checks.Requirement{{Name: "path:terraform", Needed: 1}},
	}}
	e.audit(j, server.CommandJob{Job: server.Job{Owner: "acme", Repo: "infra", Number: 3}, CommentID: 7, Login: "erin", CreatedAt: at})
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := map[string]any{"level": "WARN", "audit": true, "actor": "erin", "repo": "acme/infra", "pr": float64(3),
		"head_sha": pr.HeadSHA, "reason": "hotfix for INC-42", "at": "2026-03-01T12:00:00Z"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if files, _ := json.Marshal(rec["protected_files"]); string(files) != `["infra/main.tf"]` {
		t.Errorf("protected_files = %s", files)
	}
	if unmet, _ := json.Marshal(rec["unmet_requirements"]); string(unmet) != `["path:terraform"]` {
		t.Errorf("unmet_requirements = %s", unmet)
	}
}

func TestCheckRunActionsFitGitHubsLimits(t *testing.T) {
	for _, c := range []checks.Conclusion{checks.Success, checks.ActionRequired, checks.Failure} {
		acts := checkRunActions(string(c))
		if len(acts) == 0 || len(acts) > 3 {
			t.Fatalf("%s: %d actions", c, len(acts))
		}
		for _, a := range acts {
			if len(a.Label) > 20 || len(a.Description) > 40 || len(a.Identifier) > 20 || a.Label == "" || a.Description == "" {
				t.Errorf("%s: action %+v does not fit GitHub's limits", c, a)
			}
		}
	}
	if got := checkRunActions(string(checks.ActionRequired)); got[0].Identifier != ActionRequestReview {
		t.Errorf("action_required offers %q first, want %q", got[0].Identifier, ActionRequestReview)
	}
}

func TestCodeCannotBeClosedByItsContent(t *testing.T) {
	for s, want := range map[string]string{
		"/countersign override a`b": "``/countersign override a`b``",
		"``x``":                     "``` ``x`` ```",
		"plain":                     "`plain`",
		"two\nlines":                "`two lines`",
	} {
		if q := code(s); q != want {
			t.Errorf("code(%q) = %q, want %q", s, q, want)
		}
	}
	if f := fenced("a\n```\nb"); !strings.HasPrefix(f, "````text\n") {
		t.Errorf("fenced does not outgrow the content's fence: %q", f)
	}
}
