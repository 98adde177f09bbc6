package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// parkedTTL is how long work given up is kept for the sweep to replay:
// GitHub's redelivery window, like every other record of the intake.
const parkedTTL = redisKeyTTL

// parkedWork keeps work given up after its last attempt so that the next
// sweep queues it again. The sweep's own test (a check older than its pull
// request's last change) cannot see what a change of standing, a merge
// group, a landing or a deployment gate asked for, so without this an outage
// longer than the retries would lose that work for good.
type parkedWork interface {
	// park keeps sp for the next sweep.
	park(ctx context.Context, sp taskSpec) error
	// takeParked returns the work kept and forgets it.
	takeParked(ctx context.Context) ([]taskSpec, error)
}

// parks reports whether work of op is parked when given up: the sweep's
// listings are made again by the next sweep, and an interaction's reply is
// not worth sending late (its comment or click moved the pull request, which
// the sweep sees).
func parks(op string) bool {
	switch op {
	case opEvaluate, opRepo, opInstallation, opMergeGroup, opLanding, opDeploy:
		return true
	}
	return false
}

// parkedID identifies a spec, so that the same work parked twice is kept once.
func parkedID(sp taskSpec) (string, error) {
	sp.Parked = time.Time{}
	b, err := json.Marshal(sp)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// parkedAt returns sp marked with when it was first given up: now, unless
// it was given up before (work the sweep replayed that failed again).
func parkedAt(sp taskSpec, now time.Time) taskSpec {
	if sp.Parked.IsZero() {
		sp.Parked = now
	}
	return sp
}

// memoryParked is parkedWork in this process's memory (one replica, no Redis).
type memoryParked struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]taskSpec
}

func newMemoryParked(now func() time.Time) *memoryParked {
	return &memoryParked{now: now, m: map[string]taskSpec{}}
}

func (p *memoryParked) park(_ context.Context, sp taskSpec) error {
	id, err := parkedID(sp)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[id]; !ok {
		p.m[id] = parkedAt(sp, p.now())
	}
	return nil
}

func (p *memoryParked) takeParked(context.Context) ([]taskSpec, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []taskSpec
	for _, sp := range p.m {
		out = append(out, sp)
	}
	clear(p.m)
	return out, nil
}

// redisParked is parkedWork in Redis: one hash every replica parks in and
// the one replica that sweeps takes from.
type redisParked struct {
	rdb redis.UniversalClient
	now func() time.Time
}

func parkedKey() string { return redisPrefix + "parked" }

func (p redisParked) park(ctx context.Context, sp taskSpec) error {
	id, err := parkedID(sp)
	if err != nil {
		return err
	}
	b, err := json.Marshal(parkedAt(sp, p.now()))
	if err != nil {
		return err
	}
	pipe := p.rdb.TxPipeline()
	pipe.HSetNX(ctx, parkedKey(), id, b)
	pipe.PExpire(ctx, parkedKey(), parkedTTL)
	_, err = pipe.Exec(ctx)
	return err
}

// takeAll reads and deletes a hash in one step, so that work parked while
// the sweep takes it is either taken or left for the next sweep.
var takeAll = redis.NewScript(`
local v = redis.call("HGETALL", KEYS[1])
redis.call("DEL", KEYS[1])
return v`)

func (p redisParked) takeParked(ctx context.Context) ([]taskSpec, error) {
	v, err := takeAll.Run(ctx, p.rdb, []string{parkedKey()}).StringSlice()
	if err != nil {
		return nil, err
	}
	var out []taskSpec
	for i := 1; i < len(v); i += 2 {
		var sp taskSpec
		if err := json.Unmarshal([]byte(v[i]), &sp); err != nil {
			return out, fmt.Errorf("server: parked work %s cannot be read: %w", v[i-1], err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// parkGivenUp keeps work given up for the next sweep, saying so in the log;
// work parked for longer than parkedTTL is dropped with an error.
func (s *Server) parkGivenUp(ctx context.Context, t task, log *slog.Logger) {
	if !parks(t.spec.Op) || s.parked == nil {
		return
	}
	if !t.spec.Parked.IsZero() && s.opt.Now().Sub(t.spec.Parked) > parkedTTL {
		log.Error("work given up for longer than the redelivery window; dropped", slog.Time("first_given_up", t.spec.Parked))
		return
	}
	sp := t.spec
	// The delivery's copy of the pull request is stale by the time the
	// sweep replays the work: the replay reads the pull request afresh.
	sp.Job.Snapshot = nil
	if err := s.parked.park(context.WithoutCancel(ctx), sp); err != nil {
		log.Error("work given up could not be kept for the next sweep; it is lost", slog.Any("error", err))
		return
	}
	s.m.parked.Inc()
	log.Warn("work given up is kept; the next sweep queues it again")
}

// replayParked queues the work given up since the last sweep again; what
// cannot be queued is parked again.
func (s *Server) replayParked(ctx context.Context) {
	if s.parked == nil {
		return
	}
	specs, err := s.parked.takeParked(ctx)
	if err != nil {
		s.log.Error("sweep: parked work could not be read", slog.Any("error", err))
	}
	n := 0
	for _, sp := range specs {
		t, err := s.fromSpec(sp)
		if err != nil {
			s.log.Error("sweep: parked work cannot be run; dropped", slog.String("op", sp.Op), slog.Any("error", err))
			continue
		}
		if err := s.q.submit(ctx, []task{t}, false); err != nil {
			s.log.Warn("sweep: parked work could not be queued; kept for the next sweep", slog.String("key", t.key), slog.Any("error", err))
			if err := s.parked.park(context.WithoutCancel(ctx), sp); err != nil {
				s.log.Error("sweep: parked work could not be kept; it is lost", slog.String("key", t.key), slog.Any("error", err))
			}
			continue
		}
		n++
	}
	if n > 0 {
		s.log.Info("sweep: work given up earlier queued again", slog.Int("tasks", n))
	}
}
