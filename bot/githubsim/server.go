package githubsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

type authKind int

const (
	authToken authKind = iota // installation token
	authApp                   // app JWT
	authNone                  // no credentials needed (any accepted)
	authAny                   // installation token or none
)

type route struct {
	method, tmpl string
	segs         []string
	auth         authKind
	h            func(c *reqCtx)
}

// greedy path parameters may span several segments (branch names and paths contain "/").
var greedy = map[string]bool{"{path}": true, "{basehead}": true, "{ref}": true, "{branch}": true}

func (rt *route) match(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		if i == len(rt.segs) {
			return j == len(segs)
		}
		t := rt.segs[i]
		if j >= len(segs) {
			return false
		}
		if strings.HasPrefix(t, "{") {
			name := strings.Trim(t, "{}")
			if greedy[t] {
				for k := len(segs); k > j; k-- {
					if rec(i+1, k) {
						params[name] = strings.Join(segs[j:k], "/")
						return true
					}
				}
				return false
			}
			if segs[j] == "" {
				return false
			}
			params[name] = segs[j]
			return rec(i+1, j+1)
		}
		return segs[j] == t && rec(i+1, j+1)
	}
	if !rec(0, 0) {
		return nil, false
	}
	return params, true
}

// reqCtx is one REST request being served.
type reqCtx struct {
	s      *state
	r      *http.Request
	route  *route
	p      map[string]string
	body   []byte
	tok    *token
	inst   *installation
	repo   *repo
	status int
	out    any
	raw    []byte
	hdr    http.Header
}

func (c *reqCtx) json(status int, v any) { c.status, c.out = status, v }

func (c *reqCtx) fail(status int, msg, doc string) {
	if doc == "" {
		doc = "https://docs.github.com/rest"
	}
	c.json(status, obj{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func (c *reqCtx) notFound() { c.fail(http.StatusNotFound, "Not Found", "") }

func (c *reqCtx) invalid(msg string) { c.fail(http.StatusUnprocessableEntity, msg, "") }

func (c *reqCtx) query(k string) string { return c.r.URL.Query().Get(k) }

// decodeBody decodes the JSON body into v; it reports false (after answering 400) on bad JSON.
func (c *reqCtx) decodeBody(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON", "")
		return false
	}
	return true
}

func (s *state) newRouter() http.Handler {
	var routes []*route
	add := func(method, tmpl string, auth authKind, h func(c *reqCtx)) {
		routes = append(routes, &route{method: method, tmpl: tmpl, segs: strings.Split(strings.TrimPrefix(tmpl, "/"), "/"), auth: auth, h: h})
	}
	s.registerRoutes(add)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGitPath(r.URL.Path) {
			s.serveGit(w, r)
			return
		}
		segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
		for i, x := range segs {
			if u, err := url.PathUnescape(x); err == nil {
				segs[i] = u
			}
		}
		for _, rt := range routes {
			if rt.method != r.Method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
				continue
			}
			if p, ok := rt.match(segs); ok {
				s.serve(w, r, rt, p)
				return
			}
		}
		s.serve(w, r, nil, nil)
	})
}

func (s *state) serve(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	c := &reqCtx{s: s, r: r, route: rt, p: params, body: body, hdr: http.Header{}}
	tmpl := ""
	if rt != nil {
		tmpl = rt.tmpl
	}

	// Holds and latency faults apply before anything else, outside the lock.
	if holds := s.faultHolds(r.Method, tmpl); len(holds) > 0 {
		for _, hold := range holds {
			hold(r, body)
		}
		if r.Context().Err() != nil {
			return // the caller went away while held: as if it died before sending the call
		}
	}
	if d := s.faultLatency(r.Method, tmpl); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	s.mu.Lock()
	rateKey, limit := s.authenticate(c)
	if c.status == 0 && rt != nil {
		s.applyFault(c, r.Method, tmpl)
	}
	if c.status == 0 && rateKey != "" {
		if w := s.rateWindowLocked(rateKey, limit); w.used >= w.limit {
			c.fail(http.StatusForbidden, s.primaryMessage(c), "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits")
		}
	}
	if c.status == 0 {
		if rt == nil {
			c.notFound()
		} else {
			rt.h(c)
		}
	}
	if c.status == 0 {
		c.status = http.StatusNoContent
	}
	var out []byte
	if c.raw != nil {
		out = c.raw
	} else if c.out != nil {
		out, _ = json.Marshal(c.out)
	}
	h := w.Header()
	for k, v := range c.hdr {
		h[k] = v
	}
	status := c.status
	notModified := false
	if r.Method == http.MethodGet && status == http.StatusOK {
		// GitHub's ETags are specific to the credential ("expected to be
		// auth token specific", GitHub support): the validator hashes the
		// Authorization header with the body, so another token, a
		// refreshed one included, is answered 200 and charged.
		hash := sha256.New()
		hash.Write([]byte(r.Header.Get("Authorization")))
		hash.Write([]byte{0})
		hash.Write(out)
		etag := `W/"` + hex.EncodeToString(hash.Sum(nil)[:16]) + `"`
		h.Set("ETag", etag)
		if etagMatch(r.Header.Get("If-None-Match"), etag) {
			status, notModified = http.StatusNotModified, true
		}
	}
	if rateKey != "" {
		wnd := s.rateWindowLocked(rateKey, limit)
		if !notModified && c.hdr.Get("X-RateLimit-Remaining") == "" {
			wnd.used++
		}
		if h.Get("X-RateLimit-Remaining") == "" {
			h.Set("X-RateLimit-Limit", strconv.Itoa(wnd.limit))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(max(wnd.limit-wnd.used, 0)))
			h.Set("X-RateLimit-Used", strconv.Itoa(min(wnd.used, wnd.limit)))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(wnd.reset.Unix(), 10))
			h.Set("X-RateLimit-Resource", "core")
		}
	}
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("SIM:%X", len(s.calls)+1))
	var instID int64
	if c.inst != nil {
		instID = c.inst.id
	}
	call := Call{Method: r.Method, Path: r.URL.Path, Route: tmpl, Status: status, Installation: instID,
		RequestBody: body, ResponseBody: out, At: s.now()}
	if notModified {
		call.ResponseBody = nil
	}
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	if notModified {
		w.WriteHeader(status)
		return
	}
	if out != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	norm := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == "*" || norm(t) == norm(etag) {
			return true
		}
	}
	return false
}

