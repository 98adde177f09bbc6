package state

import (
	"container/list"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMemoryEntries bounds an in-memory CheckRuns or HeadMoves made with 0.
const DefaultMemoryEntries = 65536

// lru is a bounded map, least recently used first out, safe for concurrent use.
type lru[V any] struct {
	max int
	mu  sync.Mutex
	ll  *list.List
	idx map[string]*list.Element
}

type lruItem[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	if max <= 0 {
		max = DefaultMemoryEntries
	}
	return &lru[V]{max: max, ll: list.New(), idx: map[string]*list.Element{}}
}

func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.idx[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*lruItem[V]).val, true
}

func (c *lru[V]) put(key string, val V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.idx[key]; ok {
		el.Value.(*lruItem[V]).val = val
		c.ll.MoveToFront(el)
		return
	}
	c.idx[key] = c.ll.PushFront(&lruItem[V]{key: key, val: val})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.idx, old.Value.(*lruItem[V]).key)
	}
}

func repoKey(repo string, rest string) string { return strings.ToLower(repo) + "\x00" + rest }

// MemoryCheckRuns is a CheckRuns in memory, bounded (least recently used out).
type MemoryCheckRuns struct{ m *lru[CheckRun] }

// NewMemoryCheckRuns returns a CheckRuns of at most entries records (DefaultMemoryEntries when 0).
func NewMemoryCheckRuns(entries int) *MemoryCheckRuns {
	return &MemoryCheckRuns{m: newLRU[CheckRun](entries)}
}

// CheckRun returns the record of repo's head.
func (s *MemoryCheckRuns) CheckRun(_ context.Context, repo, head string) (CheckRun, bool, error) {
	r, ok := s.m.get(repoKey(repo, head))
	return r, ok, nil
}

// PutCheckRun records the check run of repo's head.
func (s *MemoryCheckRuns) PutCheckRun(_ context.Context, repo, head string, r CheckRun) error {
	s.m.put(repoKey(repo, head), r)
	return nil
}

// MemoryHeadMoves is a HeadMoves in memory, bounded (least recently used out).
type MemoryHeadMoves struct {
	m     *lru[HeadMove]
	bases *lru[BaseMove]
}

// NewMemoryHeadMoves returns a HeadMoves of at most entries records of each kind (DefaultMemoryEntries when 0).
func NewMemoryHeadMoves(entries int) *MemoryHeadMoves {
	return &MemoryHeadMoves{m: newLRU[HeadMove](entries), bases: newLRU[BaseMove](entries)}
}

// BaseMove returns the base record of repo's pull request number.
func (s *MemoryHeadMoves) BaseMove(_ context.Context, repo string, number int) (BaseMove, bool, error) {
	m, ok := s.bases.get(repoKey(repo, strconv.Itoa(number)))
	return m, ok, nil
}

// PutBaseMove records repo's pull request number's base and when it last changed.
func (s *MemoryHeadMoves) PutBaseMove(_ context.Context, repo string, number int, m BaseMove) error {
	s.bases.put(repoKey(repo, strconv.Itoa(number)), m)
	return nil
}

// HeadMove returns the record of repo's pull request number.
func (s *MemoryHeadMoves) HeadMove(_ context.Context, repo string, number int) (HeadMove, bool, error) {
	m, ok := s.m.get(repoKey(repo, strconv.Itoa(number)))
	return m, ok, nil
}

// PutHeadMove records where and when repo's pull request number last moved.
func (s *MemoryHeadMoves) PutHeadMove(_ context.Context, repo string, number int, m HeadMove) error {
	s.m.put(repoKey(repo, strconv.Itoa(number)), m)
	return nil
}

// MemoryEditedComments is an EditedComments in memory. It never forgets a
// record (one is a few dozen bytes, and an edit is a rare event).
type MemoryEditedComments struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// NewMemoryEditedComments returns an empty EditedComments.
func NewMemoryEditedComments() *MemoryEditedComments {
	return &MemoryEditedComments{m: map[string]time.Time{}}
}

// MarkEdited records that repo's comment id was edited at at; the first record is kept.
func (s *MemoryEditedComments) MarkEdited(_ context.Context, repo string, id int64, at time.Time) error {
	k := repoKey(repo, strconv.FormatInt(id, 10))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok {
		s.m[k] = at
	}
	return nil
}

// EditedAt returns when repo's comment id was edited.
func (s *MemoryEditedComments) EditedAt(_ context.Context, repo string, id int64) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.m[repoKey(repo, strconv.FormatInt(id, 10))]
	return at, ok, nil
}

// MemoryReliances is a Reliances in memory, bounded (least recently used out).
type MemoryReliances struct{ m *lru[Reliance] }

// NewMemoryReliances returns a Reliances of at most entries records (DefaultMemoryEntries when 0).
func NewMemoryReliances(entries int) *MemoryReliances {
	return &MemoryReliances{m: newLRU[Reliance](entries)}
}

// Reliance returns the record of repo's pull request number.
func (s *MemoryReliances) Reliance(_ context.Context, repo string, number int) (Reliance, bool, error) {
	r, ok := s.m.get(repoKey(repo, strconv.Itoa(number)))
	return r, ok, nil
}

// PutReliance records whose standing repo's pull request number's verdict read.
func (s *MemoryReliances) PutReliance(_ context.Context, repo string, number int, r Reliance) error {
	s.m.put(repoKey(repo, strconv.Itoa(number)), r)
	return nil
}

// MemoryRateLimits is a RateLimits in memory (one record per installation).
type MemoryRateLimits struct {
	mu sync.Mutex
	m  map[int64]RateLimit
}

// NewMemoryRateLimits returns an empty RateLimits.
func NewMemoryRateLimits() *MemoryRateLimits {
	return &MemoryRateLimits{m: map[int64]RateLimit{}}
}

// RateLimit returns the record of installation.
func (s *MemoryRateLimits) RateLimit(_ context.Context, installation int64) (RateLimit, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[installation]
	return r, ok, nil
}

// NoteRateLimit merges an observation into installation's record (Merge).
func (s *MemoryRateLimits) NoteRateLimit(_ context.Context, installation int64, r RateLimit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[installation]
	s.m[installation] = Merge(old, ok, r)
	return nil
}

var (
	_ RateLimits     = (*MemoryRateLimits)(nil)
	_ Reliances      = (*MemoryReliances)(nil)
	_ CheckRuns      = (*MemoryCheckRuns)(nil)
	_ HeadMoves      = (*MemoryHeadMoves)(nil)
	_ EditedComments = (*MemoryEditedComments)(nil)
)
