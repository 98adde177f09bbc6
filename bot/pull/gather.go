package pull

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/ghfacts"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
	"github.com/sourcegraph/conc/pool"
)

// GatherOptions tunes Gather.
type GatherOptions struct {
	// HeadSeenAt is when Countersign first saw the current head (its check
	// run's start). A `/countersign` comment made after it applies to the
	// head; one made before applies to an earlier head and is stale. Zero
	// makes every comment stale.
	HeadSeenAt time.Time
	// BaseChangedAt is when the pull request's base last changed to its
	// current base, zero when it never did; it becomes the facts'
	// PR.BaseChangedAt, and approvals made at or before it are stale.
	BaseChangedAt time.Time
}

// Gathered is the policy and facts of one pull request.
type Gathered struct {
	// PR is the pull request as read.
	PR *PR
	// Policy is the policy that applies; nil with a *PolicyError.
	Policy *config.Policy
	// Compiled is Policy compiled, which judges the facts; nil with a *PolicyError.
	Compiled *checks.Compiled
	// Facts are the engine's input; Facts.Incomplete says what is missing.
	Facts *checks.Facts
	// Retry is true when the facts are incomplete for a reason that may pass.
	Retry bool
}

// Gather reads everything the engine needs from c, fetching independent
// facts concurrently. A *PolicyError comes back with the PR and bare facts
// filled in; facts that cannot all be gathered set Facts.Incomplete; any
// other error (GitHub failing, rate limits) is returned as is.
func Gather(ctx context.Context, c Context, o GatherOptions) (*Gathered, error) {
	pr, err := c.PR(ctx)
	if err != nil {
		return nil, err
	}
	g := &Gathered{PR: pr, Facts: &checks.Facts{Repo: c.Repo(), PR: pr.PullRequest}}
	f := g.Facts
	f.PR.BaseChangedAt = o.BaseChangedAt

	var (
		policy                      *checks.Compiled
		files                       []checks.File
		commits                     []detect.Commit
		reviews                     []checks.Review
		polErr, fErr, cErr, rErr    error
		comments                    []Comment
		owners                      codeowners.Ruleset
		ownersBlob                  string
		commentErr, ownersErr, fail error
	)
	p := pool.New()
	p.Go(func() { policy, polErr = c.Compiled(ctx) })
	p.Go(func() { files, fErr = c.Files(ctx) })
	p.Go(func() { commits, cErr = c.Commits(ctx) })
	p.Go(func() { reviews, rErr = c.Reviews(ctx) })
	p.Wait()

	var pe *PolicyError
	if errors.As(polErr, &pe) {
		return g, pe
	}
	if polErr != nil {
		return g, polErr
	}
	g.Policy, g.Compiled = policy.Policy(), policy
	var incomplete []*IncompleteError
	for _, e := range []error{fErr, cErr} {
		var ie *IncompleteError
		switch {
		case e == nil:
		case errors.As(e, &ie):
			incomplete = append(incomplete, ie)
		default:
			fail = errors.Join(fail, e)
		}
	}
	if rErr != nil {
		fail = errors.Join(fail, rErr)
	}
	if fail != nil {
		return g, fail
	}
	if len(incomplete) > 0 {
		reasons := make([]string, 0, len(incomplete))
		for _, ie := range incomplete {
			if !slices.Contains(reasons, ie.Reason) {
				reasons = append(reasons, ie.Reason)
			}
			g.Retry = g.Retry || ie.Transient
		}
		f.Incomplete = strings.Join(reasons, "; ")
		return g, nil
	}
	f.Files, f.Commits = files, commits
	// Which agent changed each protected file: only the commits whose files
	// the facts cannot tell otherwise are read (none for a pull request of
	// one commit, or whose commits are all one agent's or no agent's).
	if need := policy.CommitFilesNeeded(f); len(need) > 0 {
		cf, err := c.CommitFiles(ctx, need)
		if err != nil {
			return g, err
		}
		f.CommitFiles = cf
	}

	var (
		addrs   map[string]string
		addrErr error
	)
	p = pool.New()
	// Addresses no fact ties to an account are worth asking GitHub about
	// only where a commit names them (a Co-authored-by trailer): GitHub's
	// REST commit object already said what it knows of authors and
	// committers. The common path, everyone matched, asks nothing.
	if shas := commitsNaming(commits, policy.Unresolved(f)); len(shas) > 0 {
		p.Go(func() { addrs, addrErr = c.Addresses(ctx, shas) })
	}
	if policy.NeedsComments() {
		p.Go(func() { comments, commentErr = c.Comments(ctx) })
	}
	if policy.UsesCodeOwners() {
		p.Go(func() { owners, ownersBlob, ownersErr = c.CodeOwners(ctx) })
	}
	if tp, ok := c.(teamPrefetcher); ok {
		p.Go(func() { tp.prefetchTeams(ctx, policy) })
	}
	p.Wait()
	if err := errors.Join(commentErr, ownersErr); err != nil {
		return g, err
	}
	f.CodeOwners, f.CodeOwnersBlob = owners, ownersBlob
	if addrErr == nil && len(addrs) > 0 {
		f.Addresses = addrs
	}

	f.Reviews, f.Overrides = merge(reviews, comments, pr.HeadSHA, o.HeadSeenAt)

	logins := reviewerLogins(f, policy)
	if len(logins) > 0 {
		var mu sync.Mutex
		f.Reviewers = make(map[string]checks.Reviewer, len(logins))
		ep := pool.New().WithErrors().WithMaxGoroutines(8)
		for _, login := range logins {
			ep.Go(func() error {
				rv, err := c.Reviewer(ctx, login)
				if err != nil {
					return err
				}
				mu.Lock()
				f.Reviewers[strings.ToLower(login)] = rv
				mu.Unlock()
				return nil
			})
		}
		if err := ep.Wait(); err != nil {
			return g, err
		}
	}
	return g, nil
}

