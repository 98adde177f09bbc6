package replicas

import (
	"testing"
	"time"
)

func TestRecords(t *testing.T) {
	text := `{"time":"2026-12-02T18:00:00.5Z","level":"INFO","msg":"evaluated","repo":"acme/infra","pr":7,"reason":"pull_request.opened","head_sha":"abc","duration":12000000}
not json
{"time":"2026-12-02T18:00:01Z","level":"WARN","msg":"work failed; will retry"}
`
	rs := Records(text)
	if len(rs) != 2 {
		t.Fatalf("%d records, want 2: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Msg != "evaluated" || r.Repo != "acme/infra" || r.PR != 7 || r.Reason != "pull_request.opened" || r.HeadSHA != "abc" ||
		r.Duration != 12*time.Millisecond || !r.Time.Equal(time.Date(2026, 12, 2, 18, 0, 0, 5e8, time.UTC)) {
		t.Errorf("record %+v", r)
	}
	if rs[1].Level != "WARN" {
		t.Errorf("level %q", rs[1].Level)
	}
}
