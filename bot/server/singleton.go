package server

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"
)

// DefaultRedeliverInterval is how often failed deliveries are redelivered.
const DefaultRedeliverInterval = 5 * time.Minute

// claim reports whether this replica runs the named periodic work of the
// interval that now falls in. With Redis one replica of the cluster wins
// each interval (SET NX on the interval's key, kept for one interval); in
// memory the one replica always does.
func (s *Server) claim(ctx context.Context, name string, interval time.Duration) bool {
	if s.opt.Redis == nil || interval <= 0 {
		return true
	}
	bucket := s.opt.Now().Truncate(interval).Unix()
	ok, err := s.opt.Redis.SetNX(ctx, redisPrefix+"singleton:"+name+":"+strconv.FormatInt(bucket, 10), "1", interval).Result()
	if err != nil {
		s.log.Warn("periodic work skipped: Redis does not answer", slog.String("work", name), slog.Any("error", err))
		return false
	}
	return ok
}

// every runs work at once and then at each boundary of interval (aligned on
// the clock, so replicas started apart still compete for the same
// intervals), once per interval across the cluster, until ctx is done or
// the server drains.
func (s *Server) every(ctx context.Context, name string, interval time.Duration, work func(ctx context.Context)) {
	for {
		if ctx.Err() != nil || s.draining.Load() {
			return
		}
		if s.claim(ctx, name, interval) {
			work(ctx)
		}
		now := s.opt.Now()
		wait := now.Truncate(interval).Add(interval).Sub(now) + rand.N(interval/100+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// RunRedelivery redelivers the failed deliveries of the last window at
// once and then every interval, one replica per interval across the
// cluster, until ctx is done or the server drains. Each failed delivery is
// redelivered once; what a redelivery does not mend, the sweep does.
func (s *Server) RunRedelivery(ctx context.Context, interval, window time.Duration) {
	if window <= 0 {
		return
	}
	run := func(ctx context.Context) { _, _ = s.RedeliverFailed(ctx, window) }
	if interval <= 0 {
		run(ctx)
		return
	}
	s.every(ctx, "redeliver", interval, run)
}
