// Package ghapp authenticates Countersign as a GitHub App and hands out
// go-github clients: one for the app itself (JWT) and one per installation
// (installation token), all sharing a transport stack with conditional-request
// caching, bounded retries and rate-limit handling, and Prometheus metrics.
package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/countersign/countersign/bot/state"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v62/github"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultBaseURL is github.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// Options configures an App.
type Options struct {
	// AppID is the GitHub App's id.
	AppID int64
	// PrivateKeyPEM is the app's private key, PEM encoded.
	PrivateKeyPEM []byte
	// BaseURL is the REST API base, such as "https://api.github.com/" or
	// "https://HOST/api/v3/" for GitHub Enterprise Server; default github.com.
	BaseURL string
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Logger receives retry and rate-limit logs; nil means slog.Default().
	Logger *slog.Logger

	// Transport is the underlying HTTP transport; default http.DefaultTransport.
	Transport http.RoundTripper
	// MaxAttempts bounds the attempts of one request, retries included; default 4.
	MaxAttempts int
	// RetryBaseDelay is the first backoff delay, doubled per attempt and
	// jittered; default 500ms.
	RetryBaseDelay time.Duration
	// MaxRetryDelay caps one backoff delay; default 10s.
	MaxRetryDelay time.Duration
	// MaxRateLimitWait is the longest the client waits for a rate limit to
	// reset (primary) or a Retry-After to pass (secondary) before giving up
	// with a *RateLimitError; default 60s.
	MaxRateLimitWait time.Duration
	// AttemptTimeout bounds one HTTP attempt, reading the body included; default 30s.
	AttemptTimeout time.Duration
	// RateLimits keeps each installation's rate-limit state where every
	// replica reads it (bot/state, in Redis for replicas), so RateLimit
	// answers with the lowest count any of them saw; nil means this
	// process's view only.
	RateLimits state.RateLimits
	// CacheEntries bounds the conditional-request cache; default 4096, negative disables it.
	CacheEntries int
	// CacheMaxBody is the largest response body cached; default 1 MiB.
	CacheMaxBody int
	// Now is the clock rate-limit resets are compared with; default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = 500 * time.Millisecond
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 10 * time.Second
	}
	if o.MaxRateLimitWait <= 0 {
		o.MaxRateLimitWait = 60 * time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 30 * time.Second
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = 4096
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheMaxBody <= 0 {
		o.CacheMaxBody = 1 << 20
	}
}

// App is an authenticated GitHub App. It is safe for concurrent use.
type App struct {
	opt     Options
	key     *rsa.PrivateKey
	log     *slog.Logger
	metrics *metrics
	cache   *etagCache
	app     *github.Client

	mu    sync.Mutex
	insts map[int64]*installation
	rl    map[int64]time.Time // installation -> primary rate limit exhausted until
	// remaining is the latest primary rate-limit state per installation.
	remaining map[int64]RateLimit
}

type installation struct {
	tr     *ghinstallation.Transport
	client *github.Client
}

// New validates the options and returns an App. It makes no request.
func New(o Options) (*App, error) {
	if o.AppID <= 0 {
		return nil, errors.New("ghapp: app id must be positive")
	}
	if len(o.PrivateKeyPEM) == 0 {
		return nil, errors.New("ghapp: private key is empty")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(o.PrivateKeyPEM)
	if err != nil {
		// The parser's message never quotes the key.
		return nil, fmt.Errorf("ghapp: private key: %w", err)
	}
	o.defaults()
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("ghapp: base URL %q is not an http(s) URL", o.BaseURL)
	}
	a := &App{
		opt:     o,
		key:     key,
		log:     o.Logger,
		metrics: newMetrics(o.Registerer),
		cache:   newETagCache(o.CacheEntries, o.CacheMaxBody),
		insts:   map[int64]*installation{},
		rl:      map[int64]time.Time{},

		remaining: map[int64]RateLimit{},
	}
	atr := ghinstallation.NewAppsTransportFromPrivateKey(a.stack(0), o.AppID, key)
	atr.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	a.app, err = newClient(atr, o.BaseURL)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func newClient(rt http.RoundTripper, base string) (*github.Client, error) {
	c := github.NewClient(&http.Client{Transport: rt})
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("ghapp: base URL: %w", err)
	}
	c.BaseURL = u
	// Uploads are not used; point them at the same host so nothing leaves it.
	c.UploadURL = u
	return c, nil
}

// ID returns the app id.
func (a *App) ID() int64 { return a.opt.AppID }

// BaseURL returns the REST API base URL, ending in "/".
func (a *App) BaseURL() string { return a.opt.BaseURL }

// AppClient returns the client that authenticates as the app itself (JWT),
// for the /app endpoints.
func (a *App) AppClient() *github.Client { return a.app }

// Client returns the go-github client of an installation, created once and cached.
func (a *App) Client(installationID int64) (*github.Client, error) {
	in, err := a.installation(installationID)
	if err != nil {
		return nil, err
	}
	return in.client, nil
}

// Token returns a current installation access token, for git over HTTPS.
// The token must never be logged.
func (a *App) Token(ctx context.Context, installationID int64) (string, error) {
	in, err := a.installation(installationID)
	if err != nil {
		return "", err
	}
	tok, err := in.tr.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("installation %d: could not get an access token: %w", installationID, err)
	}
	return tok, nil
}

func (a *App) installation(id int64) (*installation, error) {
	if id <= 0 {
		return nil, fmt.Errorf("ghapp: installation id %d is not valid", id)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if in, ok := a.insts[id]; ok {
		return in, nil
	}
	// One AppsTransport per installation: ghinstallation writes to it while
	// refreshing a token, so sharing one between installations would race.
	atr := ghinstallation.NewAppsTransportFromPrivateKey(a.stack(id), a.opt.AppID, a.key)
	atr.BaseURL = strings.TrimSuffix(a.opt.BaseURL, "/")
	tr := ghinstallation.NewFromAppsTransport(atr, id)
	tr.BaseURL = atr.BaseURL
	c, err := newClient(tr, a.opt.BaseURL)
	if err != nil {
		return nil, err
	}
	in := &installation{tr: tr, client: c}
	a.insts[id] = in
	return in, nil
}
