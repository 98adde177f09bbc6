package githubsim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

type faultEntry struct {
	f       Fault
	left    int // remaining hits when f.Times > 0
	removed bool
}

func (e *faultEntry) matches(method, route string) bool {
	return !e.removed && (e.f.Method == "" || e.f.Method == method) && (e.f.Route == "" || e.f.Route == route)
}

// Inject adds a fault and returns a function that removes it. Faults are
// checked in the order they were added; the first that fires answers the call.
func (s *Sim) Inject(f Fault) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &faultEntry{f: f, left: f.Times}
	s.faults = append(s.faults, e)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		e.removed = true
		for i, x := range s.faults {
			if x == e {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				break
			}
		}
	}
}

// fires decides (consuming Times and the RNG) whether a matching fault fires for this call.
func (s *state) firesLocked(e *faultEntry) bool {
	if e.f.Times > 0 && e.left <= 0 {
		return false
	}
	if e.f.Probability > 0 && s.rng.Float64() >= e.f.Probability {
		return false
	}
	if e.f.Times > 0 {
		e.left--
	}
	return true
}

// faultLatency returns the delay of the latency-only faults that fire for a call.
func (s *state) faultLatency(method, route string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d time.Duration
	for _, e := range s.faults {
		if e.f.Latency > 0 && e.f.Status == 0 && !e.f.PrimaryRateLimit && !e.f.SecondaryRateLimit && e.matches(method, route) && s.firesLocked(e) {
			d += e.f.Latency
		}
	}
	return d
}

// faultHolds returns the Hold functions of the faults that fire for a call.
func (s *state) faultHolds(method, route string) []func(*http.Request, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []func(*http.Request, []byte)
	for _, e := range s.faults {
		if e.f.Hold != nil && e.matches(method, route) && s.firesLocked(e) {
			out = append(out, e.f.Hold)
		}
	}
	return out
}

// applyFault answers the call with the first failing fault that fires.
func (s *state) applyFault(c *reqCtx, method, route string) {
	for _, e := range s.faults {
		f := e.f
		if (f.Status == 0 && !f.PrimaryRateLimit && !f.SecondaryRateLimit) || !e.matches(method, route) || !s.firesLocked(e) {
			continue
		}
		if f.Latency > 0 {
			s.mu.Unlock()
			time.Sleep(f.Latency)
			s.mu.Lock()
		}
		switch {
		case f.PrimaryRateLimit:
			reset := s.now().Add(time.Hour)
			if key := rateKeyOf(c); key != "" {
				if w, ok := s.rates[key]; ok {
					reset = w.reset
				}
			}
			limit := 5000
			if c.inst == nil && c.route != nil && c.route.auth != authApp {
				limit = 60
			}
			c.hdr.Set("X-RateLimit-Limit", strconv.Itoa(limit))
			c.hdr.Set("X-RateLimit-Remaining", "0")
			c.hdr.Set("X-RateLimit-Used", strconv.Itoa(limit))
			c.hdr.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
			c.hdr.Set("X-RateLimit-Resource", "core")
			c.fail(http.StatusForbidden, s.primaryMessage(c), "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits")
		case f.SecondaryRateLimit:
			status := http.StatusForbidden
			if f.Status == http.StatusTooManyRequests {
				status = http.StatusTooManyRequests
			}
			ra := f.RetryAfter
			if ra <= 0 {
				ra = 60 * time.Second
			}
			c.hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
			c.fail(status, fmt.Sprintf("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID SIM:%X.", len(s.calls)+1),
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
		default:
			msg := http.StatusText(f.Status)
			if f.Status >= 500 {
				msg = "Server Error"
			}
			c.fail(f.Status, msg, "")
		}
		return
	}
}

func rateKeyOf(c *reqCtx) string {
	if c.inst != nil {
		return fmt.Sprintf("inst:%d", c.inst.id)
	}
	return ""
}
