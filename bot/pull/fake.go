package pull

import (
	"context"
	"strings"
	"sync"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
)

// Fake is a Context backed by plain data, for tests. Each field answers its
// method; an entry in Errors (keyed by method name, such as "Files")
// makes the method fail instead. Calls counts the calls per method.
type Fake struct {
	RepoName    string
	PRData      *PR
	FilesData   []checks.File
	CommitsData []detect.Commit
	// CommitFilesData answers CommitFiles: the paths each commit changed, by SHA.
	CommitFilesData map[string][]string
	ReviewsData     []checks.Review
	CommentsData    []Comment
	Reviewers       map[string]checks.Reviewer // keyed by lower-case login
	PolicyData      *config.Policy             // nil means config.Default()
	CodeOwnersSet   codeowners.Ruleset
	AddressesData   map[string]string // what GitHub ties addresses to (Addresses)
	CodeOwnersBlob  string
	Errors          map[string]error

	// AskedCommits are the commits Addresses was asked about.
	AskedCommits []string

	mu    sync.Mutex
	calls map[string]int
}

var _ Context = (*Fake)(nil)

func (f *Fake) call(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	return f.Errors[name]
}

// Calls returns how often a method was called.
func (f *Fake) Calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// Repo returns RepoName.
func (f *Fake) Repo() string { return f.RepoName }

// Number returns the PR number.
func (f *Fake) Number() int {
	if f.PRData == nil {
		return 0
	}
	return f.PRData.Number
}

// PR returns PRData.
func (f *Fake) PR(ctx context.Context) (*PR, error) {
	if err := f.call("PR"); err != nil {
		return nil, err
	}
	return f.PRData, nil
}

// Files returns FilesData.
func (f *Fake) Files(ctx context.Context) ([]checks.File, error) {
	if err := f.call("Files"); err != nil {
		return nil, err
	}
	return f.FilesData, nil
}

// Commits returns CommitsData.
func (f *Fake) Commits(ctx context.Context) ([]detect.Commit, error) {
	if err := f.call("Commits"); err != nil {
		return nil, err
	}
	return f.CommitsData, nil
}

// Reviews returns ReviewsData.
func (f *Fake) Reviews(ctx context.Context) ([]checks.Review, error) {
	if err := f.call("Reviews"); err != nil {
		return nil, err
	}
	return f.ReviewsData, nil
}

// Comments returns CommentsData.
func (f *Fake) Comments(ctx context.Context) ([]Comment, error) {
	if err := f.call("Comments"); err != nil {
		return nil, err
	}
	return f.CommentsData, nil
}

// Reviewer returns the login's entry of Reviewers, or an unknown standing.
func (f *Fake) Reviewer(ctx context.Context, login string) (checks.Reviewer, error) {
	if err := f.call("Reviewer"); err != nil {
		return checks.Reviewer{}, err
	}
	if rv, ok := f.Reviewers[strings.ToLower(login)]; ok {
		return rv, nil
	}
	return checks.Reviewer{Login: login}, nil
}

// Policy returns PolicyData or the default.
func (f *Fake) Policy(ctx context.Context) (*config.Policy, error) {
	if err := f.call("Policy"); err != nil {
		return nil, err
	}
	if f.PolicyData == nil {
		return config.Default(), nil
	}
	return f.PolicyData, nil
}

// Compiled returns Policy compiled; a policy that does not compile gives a *PolicyError.
func (f *Fake) Compiled(ctx context.Context) (*checks.Compiled, error) {
	p, err := f.Policy(ctx)
	if err != nil {
		return nil, err
	}
	c, err := checks.Compile(p)
	if err != nil {
		return nil, &PolicyError{Source: p.Source, Err: err}
	}
	return c, nil
}

// CodeOwners returns CodeOwnersSet and CodeOwnersBlob.
func (f *Fake) CodeOwners(ctx context.Context) (codeowners.Ruleset, string, error) {
	if err := f.call("CodeOwners"); err != nil {
		return nil, "", err
	}
	return f.CodeOwnersSet, f.CodeOwnersBlob, nil
}

// Addresses returns AddressesData and records the commits asked about.
func (f *Fake) Addresses(ctx context.Context, shas []string) (map[string]string, error) {
	f.mu.Lock()
	f.AskedCommits = append(f.AskedCommits, shas...)
	f.mu.Unlock()
	if err := f.call("Addresses"); err != nil {
		return nil, err
	}
	return f.AddressesData, nil
}
