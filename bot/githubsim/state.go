package githubsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-github/v62/github"
)

// Id bases keep each kind of object in its own, GitHub-looking range.
const (
	idUser         = 1000
	idRepo         = 100000
	idInstallation = 40000000
	idPR           = 500000000
	idReview       = 600000000
	idComment      = 700000000
	idCheckRun     = 800000000
	idCheckSuite   = 900000000
	idReaction     = 110000000
	idDelivery     = 1200000000
	idTeam         = 3000
	idLabel        = 2000000
	idIssue        = 1300000000
	idDeployment   = 140000000
	idRun          = 15000000000
	idIssueEvent   = 16000000000
	hookIDBase     = 420000000
)

type user struct {
	id        int64
	login     string
	typ       string // User, Bot, Organization
	name      string
	email     string
	createdAt time.Time
}

type team struct {
	id      int64
	org     *user
	slug    string
	name    string
	members []string // lower-case logins, in insertion order
}

type repo struct {
	id            int64
	owner         *user
	name          string
	private       bool
	defaultBranch string
	storer        *memory.Storage
	createdAt     time.Time
	pushedAt      time.Time
	perms         map[string]string // lower login -> admin|maintain|write|triage|read
	prs           map[int]*pullRequest
	prOrder       []*pullRequest
	nextNumber    int
	protection    map[string]*github.Protection
	rules         map[string][]*github.RepositoryRule
	emails        map[string]string // author email -> login
	labelIDs      map[string]int64
	stats         map[[2]plumbing.Hash]*diffStats
	issues        []*issue
	deployRules   []*deployRule
	envs          []*environment
	queues        map[string][]queueEntry // base branch -> merge queue entries, oldest first
}

func (r *repo) fullName() string { return r.owner.login + "/" + r.name }

type installation struct {
	id        int64
	account   *user
	all       bool
	repos     []*repo
	createdAt time.Time
}

func (in *installation) covers(r *repo) bool {
	if r == nil {
		return false
	}
	if in.all {
		return strings.EqualFold(r.owner.login, in.account.login)
	}
	for _, x := range in.repos {
		if x == r {
			return true
		}
	}
	return false
}

type token struct {
	value   string
	inst    *installation
	expires time.Time
	repos   map[*repo]bool // nil: every repository of the installation
}

type rateWindow struct {
	reset time.Time
	used  int
	limit int
}

type state struct {
	opt     Options
	now     func() time.Time
	key     *rsa.PrivateKey
	handler http.Handler

	mu    sync.Mutex
	gitMu sync.RWMutex // guards the go-git storers: Push writes, upload-pack reads

	base   string
	ln     net.Listener
	srv    *http.Server
	closed bool

	seq           map[int64]int64
	users         map[string]*user
	verified      map[string]string // lower-case verified address -> login
	repos         map[string]*repo
	repoOrder     []*repo
	teams         map[string]*team
	insts         map[int64]*installation
	instOrder     []*installation
	tokens        map[string]*token
	checkRuns     map[int64]*checkRun
	checkOrder    []*checkRun
	suites        map[string]int64
	comments      map[int64]*comment
	manifestCodes map[string]bool
	rates         map[string]*rateWindow
	appCreatedAt  time.Time

	calls  []Call
	writes []CheckRunWrite
	faults []*faultEntry
	rng    *mrand.Rand
	dropP  float64
	dropN  int // the next dropN deliveries are dropped

	hookURL, hookSecret string
	queue               []*delivery
	deliveries          []*delivery
	pending             int
	idle                chan struct{}
	wake                chan struct{}
	stop                chan struct{}
	done                chan struct{}
	hookClient          *http.Client
}

var (
	keyOnce   sync.Once
	cachedKey *rsa.PrivateKey
)

func processKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("githubsim: generating RSA key: " + err.Error())
		}
		cachedKey = k
	})
	return cachedKey
}

