// Package fence orders the check-run writes of several Countersign replicas
// behind one load balancer, so that no replica publishes an older verdict
// over a newer one for the same pull request.
//
// Every evaluation takes a token from a per-pull-request counter before it
// reads any fact (Begin). A verdict is published under the pull request's
// lock, and only when no evaluation with a greater token has published yet
// (Publish): the check run always shows the verdict of the latest-started
// evaluation that finished, never one that started before it. The counter,
// the last published token and the lock live in Redis.
package fence

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	// DefaultLease bounds how long a replica holds a pull request's lock
	// while it writes the check run; a write must finish well within it.
	DefaultLease = 30 * time.Second
	// DefaultPrefix begins every key.
	DefaultPrefix = "countersign:fence:"
	// keyTTL lets a quiet pull request's keys expire (a month).
	keyTTL = 30 * 24 * time.Hour
)

// ErrSuperseded is returned by Publish when a newer evaluation has already
// published for the pull request: the caller's verdict is older and was not written.
var ErrSuperseded = errors.New("fence: a newer evaluation has already published")

// ErrReevaluate is returned by Publish when its write may have landed after
// a newer evaluation's: the verdict the check run shows may be older than
// the newest facts, and the caller must evaluate the pull request again,
// with a new token (see Publish).
var ErrReevaluate = errors.New("fence: the write may have landed after a newer one; the pull request must be evaluated again")

// Options configures a Redis fence.
type Options struct {
	// Client is the Redis client; required.
	Client redis.UniversalClient
	// Prefix begins every key; default DefaultPrefix.
	Prefix string
	// Lease bounds how long the lock is held; default DefaultLease.
	Lease time.Duration
}

// Redis is a fence kept in Redis. It is safe for concurrent use, by any
// number of replicas sharing the Redis.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	lease  time.Duration
}

// New returns a Redis fence.
func New(o Options) (*Redis, error) {
	if o.Client == nil {
		return nil, errors.New("fence: no Redis client")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	return &Redis{rdb: o.Client, prefix: o.Prefix, lease: o.Lease}, nil
}

// Dial parses a redis:// or rediss:// URL and returns a fence on it, after
// checking that Redis answers.
func Dial(ctx context.Context, url string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// go-redis quotes the URL, which may carry a password.
		return nil, errors.New("fence: the Redis URL is not redis://[user:password@]host:port[/db] or rediss://…")
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("fence: Redis at %s does not answer: %v", opt.Addr, err)
	}
	return New(Options{Client: c})
}

// Client returns the Redis client, for the other state the replicas share.
func (f *Redis) Client() redis.UniversalClient { return f.rdb }

// Close closes the Redis client.
func (f *Redis) Close() error { return f.rdb.Close() }

func (f *Redis) keys(key string) (seq, pub, lock string) {
	// The braces make one pull request's keys one hash slot (Redis Cluster).
	base := f.prefix + "{" + key + "}:"
	return base + "seq", base + "pub", base + "lock"
}

// Begin returns the next token of key (a pull request, "owner/repo#n"):
// greater than any token Begin returned for key before, on any replica,
// and than any token published for key, even when Redis lost the counter
// (a restart without persistence, a failover, an eviction) while an older
// evaluation was running. Call it before reading any fact.
func (f *Redis) Begin(ctx context.Context, key string) (int64, error) {
	seq, pub, _ := f.keys(key)
	n, err := IncrAbove.Run(ctx, f.rdb, []string{seq, pub}, keyTTL.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("fence: taking a token for %s: %w", key, err)
	}
	return n, nil
}

// IncrAbove takes the next number of a counter (KEYS[1]) above a floor
// kept elsewhere (KEYS[2]), renewing the counter's TTL (ARGV[1], ms): a
// counter lost while its floor survived (Redis restarted without its data,
// an eviction, a failover) would restart at 1, below numbers already handed
// out. The fence's tokens use it with the last published token as floor,
// the server's queue with the latest queued task.
var IncrAbove = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
local floor = tonumber(redis.call("GET", KEYS[2]) or "0")
if n <= floor then
  n = floor + 1
  redis.call("SET", KEYS[1], n)
