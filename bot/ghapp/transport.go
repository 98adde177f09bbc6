package ghapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/state"
)

// RateLimitError is returned (wrapped in a *url.Error by net/http) when GitHub
// keeps rate-limiting a request longer than the client is willing to wait.
type RateLimitError struct {
	// Secondary is true for a secondary (abuse) rate limit, false for the
	// primary hourly limit.
	Secondary bool
	// Reset is when GitHub said the limit lifts; zero when unknown.
	Reset time.Time
	// Method and Route name the request, with the route's parameters elided.
	Method, Route string
}

// Error says which limit was hit and when it lifts; it never holds credentials.
func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	s := fmt.Sprintf("GitHub API %s rate limit exceeded on %s %s", kind, e.Method, e.Route)
	if !e.Reset.IsZero() {
		s += ", lifts at " + e.Reset.UTC().Format(time.RFC3339)
	}
	return s
}

// stack returns the transport used beneath the authentication of one
// installation (0 for the app itself): conditional-request cache, then
// retries and rate-limit handling, then metrics, then the network.
func (a *App) stack(inst int64) http.RoundTripper { return &transport{a: a, inst: inst} }

type transport struct {
	a    *App
	inst int64
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	route := Route(t.a.opt.BaseURL, req.URL)
	var key string
	var hit *cacheEntry
	if req.Method == http.MethodGet && t.a.cache != nil && req.Header.Get("If-None-Match") == "" && req.Header.Get("If-Modified-Since") == "" {
		key = cacheKey(t.inst, req)
		if hit = t.a.cache.get(key); hit != nil {
			req = req.Clone(req.Context())
			if hit.etag != "" {
				req.Header.Set("If-None-Match", hit.etag)
			} else {
				req.Header.Set("If-Modified-Since", hit.lastModified)
			}
		}
	}
	resp, err := t.retry(req, route)
	if err != nil {
		return nil, err
	}
	if hit != nil && resp.StatusCode == http.StatusNotModified {
		drain(resp)
		t.a.metrics.cache.WithLabelValues("hit").Inc()
		return hit.response(req, resp.Header), nil
	}
	if key != "" && resp.StatusCode == http.StatusOK && (resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "") {
		t.a.metrics.cache.WithLabelValues("miss").Inc()
		body, err := io.ReadAll(io.LimitReader(resp.Body, int64(t.a.opt.CacheMaxBody)+1))
		if err != nil {
			resp.Body.Close()
			return nil, err
		}
		if len(body) <= t.a.opt.CacheMaxBody {
			resp.Body.Close()
			t.a.cache.put(key, resp, body)
			resp.Body = io.NopCloser(bytes.NewReader(body))
		} else {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		}
	}
	return resp, nil
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

func (t *transport) retry(req *http.Request, route string) (*http.Response, error) {
	ctx := req.Context()
	o := &t.a.opt
	for attempt := 1; ; attempt++ {
		last := attempt >= o.MaxAttempts
		if until := t.a.limitedUntil(ctx, t.inst); !until.IsZero() {
			wait := until.Sub(t.a.opt.Now())
			if wait > o.MaxRateLimitWait {
				return nil, &RateLimitError{Reset: until, Method: req.Method, Route: route}
			}
			if wait > 0 {
				t.a.metrics.retries.WithLabelValues("primary_rate_limit").Inc()
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
			}
		}
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		resp, err := t.once(r, route)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if last || !retryableNetError(req.Method, err) {
				return nil, err
			}
			t.a.metrics.retries.WithLabelValues("network").Inc()
			t.a.log.Debug("github request failed, retrying", "method", req.Method, "route", route, "attempt", attempt, "err", err)
			if err := sleep(ctx, t.backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		switch {
		case resp.StatusCode >= 500 && resp.StatusCode <= 599:
			if last || (req.Body != nil && req.GetBody == nil) || !retryOn5xx(req.Method, route) {
				return resp, nil
			}
			drain(resp)
			t.a.metrics.retries.WithLabelValues("server_error").Inc()
			t.a.log.Debug("github server error, retrying", "method", req.Method, "route", route, "status", resp.StatusCode, "attempt", attempt)
			if err := sleep(ctx, t.backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
			wait, rlErr := t.rateLimited(req, resp, route)
			if rlErr == nil {
				return resp, nil // an ordinary 403: permission, not a limit
			}
			drain(resp)
			if last || wait > o.MaxRateLimitWait || (req.Body != nil && req.GetBody == nil) {
				return nil, rlErr
			}
			reason := "primary_rate_limit"
			if rlErr.Secondary {
				reason = "secondary_rate_limit"
			}
			t.a.metrics.retries.WithLabelValues(reason).Inc()
			t.a.log.Warn("github rate limit, waiting", "kind", reason, "method", req.Method, "route", route, "installation", t.inst, "wait", wait.Round(time.Millisecond))
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		t.a.noteRemaining(ctx, t.inst, resp.Header)
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			// The last call of the hour succeeded; the next would not.
			if reset := parseReset(resp.Header); !reset.IsZero() && isCore(resp.Header) {
				t.a.setLimited(t.inst, reset)
			}
		}
		return resp, nil
	}
}

// rateLimited tells a rate-limit response from a permission error. It returns
// how long to wait and the error to give if waiting is not possible, or a nil
// error for a response that is not a rate limit.
func (t *transport) rateLimited(req *http.Request, resp *http.Response, route string) (time.Duration, *RateLimitError) {
	now := t.a.opt.Now()
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		wait := parseRetryAfter(ra, now)
		return wait, &RateLimitError{Secondary: true, Reset: now.Add(wait), Method: req.Method, Route: route}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		reset := parseReset(resp.Header)
		if reset.IsZero() {
			reset = now.Add(time.Minute)
		}
		if isCore(resp.Header) {
			t.a.setLimited(t.inst, reset)
			t.a.noteRemaining(req.Context(), t.inst, resp.Header)
		}
		return reset.Sub(now), &RateLimitError{Reset: reset, Method: req.Method, Route: route}
	}
	// A secondary limit without Retry-After: GitHub asks for at least a minute.
	if resp.StatusCode == http.StatusTooManyRequests || bodyMentionsRateLimit(resp) {
		return time.Minute, &RateLimitError{Secondary: true, Reset: now.Add(time.Minute), Method: req.Method, Route: route}
	}
	return 0, nil
}

func bodyMentionsRateLimit(resp *http.Response) bool {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return bytes.Contains(bytes.ToLower(b), []byte("rate limit"))
}

func isCore(h http.Header) bool {
	r := h.Get("X-RateLimit-Resource")
	return r == "" || r == "core"
}

func parseReset(h http.Header) time.Time {
	n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return time.Minute
}

// once makes one attempt with its own timeout and records it.
func (t *transport) once(req *http.Request, route string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.a.opt.AttemptTimeout)
	start := time.Now()
	resp, err := t.a.opt.Transport.RoundTrip(req.WithContext(ctx))
	t.a.metrics.observe(req.Method, route, resp, err, time.Since(start), t.inst)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("ghapp: request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}

// retryOn5xx reports whether a server error may be retried in place. A POST
// may have been carried out before GitHub failed to answer (a check run or a
// comment created twice), so it is left to the caller, whose next attempt
// looks before it creates; an installation token is the exception.
func retryOn5xx(method, route string) bool {
	return method != http.MethodPost || route == "/app/installations/{installation_id}/access_tokens"
}

// retryableNetError reports whether a transport error may be retried. A
// request that timed out may have been carried out, so only idempotent
// methods are retried then; a refused or reset connection is retried always.
func retryableNetError(method string, err error) bool {
	idempotent := method == http.MethodGet || method == http.MethodHead || method == http.MethodPut || method == http.MethodDelete || method == http.MethodPatch
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return idempotent
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return idempotent
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return idempotent
	}
	s := err.Error()
	return idempotent && (strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "server closed"))
}

func (t *transport) backoff(attempt int) time.Duration {
	d := t.a.opt.RetryBaseDelay << (attempt - 1)
	if d > t.a.opt.MaxRetryDelay || d <= 0 {
		d = t.a.opt.MaxRetryDelay
	}
	// Equal jitter: half fixed, half random.
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// limitedUntil returns when the installation's spent budget resets, or
// zero: this process's own knowledge, else (with Options.RateLimits) a
// record another replica noted with no call remaining before the reset.
func (a *App) limitedUntil(ctx context.Context, inst int64) time.Time {
	a.mu.Lock()
	u, ok := a.rl[inst]
	now := a.opt.Now()
	if ok && !u.After(now) {
		delete(a.rl, inst)
		u = time.Time{}
	}
	a.mu.Unlock()
	if !u.IsZero() || a.opt.RateLimits == nil {
		return u
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	shared, known, err := a.opt.RateLimits.RateLimit(ctx, inst)
	if err != nil {
		a.log.Debug("the shared rate-limit state could not be read", "installation", inst, "err", err)
		return time.Time{}
	}
	if known && shared.Remaining <= 0 && shared.Reset.After(now) {
		return shared.Reset
	}
	return time.Time{}
}

func (a *App) setLimited(inst int64, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if until.After(a.rl[inst]) {
		a.rl[inst] = until
	}
}

// RateLimit is what the latest response said of an installation's primary
// rate limit.
type RateLimit struct {
	// Remaining and Limit are X-RateLimit-Remaining and X-RateLimit-Limit.
	Remaining, Limit int
	// Reset is when the window resets.
	Reset time.Time
	// At is when the response came.
	At time.Time
}

// RateLimit returns what the latest response said of an installation's
// (0: the app's own) core rate limit; ok is false before any response and
// once its window has reset (by Options.Now). With Options.RateLimits it is the lowest count any replica saw in the
// latest window (state.Merge), read with a short timeout; when the shared
// record cannot be read, this process's own view.
func (a *App) RateLimit(installationID int64) (RateLimit, bool) {
	rl, ok := a.rateLimit(installationID)
	if ok && !rl.Reset.IsZero() && !rl.Reset.After(a.opt.Now()) {
		return RateLimit{}, false // the window has reset since: unknown again
	}
	return rl, ok
}

func (a *App) rateLimit(installationID int64) (RateLimit, bool) {
	a.mu.Lock()
	rl, ok := a.remaining[installationID]
	a.mu.Unlock()
	if a.opt.RateLimits == nil {
		return rl, ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	shared, known, err := a.opt.RateLimits.RateLimit(ctx, installationID)
	if err != nil {
		a.log.Warn("the shared rate-limit state could not be read; using this replica's", "installation", installationID, "err", err)
		return rl, ok
	}
	m := state.Merge(toState(rl), ok, shared)
	if !known {
		m = toState(rl)
	}
	return RateLimit{Remaining: m.Remaining, Limit: m.Limit, Reset: m.Reset, At: m.At}, ok || known
}

func toState(rl RateLimit) state.RateLimit {
	return state.RateLimit{Remaining: rl.Remaining, Limit: rl.Limit, Reset: rl.Reset, At: rl.At}
}

func (a *App) noteRemaining(ctx context.Context, inst int64, h http.Header) {
	if !isCore(h) || h.Get("X-From-Cache") != "" {
		return
	}
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	lim, err2 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if err1 != nil || err2 != nil || lim <= 0 {
		return
	}
	rl := RateLimit{Remaining: rem, Limit: lim, Reset: parseReset(h), At: a.opt.Now()}
	a.mu.Lock()
	a.remaining[inst] = rl
	a.mu.Unlock()
	if a.opt.RateLimits != nil {
		if err := a.opt.RateLimits.NoteRateLimit(context.WithoutCancel(ctx), inst, toState(rl)); err != nil {
			a.log.Debug("the rate-limit state could not be shared", "installation", inst, "err", err)
		}
	}
}