func newSim(opt Options) *Sim {
	if opt.AppID == 0 {
		opt.AppID = 1
	}
	if opt.AppSlug == "" {
		opt.AppSlug = "countersign"
	}
	if opt.TokenTTL == 0 {
		opt.TokenTTL = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.DeliveryWorkers < 1 {
		opt.DeliveryWorkers = 1
	}
	key := opt.PrivateKey
	if key == nil {
		key = processKey()
	}
	st := &state{
		opt:           opt,
		now:           opt.Now,
		key:           key,
		base:          "http://githubsim.invalid/",
		seq:           map[int64]int64{},
		users:         map[string]*user{},
		verified:      map[string]string{},
		repos:         map[string]*repo{},
		teams:         map[string]*team{},
		insts:         map[int64]*installation{},
		tokens:        map[string]*token{},
		checkRuns:     map[int64]*checkRun{},
		suites:        map[string]int64{},
		comments:      map[int64]*comment{},
		manifestCodes: map[string]bool{},
		rates:         map[string]*rateWindow{},
		rng:           mrand.New(mrand.NewSource(opt.Seed)),
		hookURL:       opt.WebhookURL,
		hookSecret:    opt.WebhookSecret,
		idle:          make(chan struct{}),
		wake:          make(chan struct{}, 1),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		hookClient:    &http.Client{Timeout: 10 * time.Second, Transport: hookTransport(opt.DeliveryWorkers)},
	}
	close(st.idle)
	st.appCreatedAt = st.ts()
	// The app's own bot user, the author of everything written with an installation token.
	st.addUserLocked(opt.AppSlug+"[bot]", "Bot", 0)
	st.handler = st.newRouter()
	var senders sync.WaitGroup
	for range opt.DeliveryWorkers {
		senders.Go(st.sendLoop)
	}
	go func() {
		senders.Wait()
		close(st.done)
	}()
	return &Sim{st}
}

// hookTransport is the webhook sender's transport: one idle connection
// kept per sender, so concurrent senders do not redial for every delivery.
func hookTransport(senders int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(2, senders)
	return t
}

// ts is the current simulated time, truncated to seconds like GitHub's timestamps.
func (s *state) ts() time.Time { return s.now().UTC().Truncate(time.Second) }

func (s *state) nextID(base int64) int64 {
	s.seq[base]++
	return base + s.seq[base]
}

// Start serves the simulator on 127.0.0.1:0 and returns the REST base URL ending in "/".
func (s *Sim) Start() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("githubsim: listen: " + err.Error())
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln = ln
	s.srv = srv
	s.base = "http://" + ln.Addr().String() + "/"
	base := s.base
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return base
}

// URL returns the REST base URL ending in "/".
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// SetBaseURL sets the URL the simulator is reachable at when it is served
// through Handler by the caller's own server (Start sets it itself).
func (s *Sim) SetBaseURL(u string) {
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	s.mu.Lock()
	s.base = u
	s.mu.Unlock()
}

// Handler returns the simulator's HTTP handler (REST and git smart HTTP).
func (s *Sim) Handler() http.Handler { return s.handler }

// Close stops the server and the webhook sender. Undelivered webhooks are abandoned.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
		_ = srv.Close()
	}
}

// AppID returns the app's id.
func (s *Sim) AppID() int64 { return s.opt.AppID }

// PrivateKey returns the app's private key.
func (s *Sim) PrivateKey() *rsa.PrivateKey { return s.key }

// PrivateKeyPEM returns the app's private key, PEM encoded (PKCS #1, as GitHub issues it).
func (s *Sim) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.key)})
}

// SetWebhook sets where deliveries are POSTed and the secret they are signed with.
func (s *Sim) SetWebhook(url, secret string) {
	s.mu.Lock()
	s.hookURL, s.hookSecret = url, secret
	s.mu.Unlock()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// guid returns a version-4-looking GUID from the seeded RNG (deterministic per seed).
func (s *state) guid() string {
	b := make([]byte, 16)
	s.rng.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func mustf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("githubsim: "+format, args...))
	}
}

var errClosed = errors.New("githubsim: simulator closed")