// commitsNaming returns the commits, at most ghfacts.MaxAuthorCommits,
// whose message names one of the addresses (lower case).
func commitsNaming(commits []detect.Commit, addrs []string) []string {
	if len(addrs) == 0 {
		return nil
	}
	var out []string
	for _, c := range commits {
		msg := strings.ToLower(c.Message)
		if slices.ContainsFunc(addrs, func(a string) bool { return strings.Contains(msg, a) }) {
			out = append(out, c.SHA)
			if len(out) == ghfacts.MaxAuthorCommits {
				break
			}
		}
	}
	return out
}

// teamPrefetcher is a Context that can read the member lists of the teams a
// policy names ahead of need.
type teamPrefetcher interface {
	prefetchTeams(ctx context.Context, p *checks.Compiled)
}

// merge turns `/countersign approve` and `/countersign override` comments into
// approvals and overrides, and interleaves the approvals with the reviews by
// time. A comment applies to the head only when it was made after the head
// was first seen.
func merge(reviews []checks.Review, comments []Comment, head string, headSeen time.Time) ([]checks.Review, []checks.Override) {
	out := slices.Clone(reviews)
	var overrides []checks.Override
	for _, c := range comments {
		sha := ""
		if !headSeen.IsZero() && c.CreatedAt.After(headSeen) {
			sha = head
		}
		for _, cmd := range checks.ParseCommands(c.Body) {
			switch cmd.Verb {
			case checks.VerbApprove:
				if cmd.Err != nil {
					continue
				}
				out = append(out, checks.Review{ID: c.ID, Login: c.Login, UserType: c.UserType, State: checks.ReviewApproved,
					CommitSHA: sha, SubmittedAt: c.CreatedAt, Source: checks.SourceComment, EditedAt: c.EditedAt})
			case checks.VerbOverride:
				// An override without a reason is kept so the verdict can say why it did not count.
				if cmd.Err != nil && !errors.Is(cmd.Err, checks.ErrNeedsReason) {
					continue
				}
				overrides = append(overrides, checks.Override{ID: c.ID, Login: c.Login, UserType: c.UserType,
					Reason: cmd.Args, CommitSHA: sha, At: c.CreatedAt, EditedAt: c.EditedAt})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b checks.Review) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	return out, overrides
}

// reviewerLogins lists whose standing the engine will look up: the latest
// reviewer of each login whose review counts or blocks, comment approvers,
// and overriders (who need write permission, and team membership when teams
// may override). Bots, and the reviewers the engine holds not independent
// (checks.Involved: the PR's author, operators, authors and committers of
// its commits), are excluded by the engine before it looks, so they are not
// asked about. Leaving someone out can only make their approval not count,
// never count wrongly.
func reviewerLogins(f *checks.Facts, p *checks.Compiled) []string {
	var involved checks.Involved
	if len(f.Reviews) > 0 {
		involved = p.Involved(f) // the engine's one answer, before it looks anyone up
	}
	latest := map[string]checks.Review{}
	var order []string
	for _, r := range f.Reviews {
		if !r.EditedAt.IsZero() {
			continue // void whoever wrote it: the engine looks nobody up for it
		}
		st := strings.ToUpper(r.State)
		if r.Source != checks.SourceComment && st != checks.ReviewApproved && st != checks.ReviewChangesRequested && st != checks.ReviewDismissed {
			continue
		}
		k := strings.ToLower(r.Login)
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k] = r
	}
	var out []string
	seen := map[string]bool{}
	add := func(login, userType string, skipInvolved bool) {
		k := strings.ToLower(login)
		if k == "" || seen[k] || checks.IsBot(login, userType) || (skipInvolved && involved.Has(login)) {
			return
		}
		seen[k] = true
		out = append(out, login)
	}
	for _, k := range order {
		r := latest[k]
		if strings.ToUpper(r.State) == checks.ReviewDismissed && r.Source != checks.SourceComment {
			continue
		}
		add(r.Login, r.UserType, true)
	}
	// An overrider needs write permission, listed by login or by team; the
	// engine checks it before independence, so an involved overrider is
	// looked up too and told the real reason.
	for _, o := range f.Overrides {
		if !o.EditedAt.IsZero() {
			continue
		}
		add(o.Login, o.UserType, false)
	}
	return out
}
