// Package statetest is the contract every implementation of bot/state's
// stores must meet; an implementation's tests call Run with fresh stores.
package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/state"
)

// Run checks that s behaves as bot/state documents. The stores must be empty.
func Run(t *testing.T, s state.Stores) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("CheckRuns", func(t *testing.T) {
		if _, ok, err := s.CheckRuns.CheckRun(ctx, "acme/web", "aaa"); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		want := state.CheckRun{ID: 7, StartedAt: at, Status: "completed", Conclusion: "success", Digest: [32]byte{1, 2, 3}}
		if err := s.CheckRuns.PutCheckRun(ctx, "acme/web", "aaa", want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.CheckRuns.CheckRun(ctx, "ACME/Web", "aaa")
		if err != nil || !ok || got.ID != want.ID || !got.StartedAt.Equal(at) || got.Status != want.Status ||
			got.Conclusion != want.Conclusion || got.Digest != want.Digest {
			t.Fatalf("got %+v ok=%v err=%v, want %+v (repository names compare without case)", got, ok, err, want)
		}
		if _, ok, _ := s.CheckRuns.CheckRun(ctx, "acme/web", "bbb"); ok {
			t.Fatal("another head shares the record")
		}
		if _, ok, _ := s.CheckRuns.CheckRun(ctx, "acme/api", "aaa"); ok {
			t.Fatal("another repository shares the record")
		}
		want.ID, want.Status, want.Conclusion, want.Digest = 0, "", "", [32]byte{}
		if err := s.CheckRuns.PutCheckRun(ctx, "acme/web", "aaa", want); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.CheckRuns.CheckRun(ctx, "acme/web", "aaa"); got.ID != 0 || got.Status != "" {
			t.Fatalf("a put does not replace the record: %+v", got)
		}
	})

	t.Run("HeadMoves", func(t *testing.T) {
		if _, ok, err := s.HeadMoves.HeadMove(ctx, "acme/web", 1); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		if err := s.HeadMoves.PutHeadMove(ctx, "acme/web", 1, state.HeadMove{Head: "aaa", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.HeadMoves.PutHeadMove(ctx, "acme/web", 1, state.HeadMove{Head: "bbb", At: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.HeadMoves.HeadMove(ctx, "Acme/WEB", 1)
		if err != nil || !ok || got.Head != "bbb" || !got.At.Equal(at.Add(time.Minute)) {
			t.Fatalf("got %+v ok=%v err=%v, want the last move", got, ok, err)
		}
		if _, ok, _ := s.HeadMoves.HeadMove(ctx, "acme/web", 2); ok {
			t.Fatal("another pull request shares the record")
		}
	})

	t.Run("BaseMoves", func(t *testing.T) {
		if _, ok, err := s.HeadMoves.BaseMove(ctx, "acme/web", 1); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		if err := s.HeadMoves.PutBaseMove(ctx, "acme/web", 1, state.BaseMove{Base: "stack"}); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.HeadMoves.BaseMove(ctx, "acme/web", 1); err != nil || !ok || got.Base != "stack" || !got.At.IsZero() {
			t.Fatalf("got %+v ok=%v err=%v, want the base it was opened with and no time", got, ok, err)
		}
		if err := s.HeadMoves.PutBaseMove(ctx, "acme/web", 1, state.BaseMove{Base: "main", At: at}); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.HeadMoves.BaseMove(ctx, "Acme/WEB", 1)
		if err != nil || !ok || got.Base != "main" || !got.At.Equal(at) {
			t.Fatalf("got %+v ok=%v err=%v, want the last base change", got, ok, err)
		}
		if hm, _, _ := s.HeadMoves.HeadMove(ctx, "acme/web", 1); hm.Head != "bbb" {
			t.Fatalf("a base move replaced the head move: %+v", hm)
		}
		if _, ok, _ := s.HeadMoves.BaseMove(ctx, "acme/web", 2); ok {
			t.Fatal("another pull request shares the record")
		}
	})

	t.Run("EditedComments", func(t *testing.T) {
		if _, ok, err := s.EditedComments.EditedAt(ctx, "acme/web", 5); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		if err := s.EditedComments.MarkEdited(ctx, "acme/web", 5, at); err != nil {
			t.Fatal(err)
		}
		if err := s.EditedComments.MarkEdited(ctx, "acme/web", 5, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.EditedComments.EditedAt(ctx, "ACME/web", 5)
		if err != nil || !ok || !got.Equal(at) {
			t.Fatalf("got %v ok=%v err=%v, want the first recorded edit %v", got, ok, err, at)
		}
		if _, ok, _ := s.EditedComments.EditedAt(ctx, "acme/web", 6); ok {
			t.Fatal("another comment shares the record")
		}
		if _, ok, _ := s.EditedComments.EditedAt(ctx, "acme/api", 5); ok {
			t.Fatal("another repository shares the record")
		}
	})

	t.Run("Reliances", func(t *testing.T) {
		if _, ok, err := s.Reliances.Reliance(ctx, "acme/web", 1); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		if err := s.Reliances.PutReliance(ctx, "acme/web", 1, state.Reliance{Head: "aaa", Pending: true}); err != nil {
			t.Fatal(err)
		}
		want := state.Reliance{Head: "aaa", Logins: []string{"bob", "erin"}}
		if err := s.Reliances.PutReliance(ctx, "acme/web", 1, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Reliances.Reliance(ctx, "ACME/web", 1)
		if err != nil || !ok || got.Head != "aaa" || got.Pending || len(got.Logins) != 2 || got.Logins[0] != "bob" || got.Logins[1] != "erin" {
			t.Fatalf("got %+v ok=%v err=%v, want the last record %+v", got, ok, err, want)
		}
		if _, ok, _ := s.Reliances.Reliance(ctx, "acme/web", 2); ok {
			t.Fatal("another pull request shares the record")
		}
		if _, ok, _ := s.Reliances.Reliance(ctx, "acme/api", 1); ok {
			t.Fatal("another repository shares the record")
		}
	})

	t.Run("RateLimits", func(t *testing.T) {
		if _, ok, err := s.RateLimits.RateLimit(ctx, 7); ok || err != nil {
			t.Fatalf("empty store: ok=%v err=%v", ok, err)
		}
		reset := at.Add(time.Hour)
		note := func(inst int64, remaining int, reset time.Time) {
			t.Helper()
			if err := s.RateLimits.NoteRateLimit(ctx, inst, state.RateLimit{Remaining: remaining, Limit: 5000, Reset: reset, At: at}); err != nil {
				t.Fatal(err)
			}
		}
		want := func(remaining int, reset time.Time, why string) {
			t.Helper()
			got, ok, err := s.RateLimits.RateLimit(ctx, 7)
			if err != nil || !ok || got.Remaining != remaining || got.Limit != 5000 || !got.Reset.Equal(reset) || !got.At.Equal(at) {
				t.Fatalf("%s: got %+v ok=%v err=%v, want %d remaining until %v", why, got, ok, err, remaining, reset)
			}
		}
		note(7, 4000, reset)
		want(4000, reset, "the first observation")
		note(7, 3000, reset) // another replica's later call
		want(3000, reset, "fewer remaining in the same window")
		note(7, 3500, reset) // a replica's earlier call, noted late
		want(3000, reset, "more remaining in the same window (an older observation)")
		note(7, 100, at) // a window that has already reset
		want(3000, reset, "an older window")
		next := reset.Add(time.Hour)
		note(7, 4999, next)
		want(4999, next, "a later window")
		if _, ok, _ := s.RateLimits.RateLimit(ctx, 8); ok {
			t.Fatal("another installation shares the record")
		}
	})
}