func (s *state) rateWindowLocked(key string, limit int) *rateWindow {
	now := s.now()
	w, ok := s.rates[key]
	if !ok || !now.Before(w.reset) {
		w = &rateWindow{reset: now.Add(time.Hour).Truncate(time.Second), limit: limit}
		s.rates[key] = w
	}
	return w
}

func (s *state) primaryMessage(c *reqCtx) string {
	if c.inst != nil {
		return fmt.Sprintf("API rate limit exceeded for installation ID %d.", c.inst.id)
	}
	return "API rate limit exceeded for app ID " + strconv.FormatInt(s.opt.AppID, 10) + "."
}

// authenticate checks credentials for the route; on failure it answers the
// request. It returns the rate-limit bucket to charge.
func (s *state) authenticate(c *reqCtx) (string, int) {
	kind := authAny
	if c.route != nil {
		kind = c.route.auth
	}
	scheme, cred, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	scheme = strings.ToLower(scheme)
	bucket := "ip:" + strings.Split(c.r.RemoteAddr, ":")[0]
	if cred == "" {
		switch kind {
		case authNone, authAny:
			return bucket, 60
		}
		c.fail(http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest")
		return bucket, 60
	}
	if kind == authApp {
		if scheme != "bearer" {
			c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded", "https://docs.github.com/rest")
			return bucket, 60
		}
		if msg := s.verifyJWT(cred); msg != "" {
			c.fail(http.StatusUnauthorized, msg, "https://docs.github.com/rest")
			return bucket, 60
		}
		return "app", 5000
	}
	if kind == authNone {
		return bucket, 60
	}
	if scheme != "token" && scheme != "bearer" {
		c.fail(http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return bucket, 60
	}
	t, ok := s.tokens[cred]
	if !ok || !s.now().Before(t.expires) {
		c.fail(http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return bucket, 60
	}
	c.tok, c.inst = t, t.inst
	bucket = fmt.Sprintf("inst:%d", t.inst.id)
	if owner, ok := c.p["owner"]; ok {
		if name, ok := c.p["repo"]; ok {
			r := s.repos[strings.ToLower(owner+"/"+name)]
			if r == nil || !t.inst.covers(r) || (t.repos != nil && !t.repos[r]) {
				c.notFound()
				return bucket, s.installationLimit()
			}
			c.repo = r
		}
	}
	return bucket, s.installationLimit()
}

// installationLimit is an installation token's hourly core rate limit.
func (s *state) installationLimit() int {
	if s.opt.InstallationRateLimit > 0 {
		return s.opt.InstallationRateLimit
	}
	return 5000
}

// verifyJWT checks an app JWT as GitHub does and returns GitHub's message on failure.
func (s *state) verifyJWT(raw string) string {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return "A JSON web token could not be decoded"
	}
	if claims.Issuer != strconv.FormatInt(s.opt.AppID, 10) && claims.Issuer != s.clientID() {
		return "Integration not found"
	}
	now := s.now()
	if claims.IssuedAt == nil {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
	}
	if claims.ExpiresAt == nil {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	}
	const skew = 60 * time.Second
	if claims.IssuedAt.After(now.Add(skew)) {
		return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
	}
	if !claims.ExpiresAt.After(now) {
		return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute || claims.ExpiresAt.After(now.Add(10*time.Minute+skew)) {
		return "'Expiration time' claim ('exp') is too far in the future."
	}
	return ""
}

func (s *state) clientID() string { return fmt.Sprintf("Iv1.%016x", s.opt.AppID) }

// Calls returns every REST call served, in order.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the recorded calls.
func (s *Sim) ResetCalls() {
	s.mu.Lock()
	s.calls = nil
	s.mu.Unlock()
}

// paginate slices items for per_page/page and sets GitHub's Link header.
func paginate[T any](c *reqCtx, items []T) []T {
	per := 30
	if v, err := strconv.Atoi(c.query("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(c.query("page")); err == nil && v > 0 {
		page = v
	}
	last := (len(items) + per - 1) / per
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, strings.TrimSuffix(c.s.base, "/"), c.r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		c.hdr.Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * per
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+per, len(items))]
}

var _ = context.Background
