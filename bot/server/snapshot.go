package server

import (
	"container/list"
	"crypto/sha256"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
)

// snapshots decides when the pull request a delivery carried may stand in
// for reading it from GitHub. A snapshot is kept on a job only when it is at
// least as new as every snapshot seen for that pull request (an equal
// updated_at only with identical content: GitHub's timestamps have one
// second of precision), when it is newer than the floor (the process start,
// raised to the updated_at of any entry the bounded table forgets), and when
// its delivery is not one this process redelivered. Deliveries may arrive
// out of order and the queue keeps the latest to arrive, so without this an
// older snapshot could be judged after a newer one; before the floor, an
// earlier process may have acted on a newer state this one never saw.
type snapshots struct {
	mu          sync.Mutex
	max         int
	floor       time.Time
	ll          *list.List
	idx         map[string]*list.Element
	redelivered map[string]time.Time // delivery id -> when it was redelivered
}

type snapEntry struct {
	key    string
	at     time.Time
	digest [32]byte
}

// maxRedelivered bounds how many redelivered delivery ids are remembered.
const maxRedelivered = 10000

func newSnapshots(max int, start time.Time) *snapshots {
	if max <= 0 {
		max = DefaultDedupSize
	}
	return &snapshots{max: max, floor: start, ll: list.New(), idx: map[string]*list.Element{}, redelivered: map[string]time.Time{}}
}

// snapshotDigest covers what the backend reads from a snapshot.
func snapshotDigest(pr *github.PullRequest) [32]byte {
	var b strings.Builder
	for _, s := range []string{pr.GetState(), strconv.FormatBool(pr.GetDraft()), strconv.FormatBool(pr.GetMerged()),
		pr.GetHead().GetSHA(), pr.GetHead().GetRef(), pr.GetBase().GetSHA(), pr.GetBase().GetRef(),
		pr.GetUser().GetLogin(), pr.GetTitle(), pr.GetBody()} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, l := range pr.Labels {
		b.WriteString(l.GetName())
		b.WriteByte(1)
	}
	return sha256.Sum256([]byte(b.String()))
}

// admit returns j with its snapshot kept or dropped, and records it.
func (s *snapshots) admit(j Job) Job {
	if j.Snapshot == nil {
		return j
	}
	at := j.Snapshot.GetUpdatedAt().Time
	if at.IsZero() || j.Snapshot.GetHead().GetSHA() == "" || j.Snapshot.GetBase().GetSHA() == "" {
		j.Snapshot = nil
		return j
	}
	digest := snapshotDigest(j.Snapshot)
	key := j.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := true
	if _, ok := s.redelivered[j.DeliveryID]; ok && j.DeliveryID != "" {
		keep = false
	}
	if el, ok := s.idx[key]; ok {
		e := el.Value.(*snapEntry)
		s.ll.MoveToFront(el)
		switch {
		case at.After(e.at):
			e.at, e.digest = at, digest
		case at.Equal(e.at) && digest == e.digest:
		case at.Equal(e.at):
			// Two states in one second: neither can be trusted.
			e.digest = [32]byte{}
			keep = false
		default:
			keep = false
		}
	} else {
		if !at.After(s.floor) {
			keep = false
		}
		s.idx[key] = s.ll.PushFront(&snapEntry{key: key, at: at, digest: digest})
		for s.ll.Len() > s.max {
			old := s.ll.Back()
			s.ll.Remove(old)
			e := old.Value.(*snapEntry)
			delete(s.idx, e.key)
			if e.at.After(s.floor) {
				s.floor = e.at
			}
		}
	}
	if !keep {
		j.Snapshot = nil
	}
	return j
}

// markRedelivered records that this process asked GitHub to redeliver a
// delivery: its payload is old, so its snapshot is never trusted.
func (s *snapshots) markRedelivered(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.redelivered) >= maxRedelivered {
		for k, at := range s.redelivered {
			if now.Sub(at) > 24*time.Hour {
				delete(s.redelivered, k)
			}
		}
		if len(s.redelivered) >= maxRedelivered {
			// Still full: forget everything and trust no snapshot from before now.
			clear(s.redelivered)
			if now.After(s.floor) {
				s.floor = now
			}
		}
	}
	s.redelivered[id] = now
}
