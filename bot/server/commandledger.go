package server

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// commandLedger remembers the comments whose commands were carried out, so
// that a command task run again (its re-evaluation could not be queued, its
// replica died after Command, a redelivery queued it twice) only queues the
// re-evaluation and does not reply or react a second time.
type commandLedger interface {
	// carriedOut reports whether the commands named by key were carried
	// out, and whether that asked for a re-evaluation.
	carriedOut(ctx context.Context, key string) (done, reevaluate bool, err error)
	// markCarriedOut records that they were.
	markCarriedOut(ctx context.Context, key string, reevaluate bool) error
}

// commandKey names one version of a comment: its repository, id, whether it
// was an edit, and when it was last written (created_at for an old queued
// task that carries no updated_at), so an edit's commands are a new entry.
func commandKey(cj CommandJob) string {
	at := cj.UpdatedAt
	if at.IsZero() {
		at = cj.CreatedAt
	}
	kind := "created"
	if cj.Edited {
		kind = "edited"
	}
	return cj.Owner + "/" + cj.Repo + ":" + strconv.FormatInt(cj.CommentID, 10) + ":" + kind + ":" + strconv.FormatInt(at.UnixNano(), 10)
}

// memoryCommands is the command ledger of a server without Redis: the
// intake's bounded, expiring id set (dedup), holding each entry under its
// key and whether it asked for a re-evaluation.
type memoryCommands struct{ d *dedup }

func newMemoryCommands(ttl time.Duration, max int, now func() time.Time) memoryCommands {
	return memoryCommands{newDedup(ttl, max, now)}
}

func (m memoryCommands) carriedOut(_ context.Context, key string) (bool, bool, error) {
	switch {
	case m.d.has(key + "\x001"):
		return true, true, nil
	case m.d.has(key + "\x000"):
		return true, false, nil
	}
	return false, false, nil
}

func (m memoryCommands) markCarriedOut(_ context.Context, key string, reevaluate bool) error {
	v := "\x000"
	if reevaluate {
		v = "\x001"
	}
	m.d.reserve(key + v)
	return nil
}

// redisCommands is the command ledger in Redis, shared by every replica and
// kept for GitHub's redelivery window.
type redisCommands struct{ rdb redis.UniversalClient }

func commandLedgerKey(key string) string { return redisPrefix + "command:" + key }

func (r redisCommands) carriedOut(ctx context.Context, key string) (bool, bool, error) {
	v, err := r.rdb.Get(ctx, commandLedgerKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return true, v == "1", nil
}

func (r redisCommands) markCarriedOut(ctx context.Context, key string, reevaluate bool) error {
	v := "0"
	if reevaluate {
		v = "1"
	}
	return r.rdb.Set(context.WithoutCancel(ctx), commandLedgerKey(key), v, redisKeyTTL).Err()
}
