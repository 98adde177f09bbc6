package evaluator

import (
	"context"
	"testing"

	"github.com/countersign/countersign/bot/server"
	"github.com/countersign/countersign/bot/state"
)

// TestReadsStanding: a change of standing re-evaluates a pull request
// when its verdict read the standing of someone it names, and whenever
// what the verdict read is not known; never one whose known verdict read
// nobody the change names.
func TestReadsStanding(t *testing.T) {
	ctx := context.Background()
	job := server.Job{Owner: "acme", Repo: "infra", Number: 3, HeadSHA: "aaa"}
	bob := server.Standing{Logins: []string{"bob"}}
	anyone := server.Standing{Anyone: true}
	cases := []struct {
		name   string
		record *state.Reliance
		change server.Standing
		want   bool
	}{
		{"no record (lost, or a restart without Redis)", nil, bob, true},
		{"an evaluation under way", &state.Reliance{Head: "aaa", Pending: true}, bob, true},
		{"the record is of another head", &state.Reliance{Head: "bbb"}, bob, true},
		{"the verdict read bob", &state.Reliance{Head: "aaa", Logins: []string{"alice", "bob"}}, server.Standing{Logins: []string{"Bob"}}, true},
		{"the verdict read others only", &state.Reliance{Head: "aaa", Logins: []string{"erin"}}, bob, false},
		{"the verdict read nobody", &state.Reliance{Head: "aaa"}, bob, false},
		{"anyone's standing, and the verdict read someone's", &state.Reliance{Head: "aaa", Logins: []string{"erin"}}, anyone, true},
		{"anyone's standing, and the verdict read nobody's", &state.Reliance{Head: "aaa"}, anyone, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{})
			if tc.record != nil {
				if err := e.stores.Reliances.PutReliance(ctx, "Acme/Infra", 3, *tc.record); err != nil {
					t.Fatal(err)
				}
			}
			got, err := e.ReadsStanding(ctx, job, tc.change)
			if err != nil || got != tc.want {
				t.Fatalf("ReadsStanding = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
