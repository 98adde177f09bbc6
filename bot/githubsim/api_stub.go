package githubsim

import (
	"context"
	"crypto/rsa"
	"net/http"

	"github.com/google/go-github/v62/github"
)

type state struct{ opt Options }

func newSim(opt Options) *Sim { return &Sim{&state{opt: opt}} }

// Start serves the simulator on 127.0.0.1:0 and returns the REST base URL ending in "/".
func (s *Sim) Start() string { return "" }

// URL returns the REST base URL ending in "/".
func (s *Sim) URL() string { return "" }

// Handler returns the simulator's HTTP handler (REST, git smart HTTP).
func (s *Sim) Handler() http.Handler { return http.NotFoundHandler() }

// Close stops the server and the webhook sender.
func (s *Sim) Close() {}

// PrivateKeyPEM returns the app's private key, PEM encoded.
func (s *Sim) PrivateKeyPEM() []byte { return nil }

// PrivateKey returns the app's private key.
func (s *Sim) PrivateKey() *rsa.PrivateKey { return nil }

// SetWebhook sets where deliveries are POSTed and the secret they are signed with.
func (s *Sim) SetWebhook(url, secret string) {}

// AddUser adds a user of type User.
func (s *Sim) AddUser(login string) *github.User { return nil }

// AddBot adds a user of type Bot with a fixed id.
func (s *Sim) AddBot(login string, id int64) *github.User { return nil }

// AddOrg adds an organization.
func (s *Sim) AddOrg(login string) {}

// AddTeam adds a team to an organization with the given members.
func (s *Sim) AddTeam(org, slug string, members ...string) {}

// AddRepo creates a repository with default branch "main" and one initial commit of files.
func (s *Sim) AddRepo(fullName string, files map[string]string) {}

// SetPermission sets login's permission on a repository: admin|maintain|write|triage|read.
func (s *Sim) SetPermission(fullName, login, perm string) {}

// Install installs the app on an account for the given repositories (none = all) and returns the installation id.
func (s *Sim) Install(account string, repos ...string) int64 { return 0 }

// AddInstallationRepos adds repositories to an installation.
func (s *Sim) AddInstallationRepos(id int64, repos ...string) {}

// Push makes a commit on branch and returns its SHA.
func (s *Sim) Push(fullName, branch string, c CommitSpec) string { return "" }

// Head returns the SHA branch points at, or "" if the branch does not exist.
func (s *Sim) Head(fullName, branch string) string { return "" }

// OpenPR opens a pull request and returns its number.
func (s *Sim) OpenPR(fullName string, pr PRSpec) int { return 0 }

// EditPR changes a pull request's title and body.
func (s *Sim) EditPR(fullName string, number int, title, body string) {}

// ClosePR closes a pull request without merging.
func (s *Sim) ClosePR(fullName string, number int) {}

// SubmitReview submits a review (APPROVE|REQUEST_CHANGES|COMMENT) on the current head and returns its id.
func (s *Sim) SubmitReview(fullName string, number int, login, event, body string) int64 { return 0 }

// DismissReview dismisses a review.
func (s *Sim) DismissReview(fullName string, number int, reviewID int64, by string) {}

// Comment adds an issue comment to a pull request and returns its id.
func (s *Sim) Comment(fullName string, number int, login, body string) int64 { return 0 }

// EditComment changes an issue comment's body.
func (s *Sim) EditComment(fullName string, commentID int64, login, body string) {}

// RerequestCheckRun re-requests a check run as login.
func (s *Sim) RerequestCheckRun(fullName string, checkRunID int64, login string) {}

// RequestAction clicks a check run's requested action as login.
func (s *Sim) RequestAction(fullName string, checkRunID int64, login, identifier string) {}

// SetBranchProtection sets (or, with nil, removes) a branch's protection.
func (s *Sim) SetBranchProtection(fullName, branch string, p *github.Protection) {}

// CheckRuns returns the check runs on a commit, oldest first.
func (s *Sim) CheckRuns(fullName, sha string) []*github.CheckRun { return nil }

// LatestCheckRun returns the newest check run with that name on a commit, or nil.
func (s *Sim) LatestCheckRun(fullName, sha, name string) *github.CheckRun { return nil }

// CheckRunWrites returns every check-run create and update, in order.
func (s *Sim) CheckRunWrites() []CheckRunWrite { return nil }

// Calls returns every REST call served, in order.
func (s *Sim) Calls() []Call { return nil }

// ResetCalls forgets the recorded calls.
func (s *Sim) ResetCalls() {}

// Comments returns a pull request's issue comments, oldest first.
func (s *Sim) Comments(fullName string, number int) []*github.IssueComment { return nil }

// Reactions returns the reactions on an issue comment.
func (s *Sim) Reactions(fullName string, commentID int64) []*github.Reaction { return nil }

// RequestedReviewers returns the pending review requests of a pull request.
func (s *Sim) RequestedReviewers(fullName string, number int) (users, teams []string) {
	return nil, nil
}

// Deliveries returns every webhook delivery attempt, in order.
func (s *Sim) Deliveries() []Delivery { return nil }

// WaitDeliveries waits until every queued webhook has been POSTed (not processed).
func (s *Sim) WaitDeliveries(ctx context.Context) error { return nil }

// Inject adds a fault and returns a function that removes it.
func (s *Sim) Inject(f Fault) (remove func()) { return func() {} }

// DropDeliveries makes each delivery fail to be sent with the given probability.
func (s *Sim) DropDeliveries(probability float64) {}
