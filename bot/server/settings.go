package server

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultGitHubURL is github.com's REST API base.
const DefaultGitHubURL = "https://api.github.com/"

// DefaultListen is the address served when none is set.
const DefaultListen = ":8080"

// DefaultMetricsListen is where the probes (/healthz, /readyz) and
// Prometheus (/metrics) are served when no address is set: the loopback
// interface only. Containers set ":9090" so the platform can reach it.
const DefaultMetricsListen = "127.0.0.1:9090"

// Settings are the validated settings of 'countersign serve'.
type Settings struct {
	// AppID is the GitHub App's id.
	AppID int64
	// PrivateKeyPEM is the app's private key, PEM encoded; PrivateKey is it parsed.
	PrivateKeyPEM []byte
	PrivateKey    *rsa.PrivateKey
	// WebhookSecret verifies deliveries.
	WebhookSecret []byte
	// GitHubURL is the REST API base URL, ending in "/".
	GitHubURL string
	// Listen is the address the webhook (and the details pages) are served on.
	Listen string
	// MetricsListen is the address /healthz, /readyz and /metrics are
	// served on; never the webhook's.
	MetricsListen string
	// PublicURL is the server's public base URL, used for links; may be empty.
	PublicURL string
	// Workers is how many evaluations run at once.
	Workers int
	// QueueSize bounds the work queue.
	QueueSize int
	// LogLevel and LogFormat configure the logger.
	LogLevel  slog.Level
	LogFormat string
	// DrainTimeout bounds the drain of queued work at shutdown.
	DrainTimeout time.Duration
	// SweepInterval is how often open pull requests are swept; 0 disables the sweep.
	SweepInterval time.Duration
	// RedeliverWindow is how far back failed deliveries are redelivered; 0 disables redelivery.
	RedeliverWindow time.Duration
	// RedeliverInterval is how often failed deliveries are redelivered (at
	// start, then each interval); 0 redelivers at start only.
	RedeliverInterval time.Duration
	// RedisURL, when set, is the Redis that replicas behind one load
	// balancer share to order their check-run writes (bot/fence); empty
	// means one replica. It may carry a password: it is never logged.
	RedisURL string
}

// LogValue shows the settings without their secrets.
func (s *Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("app_id", s.AppID),
		slog.String("private_key", "[redacted]"),
		slog.String("webhook_secret", "[redacted]"),
		slog.String("github_url", s.GitHubURL),
		slog.String("listen", s.Listen),
		slog.String("metrics_listen", s.MetricsListen),
		slog.String("public_url", s.PublicURL),
		slog.Int("workers", s.Workers),
		slog.Int("queue_size", s.QueueSize),
		slog.String("log_level", s.LogLevel.String()),
		slog.String("log_format", s.LogFormat),
		slog.Duration("drain_timeout", s.DrainTimeout),
		slog.Duration("sweep_interval", s.SweepInterval),
		slog.Duration("redeliver_window", s.RedeliverWindow),
		slog.Duration("redeliver_interval", s.RedeliverInterval),
		slog.Bool("redis", s.RedisURL != ""),
	)
}

// NewLogger returns the logger the settings ask for, writing to w.
func (s *Settings) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.LogLevel}
	if s.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// setting is one flag and its environment variable.
type setting struct {
	flag, env, def, usage string
}