end
redis.call("PEXPIRE", KEYS[1], ARGV[1])
return n`)

// release deletes the lock only if it still holds our value.
var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// commit records the published token only while the lock is still ours
// (else -1) and the token is newer than the recorded one (else 0). It
// returns 2 when the counter (KEYS[3]) is below the token: Redis lost it
// since the token was taken, so evaluations begun since hold lower tokens
// and have just been superseded by an older one.
var commit = redis.NewScript(`
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return -1 end
local cur = tonumber(redis.call("GET", KEYS[2]) or "0")
if tonumber(ARGV[2]) <= cur then return 0 end
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
if tonumber(redis.call("GET", KEYS[3]) or "0") < tonumber(ARGV[2]) then return 2 end
return 1`)

// Publish runs write, which publishes the verdict of the evaluation that
// took token, while holding key's lock, unless an evaluation with a greater
// token has already published: then it returns ErrSuperseded without
// running write. write gets a context that ends before the lock's lease;
// if write fails, nothing is recorded and its error is returned.
//
// GitHub's write cannot be made conditional on the token, so the lock
// orders the writes only while it holds: a write that outlasts the lease
// (a GC pause, a write deaf to its context) may land after a newer
// evaluation took the lapsed lock and wrote, and a write cut off by its
// context may still be applied by GitHub after the lock is released. In
// those cases, and when Redis lost the counter while this evaluation ran
// (evaluations begun since hold lower tokens and were just superseded),
// Publish returns an error wrapping ErrReevaluate: the check run may show
// an older verdict than the newest facts, and the caller must run a new
// evaluation (a new token, fresh facts), whose write then comes last.
// Re-judging after the fact, rather than renewing the lock during the
// write, is what covers a stall of any length.
func (f *Redis) Publish(ctx context.Context, key string, token int64, write func(ctx context.Context) error) error {
	seq, pub, lock := f.keys(key)
	owner := strconv.FormatInt(token, 10) + ":" + strconv.FormatUint(rand.Uint64(), 36)
	if err := f.lock(ctx, lock, owner); err != nil {
		return fmt.Errorf("fence: locking %s: %w", key, err)
	}
	// Release with a context of its own: the caller's may be done by now.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		releaseScript.Run(rctx, f.rdb, []string{lock}, owner)
	}()
	cur, err := f.rdb.Get(ctx, pub).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("fence: reading the last published token of %s: %w", key, err)
	}
	if cur > token {
		return ErrSuperseded
	}
	// The write must end while the lock is certainly still ours.
	wctx, cancel := context.WithTimeout(ctx, f.lease*2/3)
	err = write(wctx)
	cutOff := wctx.Err() != nil
	cancel()
	if err != nil {
		if cutOff {
			// GitHub may still apply it, after the lock is released.
			return fmt.Errorf("%w (%s: the write was cut off, its outcome unknown): %w", ErrReevaluate, key, err)
		}
		return err
	}
	// Recorded with a context of its own: the write happened, and a caller
	// whose context ended meanwhile must still learn whether it came last.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	res, err := commit.Run(rctx, f.rdb, []string{lock, pub, seq}, owner, token, keyTTL.Milliseconds()).Int()
	switch {
	case err != nil:
		// Whether the lock still held is unknown: so is the order.
		return fmt.Errorf("%w (%s: recording the published token: %v)", ErrReevaluate, key, err)
	case res < 0:
		return fmt.Errorf("%w (%s: the lock expired during the write)", ErrReevaluate, key)
	case res == 2:
		return fmt.Errorf("%w (%s: Redis lost the counter since token %d was taken)", ErrReevaluate, key, token)
	}
	return nil
}

// lock takes the lock, waiting (with jittered backoff) while another
// replica holds it, until ctx is done.
func (f *Redis) lock(ctx context.Context, lock, owner string) error {
	wait := 2 * time.Millisecond
	for {
		ok, err := f.rdb.SetNX(ctx, lock, owner, f.lease).Result()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// renew extends the lock only if it still holds our value.
var renew = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 0`)

// Hold takes key's evaluation lock, which at most one replica holds at a
// time, waiting while another holds it until ctx is done. The lock's lease
// is renewed every third of a lease while it is held, so it outlives a
// long evaluation but not a dead replica (it lapses one lease after the
// last renewal). The returned context ends when ctx does or when the lock
// is lost (a renewal failed), so work under it stops rather than run
// unguarded; release gives the lock back and must be called once.
func (f *Redis) Hold(ctx context.Context, key string) (held context.Context, release func(), err error) {
	base := f.prefix + "{" + key + "}:"
	lock := base + "eval"
	owner := strconv.FormatUint(rand.Uint64(), 36)
	if err := f.lock(ctx, lock, owner); err != nil {
		return nil, nil, fmt.Errorf("fence: taking the evaluation lock of %s: %w", key, err)
	}
	hctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(f.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-hctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), f.lease/3)
			n, err := renew.Run(rctx, f.rdb, []string{lock}, owner, f.lease.Milliseconds()).Int()
			rcancel()
			if err != nil || n == 0 {
				cancel(fmt.Errorf("fence: the evaluation lock of %s was lost (renewal: %v)", key, err))
				return
			}
		}
	}()
	var once bool
	release = func() {
		if once {
			return
		}
		once = true
		close(done)
		<-stopped
		cancel(nil)
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		releaseScript.Run(rctx, f.rdb, []string{lock}, owner)
	}
	return hctx, release, nil
}
