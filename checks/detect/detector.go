package detect

import "errors"

// Detector classifies commits and pull requests. It is safe for concurrent use.
// STUB: the catalogue and matching are being written.
type Detector struct{}

// AgentInfo describes an agent the detector knows.
type AgentInfo struct {
	// ID is the stable agent id, such as "claude-code".
	ID string `json:"id"`
	// Name is the display name, such as "Claude Code".
	Name string `json:"name"`
	// Builtin is true for agents of the built-in catalogue.
	Builtin bool `json:"builtin"`
}

// New returns a Detector with the built-in catalogue adjusted by o.
func New(o Options) (*Detector, error) { return nil, errors.New("detect: not implemented") }

// Known reports whether id is an agent of the built-in catalogue.
func Known(id string) bool { return false }

// Catalogue lists the built-in agents.
func Catalogue() []AgentInfo { return nil }

// Commit classifies a commit.
func (d *Detector) Commit(c Commit) Detection { return Detection{Class: ClassHuman} }

// PullRequest classifies a pull request on its own fields (not its commits).
func (d *Detector) PullRequest(pr PullRequest) Detection { return Detection{Class: ClassHuman} }

// ParseTrailers returns the trailers of a commit message's trailer block: the
// last paragraph, when every line of it is a "Key: value" trailer (continuation
// lines allowed), as git interpret-trailers reads it.
func ParseTrailers(message string) []Trailer { return nil }
