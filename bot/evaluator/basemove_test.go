package evaluator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
	"github.com/google/go-github/v62/github"
)

// TestBaseChangedAt: the time approvals must follow comes from the store
// when it names the current base, asking GitHub nothing (the common path);
// when the store names another base or none, GitHub's issue events place
// the last base change (or say there was none), and what was found is
// recorded; a retarget the store saw but GitHub does not list yet falls back
// to updated_at; a snapshot older than the record takes the record's time;
// a failed read is an error, never "never changed".
func TestBaseChangedAt(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	retargeted := t0.Add(time.Minute)
	updated := t0.Add(time.Hour)
	job := server.Job{Owner: "acme", Repo: "infra", Number: 7}
	prOn := func(base string, updatedAt time.Time) *pull.PR {
		pr := &pull.PR{UpdatedAt: updatedAt}
		pr.BaseRef = base
		return pr
	}
	cases := []struct {
		name     string
		record   *state.BaseMove
		pr       *pull.PR
		events   string // the issue events GitHub lists; "fail" answers 502
		want     time.Time
		wantErr  bool
		calls    int
		recorded *state.BaseMove // nil: the record is unchanged
	}{
		{name: "the recorded retarget to the current base", record: &state.BaseMove{Base: "main", At: retargeted},
			pr: prOn("main", updated), want: retargeted},
		{name: "the base the pull request was opened with", record: &state.BaseMove{Base: "stack"},
			pr: prOn("stack", updated)},
		{name: "no record, GitHub lists a retarget", pr: prOn("main", updated), calls: 1,
			events: `[{"id":1,"event":"labeled","created_at":"2026-12-03T09:05:00Z"},{"id":2,"event":"base_ref_changed","created_at":"2026-12-03T09:01:00Z"}]`,
			want:   retargeted, recorded: &state.BaseMove{Base: "main", At: retargeted}},
		{name: "no record, GitHub lists no retarget", pr: prOn("main", updated), calls: 1, events: `[]`,
			recorded: &state.BaseMove{Base: "main"}},
		{name: "a record of another base, GitHub lists the retarget", record: &state.BaseMove{Base: "stack"}, pr: prOn("main", updated), calls: 1,
			events: `[{"id":2,"event":"base_ref_changed","created_at":"2026-12-03T09:01:00Z"}]`,
			want:   retargeted, recorded: &state.BaseMove{Base: "main", At: retargeted}},
		{name: "a record of another base, GitHub lists none yet", record: &state.BaseMove{Base: "stack"}, pr: prOn("main", updated), calls: 1,
			events: `[]`, want: updated, recorded: &state.BaseMove{Base: "main", At: updated}},
		{name: "a snapshot older than the recorded retarget", record: &state.BaseMove{Base: "main", At: retargeted},
			pr: prOn("stack", t0), want: retargeted},
		{name: "GitHub fails", pr: prOn("main", updated), calls: 1, events: "fail", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.URL.Path != "/repos/acme/infra/issues/7/events" || tc.events == "fail" {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tc.events)
			}))
			defer srv.Close()
			client := github.NewClient(nil)
			client.BaseURL, _ = url.Parse(srv.URL + "/")
			stores := state.NewMemoryStores()
			if tc.record != nil {
				_ = stores.HeadMoves.PutBaseMove(ctx, "acme/infra", 7, *tc.record)
			}
			e := New(Options{Stores: stores})
			got, err := e.baseChangedAt(ctx, client, job, tc.pr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Errorf("base changed at %v, want %v", got, tc.want)
			}
			if int(calls.Load()) != tc.calls {
				t.Errorf("%d calls to GitHub, want %d", calls.Load(), tc.calls)
			}
			want := tc.record
			if tc.recorded != nil {
				want = tc.recorded
			}
			rec, ok, _ := stores.HeadMoves.BaseMove(ctx, "acme/infra", 7)
			switch {
			case want == nil && ok:
				t.Errorf("recorded %+v, want nothing", rec)
			case want != nil && (!ok || rec.Base != want.Base || !rec.At.Equal(want.At)):
				t.Errorf("record %+v (%v), want %+v", rec, ok, *want)
			}
		})
	}
}
