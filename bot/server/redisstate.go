package server

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// deliveries remembers accepted delivery ids, so a delivery sent twice (a
// redelivery, or a load balancer that duplicates) is processed once. An id
// is reserved while its delivery is handled and kept once its work is
// queued; a reservation never kept (the handler failed, its process died,
// and the release failed or never ran) lapses soon, so the redelivery of
// that delivery is processed.
type deliveries interface {
	// reserveDelivery records id as being handled and reports whether it
	// was new; an error means it could not be recorded (the delivery is
	// refused with 503).
	reserveDelivery(ctx context.Context, id string) (bool, error)
	// keepDelivery records that id's work was queued (or that it needs
	// none), for GitHub's redelivery window.
	keepDelivery(ctx context.Context, id string) error
	// releaseDelivery forgets id, so a redelivery of it is processed.
	releaseDelivery(ctx context.Context, id string)
	// size returns how many ids are remembered, -1 when unknown.
	size() int
}

func (d *dedup) reserveDelivery(_ context.Context, id string) (bool, error) {
	return d.reserve(id), nil
}
func (d *dedup) keepDelivery(context.Context, string) error   { return nil }
func (d *dedup) releaseDelivery(_ context.Context, id string) { d.release(id) }
func (d *dedup) size() int                                    { return d.len() }

// deliveryPendingTTL is how long a delivery id reserved in Redis stays
// reserved unless its work is queued: far longer than handling a delivery
// takes, far shorter than the redelivery interval, so a reservation
// stranded by a Redis failure or a dead replica does not swallow the
// delivery's redelivery.
const deliveryPendingTTL = time.Minute

// Values of a delivery id's key in Redis.
const (
	deliveryPending  = "pending"
	deliveryAccepted = "accepted"
)

// redisDeliveries remembers delivery ids in Redis, for every replica: a
// delivery being handled holds its id for pending (SET NX, deliveryPendingTTL),
// and one whose work was queued keeps it for GitHub's redelivery window.
// Another replica handed the same delivery meanwhile answers it as a
// duplicate either way.
type redisDeliveries struct {
	rdb     redis.UniversalClient
	pending time.Duration
}

func deliveryKey(id string) string { return redisPrefix + "delivery:" + id }

func (d redisDeliveries) reserveDelivery(ctx context.Context, id string) (bool, error) {
	return d.rdb.SetNX(ctx, deliveryKey(id), deliveryPending, d.pending).Result()
}

func (d redisDeliveries) keepDelivery(ctx context.Context, id string) error {
	return d.rdb.Set(context.WithoutCancel(ctx), deliveryKey(id), deliveryAccepted, redisKeyTTL).Err()
}

func (d redisDeliveries) releaseDelivery(ctx context.Context, id string) {
	d.rdb.Del(context.WithoutCancel(ctx), deliveryKey(id))
}

func (d redisDeliveries) size() int { return -1 }

// snapshotTable decides whether a delivery's pull request may stand in for
// reading it (see snapshots) and remembers the deliveries this app asked
// GitHub to redeliver.
type snapshotTable interface {
	// admitJob returns j with its snapshot kept or dropped, and records it.
	admitJob(ctx context.Context, j Job) Job
	// claimRedelivery records that delivery id is being redelivered and
	// reports whether it was not before (each is redelivered once).
	claimRedelivery(ctx context.Context, id string, now time.Time) (bool, error)
}

func (s *snapshots) admitJob(_ context.Context, j Job) Job { return s.admit(j) }

func (s *snapshots) claimRedelivery(_ context.Context, id string, now time.Time) (bool, error) {
	s.mu.Lock()
	_, seen := s.redelivered[id]
	s.mu.Unlock()
	if seen {
		return false, nil
	}
	s.markRedelivered(id, now)
	return true, nil
}

// redisSnapshots is the snapshot admission table in Redis, shared by every
// replica: the newest updated_at (and digest) seen per pull request, and
// the redelivered delivery ids, each kept for GitHub's redelivery window.
// Its floor is this process's start, as the in-memory table's.
type redisSnapshots struct {
	rdb   redis.UniversalClient
	floor time.Time
}

// admitScript: KEYS[1] the pull request's entry; ARGV at (unix ns), digest,
// ttl ms. Returns 1 to keep the snapshot, 0 to drop it.
var admitScript = redis.NewScript(`
local cur = redis.call("HMGET", KEYS[1], "at", "digest")
local at = tonumber(ARGV[1])
if not cur[1] then
  redis.call("HSET", KEYS[1], "at", ARGV[1], "digest", ARGV[2])
  redis.call("PEXPIRE", KEYS[1], ARGV[3])
  return 1
end
local cat = tonumber(cur[1])
if at > cat then
  redis.call("HSET", KEYS[1], "at", ARGV[1], "digest", ARGV[2])
  redis.call("PEXPIRE", KEYS[1], ARGV[3])
  return 1
end
if at == cat and cur[2] == ARGV[2] then return 1 end
if at == cat then redis.call("HSET", KEYS[1], "digest", "") end
return 0`)

func (s redisSnapshots) admitJob(ctx context.Context, j Job) Job {
	if j.Snapshot == nil {
		return j
	}
	at := j.Snapshot.GetUpdatedAt().Time
	if at.IsZero() || !at.After(s.floor) || j.Snapshot.GetHead().GetSHA() == "" || j.Snapshot.GetBase().GetSHA() == "" {
		j.Snapshot = nil
		return j
	}
	if j.DeliveryID != "" {
		if n, err := s.rdb.Exists(ctx, redeliveredKey(j.DeliveryID)).Result(); err != nil || n > 0 {
			j.Snapshot = nil
			return j
		}
	}
	d := snapshotDigest(j.Snapshot)
	keep, err := admitScript.Run(ctx, s.rdb, []string{redisPrefix + "snapshot:{" + j.Key() + "}"},
		at.UnixNano(), hex.EncodeToString(d[:]), redisKeyTTL.Milliseconds()).Int()
	if err != nil || keep != 1 {
		j.Snapshot = nil // unsure: read the pull request instead
	}
	return j
}

func redeliveredKey(id string) string { return redisPrefix + "redelivered:" + id }

func (s redisSnapshots) claimRedelivery(ctx context.Context, id string, _ time.Time) (bool, error) {
	return s.rdb.SetNX(ctx, redeliveredKey(id), "1", redisKeyTTL).Result()
}
