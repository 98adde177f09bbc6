// Package setup registers Countersign as a GitHub App through GitHub's
// manifest flow: a page on the loopback interface posts app.yml to GitHub,
// GitHub redirects back with a one-time code, and the code is exchanged for
// the new app's id, private key and webhook secret.
package setup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/google/go-github/v62/github"
)

// Options configures a Flow.
type Options struct {
	// Manifest is the app to register; nil means app.yml.
	Manifest *appmanifest.Manifest
	// Name overrides the manifest's app name (names are unique on a GitHub host).
	Name string
	// WebhookURL is where GitHub will deliver the app's webhooks; required.
	WebhookURL string
	// Org registers the app in this organization; empty means the user's account.
	Org string
	// GitHubURL is the REST API base; default https://api.github.com/.
	GitHubURL string
	// Listen is the loopback address the local page is served on; default 127.0.0.1:0.
	Listen string
	// HTTPClient exchanges the code; default http.DefaultClient.
	HTTPClient *http.Client
}

// Credentials are what GitHub returns for a newly registered app.
type Credentials struct {
	// AppID is the app's numeric id.
	AppID int64
	// Slug is the app's URL name.
	Slug string
	// HTMLURL is the app's page on GitHub.
	HTMLURL string
	// PrivateKeyPEM is the app's private key. Never log it.
	PrivateKeyPEM string
	// WebhookSecret is the secret GitHub signs deliveries with. Never log it.
	WebhookSecret string
	// GitHubURL is the REST base the app was registered on.
	GitHubURL string
}

// InstallURL is the page where the app is installed on an account.
func (c *Credentials) InstallURL() string {
	return strings.TrimSuffix(c.HTMLURL, "/") + "/installations/new"
}

// Flow is one registration in progress. Its page is served until the code
// is exchanged or Close is called.
type Flow struct {
	opt      Options
	manifest []byte
	action   string
	state    string
	base     string
	ln       net.Listener
	srv      *http.Server
	client   *github.Client

	once sync.Once
	done chan result
	mu   sync.Mutex
	used bool
}

type result struct {
	c   *Credentials
	err error
}

// WebURL derives GitHub's web host from its REST API base:
// https://api.github.com/ gives https://github.com/, https://HOST/api/v3/
// (GitHub Enterprise Server) gives https://HOST/, https://api.SUB.ghe.com/
// gives https://SUB.ghe.com/; anything else its host's root.
func WebURL(restBase string) (string, error) {
	u, err := url.Parse(restBase)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("--github-url %q is not an absolute http(s) URL", restBase)
	}
	host := u.Host
	if strings.HasPrefix(strings.ToLower(host), "api.") {
		host = host[len("api."):]
	}
	return u.Scheme + "://" + host + "/", nil
}

// New validates the options, listens on the loopback address and returns
// the flow; URL is the page to open in a browser.
func New(o Options) (*Flow, error) {
	if o.Manifest == nil {
		m, err := appmanifest.Default()
		if err != nil {
			return nil, err
		}
		o.Manifest = m
	}
	if o.GitHubURL == "" {
		o.GitHubURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(o.GitHubURL, "/") {
		o.GitHubURL += "/"
	}
	web, err := WebURL(o.GitHubURL)
	if err != nil {
		return nil, err
	}
	hook, err := url.Parse(o.WebhookURL)
	if o.WebhookURL == "" {
		return nil, errors.New("--webhook-url is required: the public URL GitHub will deliver webhooks to, such as https://countersign.example.com/webhook")
	}
	if err != nil || (hook.Scheme != "https" && hook.Scheme != "http") || hook.Host == "" || hook.User != nil {
		return nil, fmt.Errorf("--webhook-url %q is not an absolute http(s) URL without credentials", o.WebhookURL)
	}
	if o.Org != "" && (strings.ContainsAny(o.Org, "/?#% ") || o.Org != strings.TrimSpace(o.Org)) {
		return nil, fmt.Errorf("--org %q is not an organization login", o.Org)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q is not host:port", o.Listen)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--listen %q is not a loopback address: the page must not be reachable from other machines", o.Listen)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	client := github.NewClient(o.HTTPClient)
	if client.BaseURL, err = url.Parse(o.GitHubURL); err != nil {
		return nil, err
	}

	st := make([]byte, 20)
	if _, err := rand.Read(st); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("serving the local page: %w", err)
	}
	f := &Flow{opt: o, state: hex.EncodeToString(st), ln: ln, client: client, done: make(chan result, 1),
		base: "http://" + ln.Addr().String() + "/"}

	m := *o.Manifest
	if o.Name != "" {
		m.Name = o.Name
	}
	m.HookAttributes = appmanifest.HookAttributes{URL: o.WebhookURL, Active: true}
	m.RedirectURL = f.base + "callback"
	if f.manifest, err = m.JSON(); err != nil {
		ln.Close()
		return nil, err
	}
	newApp := web + "settings/apps/new"
	if o.Org != "" {
		newApp = web + "organizations/" + url.PathEscape(o.Org) + "/settings/apps/new"
	}
	f.action = newApp + "?state=" + url.QueryEscape(f.state)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.servePage)
	mux.HandleFunc("GET /callback", f.serveCallback)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// URL is the local page that starts the registration.
func (f *Flow) URL() string { return f.base }

// ManifestJSON is the manifest the page posts, with the webhook and redirect URLs set.
func (f *Flow) ManifestJSON() []byte { return f.manifest }

// Close stops serving the page.
func (f *Flow) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return f.srv.Shutdown(ctx)
}