var settingsTable = []setting{
	{"app-id", "COUNTERSIGN_APP_ID", "", "GitHub App id (required)"},
	{"private-key-file", "COUNTERSIGN_PRIVATE_KEY_FILE", "", "file holding the app's PEM private key (or the PEM itself in COUNTERSIGN_PRIVATE_KEY)"},
	{"webhook-secret", "COUNTERSIGN_WEBHOOK_SECRET", "", "webhook secret (prefer --webhook-secret-file: flags show in ps)"},
	{"webhook-secret-file", "COUNTERSIGN_WEBHOOK_SECRET_FILE", "", "file holding the webhook secret"},
	{"github-url", "COUNTERSIGN_GITHUB_URL", DefaultGitHubURL, "GitHub REST API base; GitHub Enterprise Server: https://HOST/api/v3/"},
	{"listen", "COUNTERSIGN_LISTEN", DefaultListen, "address to serve the webhook (and details pages) on"},
	{"metrics-listen", "COUNTERSIGN_METRICS_LISTEN", DefaultMetricsListen, "address to serve /healthz, /readyz and /metrics on; must differ from --listen (containers: :9090)"},
	{"public-url", "COUNTERSIGN_PUBLIC_URL", "", "the server's public base URL, for links (optional)"},
	{"workers", "COUNTERSIGN_WORKERS", strconv.Itoa(DefaultWorkers), "evaluations run at once"},
	{"queue-size", "COUNTERSIGN_QUEUE_SIZE", strconv.Itoa(DefaultQueueSize), "pull requests pending before deliveries are answered 503"},
	{"log-level", "COUNTERSIGN_LOG_LEVEL", "info", "debug|info|warn|error"},
	{"log-format", "COUNTERSIGN_LOG_FORMAT", "json", "json|text"},
	{"drain-timeout", "COUNTERSIGN_DRAIN_TIMEOUT", DefaultDrainTimeout.String(), "how long to finish queued work at shutdown"},
	{"sweep-interval", "COUNTERSIGN_SWEEP_INTERVAL", DefaultSweepInterval.String(), "how often to re-evaluate open PRs whose check is missing or stale (0 disables)"},
	{"redeliver-window", "COUNTERSIGN_REDELIVER_WINDOW", DefaultRedeliverWindow.String(), "redeliver failed webhook deliveries this recent (0 disables)"},
	{"redeliver-interval", "COUNTERSIGN_REDELIVER_INTERVAL", DefaultRedeliverInterval.String(), "how often to redeliver failed webhook deliveries, one replica per interval (0: at start only)"},
	{"redis-url", "COUNTERSIGN_REDIS_URL", "", "redis:// URL shared by replicas behind one load balancer (optional; unset: one replica)"},
}

// envPrivateKey holds the PEM itself; it has no flag, so the key never
// appears in a process listing.
const envPrivateKey = "COUNTERSIGN_PRIVATE_KEY"

// SettingsUsage writes the flags and their environment variables.
func SettingsUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: countersign serve [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag can be set by its environment variable; a flag wins over the variable.")
	fmt.Fprintln(w)
	SettingsFlags(w)
}

// SettingsFlags writes the settings table of SettingsUsage without its
// usage header, for commands that read serve's settings (doctor).
func SettingsFlags(w io.Writer) {
	for _, st := range settingsTable {
		def := ""
		if st.def != "" {
			def = " (default " + st.def + ")"
		}
		fmt.Fprintf(w, "  --%-20s %-33s %s%s\n", st.flag, st.env, st.usage, def)
	}
	fmt.Fprintf(w, "  %-22s %-33s %s\n", "", envPrivateKey, "the app's PEM private key itself, instead of a file")
}

// settingError names the flag and environment variable of a bad setting.
func settingError(st setting, format string, a ...any) error {
	return fmt.Errorf("--%s / %s: %s", st.flag, st.env, fmt.Sprintf(format, a...))
}

