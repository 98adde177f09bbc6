package server

import (
	"testing"
	"time"

	"github.com/google/go-github/v62/github"
)

func TestToRedeliver(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	d := func(id int64, guid, status string, code int) HookDelivery {
		return HookDelivery{ID: id, GUID: guid, Status: status, StatusCode: code, DeliveredAt: at.Add(time.Duration(id) * time.Second)}
	}
	// Newest first, as GitHub lists them.
	ds := []HookDelivery{
		d(9, "a", "Invalid HTTP Response: 503", 503), // a failed again after succeeding: skip
		d(8, "b", "failed to connect to host", 0),    // b: newest failed attempt
		d(7, "c", "OK", 202),                         // c: succeeded on redelivery
		d(6, "c", "Invalid HTTP Response: 503", 503),
		d(5, "b", "Invalid HTTP Response: 500", 500),
		d(4, "a", "OK", 202),
		d(3, "e", "Invalid HTTP Response: 400", 400), // malformed: a redelivery fails again
		d(2, "f", "Pending", 0),
		d(1, "g", "timed out", 0),
	}
	got := toRedeliver(ds)
	var ids []int64
	for _, x := range got {
		ids = append(ids, x.ID)
	}
	if len(ids) != 2 || ids[0] != 8 || ids[1] != 1 {
		t.Errorf("redelivered attempts %v, want [8 1]", ids)
	}
}

func TestSnapshotAdmission(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	snap := func(sec int64, head, title string) *github.PullRequest {
		return &github.PullRequest{Number: github.Int(1), Title: github.String(title),
			UpdatedAt: &github.Timestamp{Time: start.Add(time.Duration(sec) * time.Second)},
			Head:      &github.PullRequestBranch{SHA: github.String(head)}, Base: &github.PullRequestBranch{SHA: github.String("base")}}
	}
	job := func(id string, pr *github.PullRequest) Job {
		return Job{Owner: "o", Repo: "r", Number: 1, DeliveryID: id, Snapshot: pr}
	}
	for _, tc := range []struct {
		name  string
		jobs  []Job
		kept  []bool
		redel string
	}{
		{"newer snapshots are kept", []Job{job("1", snap(5, "a", "t")), job("2", snap(6, "b", "t"))}, []bool{true, true}, ""},
		{"an older one arriving later is dropped", []Job{job("1", snap(6, "b", "t")), job("2", snap(5, "a", "t"))}, []bool{true, false}, ""},
		{"same second, same content: kept", []Job{job("1", snap(5, "a", "t")), job("2", snap(5, "a", "t"))}, []bool{true, true}, ""},
		{"same second, other content: dropped, and after", []Job{job("1", snap(5, "a", "t")), job("2", snap(5, "b", "t")), job("3", snap(5, "a", "t"))}, []bool{true, false, false}, ""},
		{"from before the start: dropped", []Job{job("1", snap(0, "a", "t")), job("2", snap(-60, "a", "t"))}, []bool{false, false}, ""},
		{"a delivery this process redelivered: dropped", []Job{job("1", snap(5, "a", "t"))}, []bool{false}, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSnapshots(10, start)
			if tc.redel != "" {
				s.markRedelivered(tc.redel, start)
			}
			for i, j := range tc.jobs {
				if got := s.admit(j).Snapshot != nil; got != tc.kept[i] {
					t.Errorf("job %d: snapshot kept = %v, want %v", i, got, tc.kept[i])
				}
			}
		})
	}

	// A forgotten pull request raises the floor to its snapshot's time.
	s := newSnapshots(1, start)
	s.admit(Job{Owner: "o", Repo: "r", Number: 1, Snapshot: snap(9, "a", "t")})
	s.admit(Job{Owner: "o", Repo: "r", Number: 2, Snapshot: snap(10, "a", "t")})
	if got := s.admit(Job{Owner: "o", Repo: "r", Number: 1, Snapshot: snap(8, "x", "t")}); got.Snapshot != nil {
		t.Error("an older snapshot of a forgotten pull request was kept")
	}
}