// Wait returns the new app's credentials once GitHub has redirected back and
// the code was exchanged, or an error when ctx ends first.
func (f *Flow) Wait(ctx context.Context) (*Credentials, error) {
	select {
	case r := <-f.done:
		return r.c, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("no app was registered: %w", context.Cause(ctx))
	}
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Register Countersign</title>
<meta name="referrer" content="no-referrer"></head>
<body>
<h1>Register {{.Name}} as a GitHub App</h1>
<p>This sends the app's manifest to GitHub{{if .Org}} for the organization <b>{{.Org}}</b>{{end}}. GitHub asks you to confirm the name, then comes back here.</p>
<p>Webhooks will be delivered to <code>{{.Hook}}</code>.</p>
<form id="register" action="{{.Action}}" method="post">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Register on GitHub</button>
</form>
<script>document.getElementById("register").submit();</script>
</body></html>
`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Countersign registered</title>
<meta name="referrer" content="no-referrer"></head>
<body><h1>{{.Name}} is registered (app id {{.ID}})</h1>
<p>The credentials were handed to <code>countersign setup</code>; you may close this tab.</p>
<p>Next: <a href="{{.Install}}">install the app</a> on the repositories it should guard.</p>
</body></html>
`))

func secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func (f *Flow) servePage(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	name := f.opt.Name
	if name == "" {
		name = f.opt.Manifest.Name
	}
	_ = page.Execute(w, map[string]string{"Name": name, "Org": f.opt.Org, "Hook": f.opt.WebhookURL,
		"Action": f.action, "Manifest": string(f.manifest)})
}

func (f *Flow) serveCallback(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		// Not GitHub coming back from this flow's form: refuse, keep waiting.
		http.Error(w, "state does not match this registration; start again from "+f.base, http.StatusBadRequest)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 256 {
		http.Error(w, "no code from GitHub", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if f.used {
		f.mu.Unlock()
		http.Error(w, "this registration is already complete", http.StatusGone)
		return
	}
	f.used = true
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	cfg, _, err := f.client.Apps.CompleteAppManifest(ctx, code)
	if err == nil && (cfg.GetID() <= 0 || cfg.GetPEM() == "" || cfg.GetWebhookSecret() == "") {
		err = errors.New("GitHub's answer lacks the app id, the private key or the webhook secret")
	}
	if err != nil {
		err = fmt.Errorf("exchanging the code with %sapp-manifests/{code}/conversions: %w", f.opt.GitHubURL, redact(err, code))
		http.Error(w, err.Error(), http.StatusBadGateway)
		f.finish(result{err: err})
		return
	}
	c := &Credentials{AppID: cfg.GetID(), Slug: cfg.GetSlug(), HTMLURL: cfg.GetHTMLURL(),
		PrivateKeyPEM: cfg.GetPEM(), WebhookSecret: cfg.GetWebhookSecret(), GitHubURL: f.opt.GitHubURL}
	_ = donePage.Execute(w, map[string]any{"Name": cfg.GetName(), "ID": c.AppID, "Install": c.InstallURL()})
	f.finish(result{c: c})
}

func (f *Flow) finish(r result) { f.once.Do(func() { f.done <- r }) }

// redact keeps the one-time code out of an error message.
func redact(err error, code string) error {
	return errors.New(strings.ReplaceAll(err.Error(), code, "{code}"))
}

// EnvFile renders the credentials as COUNTERSIGN_* settings, one per line,
// for systemd's EnvironmentFile or a shell's `set -a; . FILE`. The private
// key is written on one line with \n escapes, which serve accepts.
func EnvFile(c *Credentials) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Countersign GitHub App %q (id %d), written by `countersign setup`.\n", c.Slug, c.AppID)
	b.WriteString("# Secret: holds the app's private key and webhook secret. Keep it mode 0600.\n")
	fmt.Fprintf(&b, "COUNTERSIGN_APP_ID=%d\n", c.AppID)
	fmt.Fprintf(&b, "COUNTERSIGN_GITHUB_URL=%s\n", quote(c.GitHubURL))
	fmt.Fprintf(&b, "COUNTERSIGN_WEBHOOK_SECRET=%s\n", quote(c.WebhookSecret))
	pemOneLine := strings.ReplaceAll(strings.ReplaceAll(c.PrivateKeyPEM, "\r\n", "\n"), "\n", `\n`)
	fmt.Fprintf(&b, "COUNTERSIGN_PRIVATE_KEY=%s\n", quote(pemOneLine))
	return []byte(b.String())
}

// quote double-quotes a value the way both POSIX shells and systemd read
// it: ", \, $ and ` are escaped except a backslash before n, kept literal.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && v[i+1] == 'n':
			b.WriteString(`\n`)
			i++
		case c == '"' || c == '\\' || c == '$' || c == '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// WriteFile writes data to path readable and writable by its owner only
// (0600). It refuses an existing file unless force is set; a forced write
// replaces the file atomically and leaves it 0600 too.
func WriteFile(path string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; pass --force to overwrite it (or --out another file)", path)
		}
		if err != nil {
			return err
		}
		return writeClose(f, data, path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".countersign-setup-*")
	if err != nil {
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := writeClose(tmp, data, path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func writeClose(f *os.File, data []byte, name string) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// Summary writes what was registered and what to do next, without secrets.
func Summary(w io.Writer, c *Credentials, where string) {
	fmt.Fprintf(w, "Registered the GitHub App %q (app id %s).\n", c.Slug, strconv.FormatInt(c.AppID, 10))
	if where != "" {
		fmt.Fprintf(w, "Its credentials are in %s (mode 0600).\n", where)
	}
	fmt.Fprintf(w, "Install it on the repositories to guard: %s\n", c.InstallURL())
}
