// Package githubsim is a stateful, in-process simulator of the part of
// GitHub's REST API, git smart HTTP and webhooks that Countersign uses.
//
// The server under test talks to it over HTTP exactly as it would talk to
// api.github.com; tests seed state through the Go API in this package and
// observe what the bot did (check-run writes, comments, REST calls).
package githubsim

import (
	"crypto/rsa"
	"net/http"
	"time"
)

// Options configures a simulator.
type Options struct {
	AppID         int64           // default 1
	AppSlug       string          // default "countersign"
	PrivateKey    *rsa.PrivateKey // generated (and cached per process) when nil
	WebhookURL    string          // where deliveries are POSTed; can be set later
	WebhookSecret string          // HMAC key for X-Hub-Signature(-256)
	TokenTTL      time.Duration   // installation token lifetime, default 1h
	Now           func() time.Time
	// InstallationRateLimit is an installation token's hourly core rate
	// limit (X-RateLimit-Limit); 0 means GitHub's 5,000.
	InstallationRateLimit int
	// Seed seeds the fault and delivery-drop RNG; 0 means 1.
	Seed int64
	// DeliveryWorkers is how many webhook deliveries are POSTed at once.
	// 0 or 1: one at a time, strictly in the order they were queued. More:
	// that many concurrent senders, so deliveries (even of one pull
	// request) may arrive out of order, as GitHub does not guarantee order.
	DeliveryWorkers int
}

// Identity is a git author or committer; Login links it to a GitHub user.
type Identity struct{ Name, Email, Login string }

// CommitSpec describes one commit made by Push.
type CommitSpec struct {
	Author, Committer Identity // Committer defaults to Author
	Message           string
	Files             map[string]string // path -> content written
	Delete            []string
	Rename            map[string]string // old path -> new path
}

// PRSpec describes a pull request opened by OpenPR.
type PRSpec struct {
	Author, Head, Base, Title, Body string
	Draft                           bool
	Labels                          []string
}

// CheckRunWrite is one create or update of a check run, as the bot sent it.
type CheckRunWrite struct {
	At                                             time.Time
	Repo, HeadSHA, Name, Status, Conclusion, Title string
	ID                                             int64
	Method                                         string
	// Summary is output.summary as stored after the write.
	Summary string
}

// Call is one REST request the simulator served.
type Call struct {
	Method, Path, Route       string
	Status                    int
	Installation              int64
	RequestBody, ResponseBody []byte
	At                        time.Time
}

// Delivery is one webhook delivery attempt.
type Delivery struct {
	GUID, Event, Action string
	Body                []byte
	Status              int
	Err                 string
	Dropped, Redelivery bool
	At                  time.Time
	// ID is the delivery id listed by GET /app/hook/deliveries.
	ID int64
}

// Fault makes matching REST calls fail or slow down.
type Fault struct {
	Method, Route      string // "" matches any; Route is an OpenAPI path template
	Status             int    // e.g. 500, 502
	PrimaryRateLimit   bool   // 403, X-RateLimit-Remaining: 0, X-RateLimit-Reset
	SecondaryRateLimit bool   // 403 (or 429 if Status==429) with Retry-After
	RetryAfter         time.Duration
	Latency            time.Duration
	Times              int     // 0 = until removed
	Probability        float64 // 0 = always
	// Hold, when set, is called with each matching call and its body
	// before the call is served, outside the simulator's lock; the call
	// waits for as long as Hold blocks, so a test can stop the caller in
	// the middle of its work (and kill it) at a chosen call. A call whose
	// caller went away while it was held is not served.
	Hold func(r *http.Request, body []byte)
}

// Sim is a stateful GitHub simulator. All methods are safe for concurrent use.
type Sim struct {
	*state
}

// New creates a simulator; Start serves it on a loopback port.
func New(opt Options) *Sim { return newSim(opt) }
