package state

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// How long the Redis stores keep a record after its last write.
const (
	// RedisCheckRunTTL: a head's check run matters while the head is the
	// head of an open pull request; a lost record is looked up again.
	RedisCheckRunTTL = 30 * 24 * time.Hour
	// RedisHeadMoveTTL: a lost head move is read conservatively.
	RedisHeadMoveTTL = 30 * 24 * time.Hour
	// RedisBaseMoveTTL: a base move matters while the pull request is
	// open; a lost one costs a call to GitHub to read again, so a year, which
	// covers all but the stalest pull requests.
	RedisBaseMoveTTL = 365 * 24 * time.Hour
	// RedisEditedTTL: an edit must be remembered while the pull request is
	// open; a year covers all but the stalest.
	RedisEditedTTL = 365 * 24 * time.Hour
	// RedisRelianceTTL: a lost reliance re-evaluates its pull request on
	// any change of standing.
	RedisRelianceTTL = 30 * 24 * time.Hour
	// redisPrefix begins every key.
	redisPrefix = "countersign:state:"
)

// NewRedisStores returns Stores kept in Redis, shared by every replica that
// uses the same Redis, each record with a TTL.
func NewRedisStores(rdb redis.UniversalClient) Stores {
	r := redisStores{rdb}
	return Stores{CheckRuns: r, HeadMoves: r, EditedComments: r, Reliances: r, RateLimits: r}
}

type redisStores struct{ rdb redis.UniversalClient }

func redisKey(kind, repo, rest string) string {
	return redisPrefix + kind + ":" + strings.ToLower(repo) + ":" + rest
}

func (r redisStores) get(ctx context.Context, key string, v any) (bool, error) {
	b, err := r.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func (r redisStores) put(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.rdb.Set(ctx, key, b, ttl).Err()
}

// CheckRun returns the record of repo's head.
func (r redisStores) CheckRun(ctx context.Context, repo, head string) (CheckRun, bool, error) {
	var c CheckRun
	ok, err := r.get(ctx, redisKey("checkrun", repo, head), &c)
	return c, ok, err
}

// PutCheckRun records the check run of repo's head.
func (r redisStores) PutCheckRun(ctx context.Context, repo, head string, c CheckRun) error {
	return r.put(ctx, redisKey("checkrun", repo, head), c, RedisCheckRunTTL)
}

// HeadMove returns the record of repo's pull request number.
func (r redisStores) HeadMove(ctx context.Context, repo string, number int) (HeadMove, bool, error) {
	var m HeadMove
	ok, err := r.get(ctx, redisKey("headmove", repo, strconv.Itoa(number)), &m)
	return m, ok, err
}

// PutHeadMove records where and when repo's pull request number last moved.
func (r redisStores) PutHeadMove(ctx context.Context, repo string, number int, m HeadMove) error {
	return r.put(ctx, redisKey("headmove", repo, strconv.Itoa(number)), m, RedisHeadMoveTTL)
}

// BaseMove returns the base record of repo's pull request number.
func (r redisStores) BaseMove(ctx context.Context, repo string, number int) (BaseMove, bool, error) {
	var m BaseMove
	ok, err := r.get(ctx, redisKey("basemove", repo, strconv.Itoa(number)), &m)
	return m, ok, err
}

// PutBaseMove records repo's pull request number's base and when it last changed.
func (r redisStores) PutBaseMove(ctx context.Context, repo string, number int, m BaseMove) error {
	return r.put(ctx, redisKey("basemove", repo, strconv.Itoa(number)), m, RedisBaseMoveTTL)
}

// MarkEdited records the first edit of repo's comment id (SET NX).
func (r redisStores) MarkEdited(ctx context.Context, repo string, id int64, at time.Time) error {
	return r.rdb.SetNX(ctx, redisKey("edited", repo, strconv.FormatInt(id, 10)), at.UTC().Format(time.RFC3339Nano), RedisEditedTTL).Err()
}

// EditedAt returns when repo's comment id was edited.
func (r redisStores) EditedAt(ctx context.Context, repo string, id int64) (time.Time, bool, error) {
	s, err := r.rdb.Get(ctx, redisKey("edited", repo, strconv.FormatInt(id, 10))).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	return at, err == nil, err
}

// Reliance returns the record of repo's pull request number.
func (r redisStores) Reliance(ctx context.Context, repo string, number int) (Reliance, bool, error) {
	var rl Reliance
	ok, err := r.get(ctx, redisKey("reliance", repo, strconv.Itoa(number)), &rl)
	return rl, ok, err
}

// PutReliance records whose standing repo's pull request number's verdict read.
func (r redisStores) PutReliance(ctx context.Context, repo string, number int, rl Reliance) error {
	return r.put(ctx, redisKey("reliance", repo, strconv.Itoa(number)), rl, RedisRelianceTTL)
}

// RedisRateLimitTTL bounds a rate-limit record past its window's reset
// (and one whose reset is unknown): it matters only until then.
const RedisRateLimitTTL = time.Hour

func rateLimitKey(installation int64) string {
	return redisPrefix + "ratelimit:" + strconv.FormatInt(installation, 10)
}

// noteRateLimit is Merge in Redis: KEYS[1] the record; ARGV[1] the
// observation (JSON), ARGV[2] its reset and ARGV[3] its remaining, ARGV[4]
// the TTL in milliseconds. The record's own reset and remaining are kept
// beside the JSON in a hash, so the script compares numbers only.
var noteRateLimit = redis.NewScript(`
local reset = redis.call("HGET", KEYS[1], "reset")
local remaining = redis.call("HGET", KEYS[1], "remaining")
local r, n = tonumber(ARGV[2]), tonumber(ARGV[3])
if not reset or not remaining or r > tonumber(reset) or (r == tonumber(reset) and n < tonumber(remaining)) then
  redis.call("HSET", KEYS[1], "json", ARGV[1], "reset", ARGV[2], "remaining", ARGV[3])
  redis.call("PEXPIRE", KEYS[1], ARGV[4])
  return 1
end
return 0`)

// RateLimit returns the record of installation.
func (r redisStores) RateLimit(ctx context.Context, installation int64) (RateLimit, bool, error) {
	var rl RateLimit
	b, err := r.rdb.HGet(ctx, rateLimitKey(installation), "json").Bytes()
	if errors.Is(err, redis.Nil) {
		return rl, false, nil
	}
	if err != nil {
		return rl, false, err
	}
	return rl, true, json.Unmarshal(b, &rl)
}

// NoteRateLimit merges an observation into installation's record (Merge), atomically.
func (r redisStores) NoteRateLimit(ctx context.Context, installation int64, rl RateLimit) error {
	b, err := json.Marshal(rl)
	if err != nil {
		return err
	}
	ttl := RedisRateLimitTTL
	if d := time.Until(rl.Reset); d > 0 {
		ttl += d
	}
	return noteRateLimit.Run(ctx, r.rdb, []string{rateLimitKey(installation)}, b, rl.Reset.Unix(), rl.Remaining, ttl.Milliseconds()).Err()
}

var (
	_ RateLimits     = redisStores{}
	_ Reliances      = redisStores{}
	_ CheckRuns      = redisStores{}
	_ HeadMoves      = redisStores{}
	_ EditedComments = redisStores{}
)
