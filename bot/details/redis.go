package details

import (
	"context"
	"encoding/json"
	"time"

	"github.com/countersign/countersign/checks"
	"github.com/redis/go-redis/v9"
)

// Verdicts is where the page finds the published verdicts.
type Verdicts interface {
	// Put stores v as the latest verdict of the pull request at head.
	Put(owner, repo string, number int, head string, v *checks.Verdict)
	// Get returns the latest verdict stored for the pull request at head.
	Get(owner, repo string, number int, head string) (Entry, bool)
}

// RedisStoreTTL is how long a verdict stays in a RedisStore after it was published.
const RedisStoreTTL = 30 * 24 * time.Hour

// RedisStore keeps the published verdicts in Redis, so every replica (and
// every replica after a restart) serves the details page of a verdict any
// replica published. Each verdict expires RedisStoreTTL after it was stored.
type RedisStore struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// NewRedisStore returns a RedisStore on rdb.
func NewRedisStore(rdb redis.UniversalClient) *RedisStore {
	return &RedisStore{rdb: rdb, now: time.Now}
}

func redisStoreKey(owner, repo string, number int, head string) string {
	return "countersign:details:" + storeKey(owner, repo, number, head)
}

// Put stores v; a Redis failure leaves the page "not available", never wrong.
func (s *RedisStore) Put(owner, repo string, number int, head string, v *checks.Verdict) {
	if v == nil {
		return
	}
	b, err := json.Marshal(Entry{Verdict: v, At: s.now()})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.rdb.Set(ctx, redisStoreKey(owner, repo, number, head), b, RedisStoreTTL)
}

// Get returns the verdict stored for the pull request at head.
func (s *RedisStore) Get(owner, repo string, number int, head string) (Entry, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := s.rdb.Get(ctx, redisStoreKey(owner, repo, number, head)).Bytes()
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil || e.Verdict == nil {
		return Entry{}, false
	}
	return e, true
}

var (
	_ Verdicts = (*Store)(nil)
	_ Verdicts = (*RedisStore)(nil)
)
