package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// DefaultRedeliverWindow is how far back failed deliveries are redelivered at start.
const DefaultRedeliverWindow = 6 * time.Hour

// maxRedeliveries bounds the redeliveries asked for at one start; the sweep
// heals whatever is left.
const maxRedeliveries = 1000

// HookDelivery is one attempt at delivering a webhook, as GitHub's
// GET /app/hook/deliveries lists it.
type HookDelivery struct {
	// ID is the attempt's id; GUID the X-GitHub-Delivery every attempt shares.
	ID   int64
	GUID string
	// Event and Action name the webhook.
	Event, Action string
	// Status is GitHub's word on the attempt ("OK", "Invalid HTTP Response: 503", ...)
	// and StatusCode the receiver's answer (0 when none came).
	Status     string
	StatusCode int
	// DeliveredAt is when the attempt was made.
	DeliveredAt time.Time
}

// Redeliverer is what redelivery needs of a Backend. The evaluator implements it.
type Redeliverer interface {
	// HookDeliveries lists the app's delivery attempts made at or after since, newest first.
	HookDeliveries(ctx context.Context, since time.Time) ([]HookDelivery, error)
	// Redeliver asks GitHub to deliver an attempt's webhook again.
	Redeliver(ctx context.Context, id int64) error
}

// succeeded reports whether the receiver accepted the attempt.
func (d HookDelivery) succeeded() bool {
	return d.Status == "OK" && d.StatusCode >= 200 && d.StatusCode < 400
}

// pending reports an attempt GitHub has not made yet.
func (d HookDelivery) pending() bool { return d.Status == "Pending" || d.Status == "pending" }

// permanent reports a failure a redelivery cannot mend: the server refused
// the body itself (malformed, or too large).
func (d HookDelivery) permanent() bool {
	return d.StatusCode == http.StatusBadRequest || d.StatusCode == http.StatusRequestEntityTooLarge
}

// toRedeliver picks, per delivery GUID, the newest failed attempt of the
// deliveries whose every attempt failed; ds is newest first.
func toRedeliver(ds []HookDelivery) []HookDelivery {
	done := map[string]bool{}
	var out []HookDelivery
	for _, d := range ds {
		if done[d.GUID] {
			continue
		}
		if d.succeeded() || d.pending() {
			done[d.GUID] = true
			continue
		}
		done[d.GUID] = true
		if d.permanent() {
			continue
		}
		// A later attempt of this GUID (listed before) did not succeed; an
		// earlier one may have: look.
		ok := false
		for _, e := range ds {
			if e.GUID == d.GUID && e.succeeded() {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, d)
		}
	}
	return out
}

// settled returns the attempts of ds made before cutoff.
func settled(ds []HookDelivery, cutoff time.Time) []HookDelivery {
	var out []HookDelivery
	for _, d := range ds {
		if d.DeliveredAt.Before(cutoff) {
			out = append(out, d)
		}
	}
	return out
}

// RedeliverFailed asks GitHub to redeliver the app's webhook deliveries of
// the last window that never reached the server (refused, unreachable,
// timed out, or answered with an error) and that no later attempt
// delivered. It runs at start, so the events missed while the server was
// down are processed; their pull-request snapshots are never trusted (their
// payloads are old). With Redis, an attempt made less than a minute ago
// (deliveryPendingTTL) is left to the next run. It returns how many it
// redelivered.
func (s *Server) RedeliverFailed(ctx context.Context, window time.Duration) (int, error) {
	if window <= 0 {
		return 0, nil
	}
	r, ok := s.backend.(Redeliverer)
	if !ok {
		return 0, fmt.Errorf("server: the backend (%T) cannot redeliver", s.backend)
	}
	since := s.opt.Now().Add(-window)
	ds, err := r.HookDeliveries(ctx, since)
	if err != nil {
		s.log.Warn("redelivery: could not list the failed deliveries", slog.Any("error", err))
		return 0, err
	}
	picked := toRedeliver(ds)
	if s.opt.Redis != nil {
		// An attempt that failed less than deliveryPendingTTL ago may still
		// hold its id's reservation (its replica died, or Redis failed
		// before the release): redelivered now it would be answered as a
		// duplicate, and never redelivered again. The next run takes it.
		picked = settled(picked, s.opt.Now().Add(-deliveryPendingTTL))
	}
	if len(picked) > maxRedeliveries {
		s.log.Warn("redelivery: too many failed deliveries; the sweep heals the rest",
			slog.Int("failed", len(picked)), slog.Int("redelivered", maxRedeliveries))
		picked = picked[:maxRedeliveries]
	}
	n := 0
	for _, d := range picked {
		if ctx.Err() != nil || s.draining.Load() {
			break
		}
		if first, err := s.snaps.claimRedelivery(ctx, d.GUID, s.opt.Now()); err != nil || !first {
			continue // redelivered once already (by this or another replica), or Redis is down
		}
		if err := r.Redeliver(ctx, d.ID); err != nil {
			s.log.Warn("redelivery: failed", slog.String("delivery", d.GUID), slog.Int64("attempt", d.ID), slog.Any("error", err))
			continue
		}
		n++
		s.log.Info("redelivery: asked", slog.String("delivery", d.GUID), slog.String("event", d.Event),
			slog.String("action", d.Action), slog.String("status", d.Status), slog.Int("status_code", d.StatusCode))
	}
	s.log.Info("redelivery: done", slog.Int("attempts_listed", len(ds)), slog.Int("redelivered", n), slog.Duration("window", window))
	return n, nil
}
