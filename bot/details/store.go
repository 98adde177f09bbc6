package details

import (
	"container/list"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/checks"
)

// DefaultStoreEntries bounds a Store when no size is given.
const DefaultStoreEntries = 10000

// Entry is a stored verdict and when it was published.
type Entry struct {
	// Verdict is a private copy of the published verdict.
	Verdict *checks.Verdict
	// At is when it was stored.
	At time.Time
}

// Store keeps the latest verdict of each repository, pull request and head,
// in memory, evicting the least recently stored beyond its bound. It is safe
// for concurrent use.
type Store struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front: most recent; values are *item
	items map[string]*list.Element
	now   func() time.Time
}

type item struct {
	key   string
	entry Entry
}

// NewStore returns a Store holding at most max verdicts (DefaultStoreEntries when max <= 0).
func NewStore(max int) *Store {
	if max <= 0 {
		max = DefaultStoreEntries
	}
	return &Store{max: max, ll: list.New(), items: map[string]*list.Element{}, now: time.Now}
}

func storeKey(owner, repo string, number int, head string) string {
	return strings.ToLower(owner+"/"+repo) + "#" + strconv.Itoa(number) + "@" + strings.ToLower(head)
}

// Put stores a copy of v as the latest verdict of the pull request at head.
// Its signature is evaluator.Options.OnPublish's.
func (s *Store) Put(owner, repo string, number int, head string, v *checks.Verdict) {
	if v == nil {
		return
	}
	cp, err := clone(v)
	if err != nil {
		return
	}
	key := storeKey(owner, repo, number, head)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Entry{Verdict: cp, At: s.now()}
	if el, ok := s.items[key]; ok {
		el.Value.(*item).entry = e
		s.ll.MoveToFront(el)
		return
	}
	s.items[key] = s.ll.PushFront(&item{key: key, entry: e})
	for s.ll.Len() > s.max {
		last := s.ll.Back()
		s.ll.Remove(last)
		delete(s.items, last.Value.(*item).key)
	}
}

// Get returns the latest verdict stored for the pull request at head.
func (s *Store) Get(owner, repo string, number int, head string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[storeKey(owner, repo, number, head)]
	if !ok {
		return Entry{}, false
	}
	return el.Value.(*item).entry, true
}

// Len returns how many verdicts are stored.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ll.Len()
}

// clone deep-copies a verdict through its public JSON form, so the page
// renders exactly what the verdict's documented format holds.
func clone(v *checks.Verdict) (*checks.Verdict, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out checks.Verdict
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