// LoadSettings reads the settings of 'countersign serve' from args (flags)
// and getenv (environment; a flag wins), and validates them. Every error
// names the flag and the environment variable. -h returns flag.ErrHelp.
func LoadSettings(args []string, getenv func(string) string) (*Settings, error) {
	fs := flag.NewFlagSet("countersign serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	vals := map[string]*string{}
	for _, st := range settingsTable {
		vals[st.flag] = fs.String(st.flag, "", st.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("countersign serve: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("countersign serve: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	by := map[string]setting{}
	for _, st := range settingsTable {
		by[st.flag] = st
	}
	// get returns a setting's value: the flag, else the environment, else the default.
	get := func(name string) (string, bool) {
		st := by[name]
		if set[name] {
			return *vals[name], true
		}
		if v := getenv(st.env); v != "" {
			return v, true
		}
		return st.def, false
	}

	s := &Settings{}
	var errs []error

	if v, ok := get("app-id"); !ok || strings.TrimSpace(v) == "" {
		errs = append(errs, settingError(by["app-id"], "required: the GitHub App's numeric id"))
	} else if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || id <= 0 {
		errs = append(errs, settingError(by["app-id"], "%q is not a positive integer", v))
	} else {
		s.AppID = id
	}

	if err := loadPrivateKey(s, get, getenv, by["private-key-file"]); err != nil {
		errs = append(errs, err)
	}
	if err := loadWebhookSecret(s, get, by["webhook-secret"], by["webhook-secret-file"]); err != nil {
		errs = append(errs, err)
	}

	gh, _ := get("github-url")
	if u, err := normalizeURL(gh); err != nil {
		errs = append(errs, settingError(by["github-url"], "%v", err))
	} else {
		s.GitHubURL = u
	}

	for _, n := range []struct {
		name, example string
		dst           *string
	}{{"listen", ":8080", &s.Listen}, {"metrics-listen", "127.0.0.1:9090", &s.MetricsListen}} {
		addr, _ := get(n.name)
		if _, port, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, settingError(by[n.name], "%q is not host:port (such as %s)", addr, n.example))
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			errs = append(errs, settingError(by[n.name], "%q has no valid port", addr))
		} else {
			*n.dst = addr
		}
	}
	if s.Listen != "" && s.MetricsListen != "" && sameListener(s.Listen, s.MetricsListen) {
		errs = append(errs, settingError(by["metrics-listen"], "%q overlaps --listen / COUNTERSIGN_LISTEN %q: the probes and /metrics need a separate address (only POST /webhook is to be exposed)", s.MetricsListen, s.Listen))
	}

	if v, ok := get("public-url"); ok && v != "" {
		if u, err := normalizeURL(v); err != nil {
			errs = append(errs, settingError(by["public-url"], "%v", err))
		} else {
			s.PublicURL = u
		}
	}

	for _, n := range []struct {
		name string
		dst  *int
		max  int
	}{{"workers", &s.Workers, 1024}, {"queue-size", &s.QueueSize, 10_000_000}} {
		v, _ := get(n.name)
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 1 || i > n.max {
			errs = append(errs, settingError(by[n.name], "%q is not an integer from 1 to %d", v, n.max))
			continue
		}
		*n.dst = i
	}

	lvl, _ := get("log-level")
	switch strings.ToLower(lvl) {
	case "debug":
		s.LogLevel = slog.LevelDebug
	case "info":
		s.LogLevel = slog.LevelInfo
	case "warn", "warning":
		s.LogLevel = slog.LevelWarn
	case "error":
		s.LogLevel = slog.LevelError
	default:
		errs = append(errs, settingError(by["log-level"], "%q is not one of debug, info, warn, error", lvl))
	}

	format, _ := get("log-format")
	switch f := strings.ToLower(format); f {
	case "json", "text":
		s.LogFormat = f
	default:
		errs = append(errs, settingError(by["log-format"], "%q is not json or text", format))
	}

	dt, _ := get("drain-timeout")
	if d, err := time.ParseDuration(dt); err != nil || d <= 0 {
		errs = append(errs, settingError(by["drain-timeout"], "%q is not a positive duration (such as 30s)", dt))
	} else {
		s.DrainTimeout = d
	}

	for _, n := range []struct {
		name string
		dst  *time.Duration
	}{{"sweep-interval", &s.SweepInterval}, {"redeliver-window", &s.RedeliverWindow}, {"redeliver-interval", &s.RedeliverInterval}} {
		v, _ := get(n.name)
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err != nil || d < 0 {
			errs = append(errs, settingError(by[n.name], "%q is not a duration of 0 or more (such as 15m; 0 disables)", v))
		} else {
			*n.dst = d
		}
	}

	if v, ok := get("redis-url"); ok && v != "" {
		// The URL may carry a password: errors never quote it.
		if u, err := url.Parse(strings.TrimSpace(v)); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			errs = append(errs, settingError(by["redis-url"], "not a redis://host:port[/db] or rediss:// URL"))
		} else {
			s.RedisURL = strings.TrimSpace(v)
		}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func loadPrivateKey(s *Settings, get func(string) (string, bool), getenv func(string) string, st setting) error {
	file, fileSet := get("private-key-file")
	inline := getenv(envPrivateKey)
	name := fmt.Sprintf("--%s / %s / %s", st.flag, st.env, envPrivateKey)
	var pemBytes []byte
	switch {
	case fileSet && inline != "":
		return fmt.Errorf("%s: set either the key file or the key itself, not both", name)
	case fileSet:
		b, err := os.ReadFile(file)
		if err != nil {
			return settingError(st, "reading the private key: %v", err)
		}
		pemBytes = b
	case inline != "":
		pemBytes = []byte(inline)
		// An environment variable may carry the PEM with "\n" escapes.
		if !bytes.Contains(pemBytes, []byte("\n")) && bytes.Contains(pemBytes, []byte(`\n`)) {
			pemBytes = bytes.ReplaceAll(pemBytes, []byte(`\n`), []byte("\n"))
		}
		st = setting{flag: st.flag, env: envPrivateKey}
	default:
		return fmt.Errorf("%s: required: the GitHub App's private key (PEM)", name)
	}
	key, err := parseRSAKey(pemBytes)
	if err != nil {
		if st.env == envPrivateKey {
			return fmt.Errorf("%s: %v", envPrivateKey, err)
		}
		return settingError(st, "%s: %v", file, err)
	}
	s.PrivateKeyPEM, s.PrivateKey = pemBytes, key
	return nil
}

// parseRSAKey parses a PEM RSA private key (PKCS #1, as GitHub issues them,
// or PKCS #8). Its errors never quote the key.
func parseRSAKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed RSA PRIVATE KEY block")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("malformed PRIVATE KEY block")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is %T, not RSA; GitHub App keys are RSA", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("PEM block is %q, not an RSA private key", block.Type)
	}
}

func loadWebhookSecret(s *Settings, get func(string) (string, bool), st, stFile setting) error {
	v, set := get("webhook-secret")
	file, fileSet := get("webhook-secret-file")
	both := fmt.Sprintf("--%s / %s / --%s / %s", st.flag, st.env, stFile.flag, stFile.env)
	switch {
	case set && fileSet:
		return fmt.Errorf("%s: set either the secret or the secret file, not both", both)
	case set:
		if v == "" {
			return settingError(st, "is empty")
		}
		s.WebhookSecret = []byte(v)
	case fileSet:
		b, err := os.ReadFile(file)
		if err != nil {
			return settingError(stFile, "reading the webhook secret: %v", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return settingError(stFile, "%s is empty", file)
		}
		s.WebhookSecret = b
	default:
		return fmt.Errorf("%s: required: the webhook secret set on the GitHub App", both)
	}
	return nil
}

// sameListener reports whether two valid host:port addresses would listen on
// the same port of the same interface: the same non-zero port, and the same
// host or either on every interface.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	any := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return any(ha) || any(hb) || strings.EqualFold(ha, hb)
}

// normalizeURL checks that v is an absolute http(s) URL and gives it a
// trailing slash.
func normalizeURL(v string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", v)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", v)
	}
	if u.User != nil {
		return "", errors.New("the URL must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must not carry a query or a fragment", v)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}
