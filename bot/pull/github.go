package pull

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/ghfacts"
	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
	"github.com/hmarr/codeowners"
	"github.com/sourcegraph/conc/pool"
)

const perPage = 100

// FetchGitFacts reads the commits and files between two revisions of a remote
// repository with git, authenticating with token; gitfacts.FetchFacts has
// this shape.
type FetchGitFacts func(ctx context.Context, remoteURL, token, baseSHA, headSHA string) (*checks.Facts, error)

// GitHubOptions configures a GitHub Context.
type GitHubOptions struct {
	// Client is the installation's client.
	Client *github.Client
	// Owner, Repo and Number name the pull request.
	Owner, Repo string
	Number      int
	// Cache is shared across evaluations; nil caches nothing.
	Cache *Cache
	// Token returns an installation token for git, when FetchGitFacts is set.
	Token func(ctx context.Context) (string, error)
	// FetchGitFacts reads pull requests beyond GitHub's listing limits; nil
	// makes such pull requests incomplete (failing).
	FetchGitFacts FetchGitFacts
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// Edits, when set, knows of comment edits GitHub's timestamps do not
	// show (an edit within the second the comment was written); nil means
	// only updated_at tells.
	Edits EditMarks
	// Snapshot is the pull request as the triggering delivery carried it;
	// when set, PR answers from it instead of reading the pull request.
	// Set it only when nothing newer is known (server.Job.Snapshot).
	Snapshot *github.PullRequest
}

// GitHub is a Context read from GitHub's REST API. Use one per evaluation.
type GitHub struct {
	o   GitHubOptions
	log *slog.Logger

	pr       memo[*PR]
	full     memo[*PR]
	cmp      memo[*comparison]
	files    memo[[]checks.File]
	commits  memo[[]detect.Commit]
	git      memo[*checks.Facts]
	reviews  memo[[]checks.Review]
	comments memo[[]Comment]
	policy   memo[*config.Policy]
	compiled memo[*checks.Compiled]
	tip      memo[string]
	owners   memo[ownersEntry]
	teamSet  memo[[]string]
	addrs    memo[map[string]string]

	mu        sync.Mutex
	reviewers map[string]*memo[checks.Reviewer]
	teams     map[string]*memo[map[string]bool]
}

var _ Context = (*GitHub)(nil)

// NewGitHub returns a Context for one evaluation of a pull request.
func NewGitHub(o GitHubOptions) *GitHub {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &GitHub{o: o, log: log, reviewers: map[string]*memo[checks.Reviewer]{}, teams: map[string]*memo[map[string]bool]{}}
}

// Repo returns "owner/name".
func (g *GitHub) Repo() string { return g.o.Owner + "/" + g.o.Repo }

// Number returns the pull request number.
func (g *GitHub) Number() int { return g.o.Number }

func (g *GitHub) key(kind string, parts ...string) string {
	return kind + "\x00" + g.Repo() + "\x00" + strings.Join(parts, "\x00")
}

// PR returns the pull request: the snapshot the delivery carried when there
// is one, else it is read from GitHub.
func (g *GitHub) PR(ctx context.Context) (*PR, error) {
	return g.pr.get(func() (*PR, error) {
		if g.o.Snapshot != nil {
			return prFacts(g.o.Snapshot, g.o.Owner, g.o.Repo, g.Repo(), g.o.Number)
		}
		return g.readPR(ctx)
	})
}

// readPR reads the pull request from GitHub, once per evaluation.
func (g *GitHub) readPR(ctx context.Context) (*PR, error) {
	return g.full.get(func() (*PR, error) {
		pr, _, err := g.o.Client.PullRequests.Get(ctx, g.o.Owner, g.o.Repo, g.o.Number)
		if err != nil {
			return nil, err
		}
		return prFacts(pr, g.o.Owner, g.o.Repo, g.Repo(), g.o.Number)
	})
}

// prFacts turns GitHub's pull request (from the API or a webhook) into a PR.
func prFacts(pr *github.PullRequest, owner, repo, full string, number int) (*PR, error) {
	if pr.GetHead().GetSHA() == "" || pr.GetBase().GetSHA() == "" {
		return nil, fmt.Errorf("pull request %s#%d has no head or base commit", full, number)
	}
	return &PR{
		PullRequest: checks.PullRequest{
			PullRequest: ghfacts.PullRequest(pr),
			HeadSHA:     pr.GetHead().GetSHA(),
			BaseRef:     pr.GetBase().GetRef(),
			BaseSHA:     pr.GetBase().GetSHA(),
			Draft:       pr.GetDraft(),
			URL:         pr.GetHTMLURL(),
		},
		Owner:        owner,
		Repo:         repo,
		State:        pr.GetState(),
		Merged:       pr.GetMerged(),
		ChangedFiles: pr.GetChangedFiles(),
		Commits:      pr.GetCommits(),
		CountsKnown:  pr.ChangedFiles != nil && pr.Commits != nil,
		UpdatedAt:    pr.GetUpdatedAt().Time,
		CloneURL:     pr.GetBase().GetRepo().GetCloneURL(),
	}, nil
}

// counted returns the pull request with GitHub's file and commit counts:
// a snapshot from a review delivery has none, so then it is read, and it
// must still be at the snapshot's base and head.
func (g *GitHub) counted(ctx context.Context) (*PR, error) {
	pr, err := g.PR(ctx)
	if err != nil || pr.CountsKnown {
		return pr, err
	}
	full, err := g.readPR(ctx)
	if err != nil {
		return nil, err
	}
	if full.HeadSHA != pr.HeadSHA || full.BaseSHA != pr.BaseSHA {
		return nil, fmt.Errorf("the pull request moved from %s to %s: %w", short(pr.HeadSHA), short(full.HeadSHA), ErrChanged)
	}
	return full, nil
}

// Compare limits: the compare API lists at most MaxCompareFiles files, and
// Countersign reads its commits in one page of at most MaxCompareCommits.
const (
	MaxCompareFiles   = 300
	MaxCompareCommits = perPage
)

// comparison is the commits and files of base...head read in one call, or
// whole=false when the compare API could not list them all.
type comparison struct {
	commits []detect.Commit
	files   []checks.File
	whole   bool
}

// compare reads the commits and files between the base and head commits in
// one call (GET /repos/{o}/{r}/compare/{base}...{head}, pinned to SHAs). It
// is whole only when it lists fewer files than its cap, every commit on one
// page, the head among them, and it agrees with the pull request's counts
// when those are known; otherwise the listings (or git) are used.
func (g *GitHub) compare(ctx context.Context, pr *PR) (*comparison, error) {
	return g.cmp.get(func() (*comparison, error) {
		if pr.CountsKnown && (pr.ChangedFiles >= MaxCompareFiles || pr.Commits > MaxCompareCommits) {
			return &comparison{}, nil
		}
		c, _, err := g.o.Client.Repositories.CompareCommits(ctx, g.o.Owner, g.o.Repo, pr.BaseSHA, pr.HeadSHA, &github.ListOptions{PerPage: MaxCompareCommits})
		if err != nil {
			var er *github.ErrorResponse
			if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode < 500 && er.Response.StatusCode != http.StatusForbidden && er.Response.StatusCode != http.StatusTooManyRequests {
				// Compare refused (e.g. a diff too large to compute): use the listings.
				g.log.Debug("compare refused; using the listings", "repo", g.Repo(), "pr", g.o.Number, "err", ghapp.Reason(err))
				return &comparison{}, nil
			}
			return nil, err
		}
		total := c.GetTotalCommits()
		if len(c.Files) >= MaxCompareFiles || total > MaxCompareCommits || len(c.Commits) != total {
			return &comparison{}, nil
		}
		if pr.CountsKnown && (len(c.Files) != pr.ChangedFiles || total != pr.Commits) {
			return &comparison{}, nil
		}
		out := &comparison{commits: make([]detect.Commit, 0, total), files: make([]checks.File, 0, len(c.Files))}
		sawHead := false
		for _, rc := range c.Commits {
			out.commits = append(out.commits, ghfacts.Commit(rc))
			sawHead = sawHead || rc.GetSHA() == pr.HeadSHA
		}
		if total > 0 && !sawHead {
			return &comparison{}, nil
		}
		for _, f := range c.Files {
			out.files = append(out.files, fileFacts(f))
		}
		out.whole = true
		g.o.Cache.Put(g.key("commits", pr.BaseSHA, pr.HeadSHA), out.commits)
		g.o.Cache.Put(g.key("files", pr.BaseSHA, pr.HeadSHA), out.files)
		return out, nil
	})
}

func fileFacts(f *github.CommitFile) checks.File {
	return checks.File{
		Path:         f.GetFilename(),
		PreviousPath: f.GetPreviousFilename(),
		Status:       f.GetStatus(),
		Additions:    f.GetAdditions(),
		Deletions:    f.GetDeletions(),
	}
}

// listed reads one kind of fact of the pull request (its files or its
// commits): from the cross-evaluation cache, else the one compare call when
// it is whole, else with git beyond GitHub's listing limits, else every page
// of the listing through list, which also checks that the listing is
// complete. A partial listing is never returned as whole.
func listed[T any](ctx context.Context, g *GitHub, kind string,
	fromCompare func(*comparison) []T, fromGit func(*checks.Facts) []T,
	list func(ctx context.Context, pr *PR) ([]T, error)) ([]T, error) {
	pr, err := g.PR(ctx)
	if err != nil {
		return nil, err
	}
	key := g.key(kind, pr.BaseSHA, pr.HeadSHA)
	if v, ok := g.o.Cache.Get(key); ok {
		return v.([]T), nil
	}
	c, err := g.compare(ctx, pr)
	if err != nil {
		return nil, err
	}
	if c.whole {
		return fromCompare(c), nil
	}
	if pr, err = g.counted(ctx); err != nil {
		return nil, err
	}
	if pr.ChangedFiles > MaxListedFiles || pr.Commits > MaxListedCommits {
		f, err := g.gitFacts(ctx, pr)
		if err != nil {
			return nil, err
		}
		return fromGit(f), nil
	}
	out, err := list(ctx, pr)
	if err != nil {
		return nil, err
	}
	if err := g.stillAt(ctx, pr, kind); err != nil {
		return nil, err
	}
	g.o.Cache.Put(key, out)
	return out, nil
}

// stillAt re-reads the pull request after its listings (a conditional
// request, uncharged while it stays put) and fails with ErrChanged when its
// head or base is no longer the evaluated one. The listing endpoints read the
// pull request's live head, not a pinned commit: a push between reading the
// pull request and the last page would put another head's files or commits
// in this evaluation and in the cache under this base/head pair.
func (g *GitHub) stillAt(ctx context.Context, pr *PR, kind string) error {
	live, _, err := g.o.Client.PullRequests.Get(ctx, g.o.Owner, g.o.Repo, g.o.Number)
	if err != nil {
		return fmt.Errorf("re-reading pull request %s#%d after listing its %s: %w", g.Repo(), g.o.Number, kind, err)
	}
	if head, base := live.GetHead().GetSHA(), live.GetBase().GetSHA(); head != pr.HeadSHA || base != pr.BaseSHA {
		return fmt.Errorf("the pull request moved from %s to %s while its %s were listed: %w", short(pr.HeadSHA), short(head), kind, ErrChanged)
	}
	return nil
}

// Files lists the changed files: from the cache, else one compare call when
// the pull request is small enough, else every page of the listing at once;
// beyond GitHub's listing limit it reads them with git.
func (g *GitHub) Files(ctx context.Context) ([]checks.File, error) {
	return g.files.get(func() ([]checks.File, error) {
		return listed(ctx, g, "files",
			func(c *comparison) []checks.File { return c.files },
			func(f *checks.Facts) []checks.File { return f.Files },
			func(ctx context.Context, pr *PR) ([]checks.File, error) {
				pages, err := listPages(ctx, pr.ChangedFiles, func(ctx context.Context, page int) ([]*github.CommitFile, *github.Response, error) {
					return g.o.Client.PullRequests.ListFiles(ctx, g.o.Owner, g.o.Repo, g.o.Number, &github.ListOptions{Page: page, PerPage: perPage})
				})
				if err != nil {
					return nil, err
				}
				files := make([]checks.File, 0, len(pages))
				for _, f := range pages {
					files = append(files, fileFacts(f))
				}
				if len(files) != pr.ChangedFiles {
					return nil, fmt.Errorf("GitHub listed %d of the %d changed files: %w", len(files), pr.ChangedFiles, ErrChanged)
				}
				return files, nil
			})
	})
}

// Commits lists the commits: from the cache, else one compare call when the
// pull request is small enough, else every page of the listing at once;
// beyond GitHub's listing limit it reads them with git.
func (g *GitHub) Commits(ctx context.Context) ([]detect.Commit, error) {
	return g.commits.get(func() ([]detect.Commit, error) {
		return listed(ctx, g, "commits",
			func(c *comparison) []detect.Commit { return c.commits },
			func(f *checks.Facts) []detect.Commit { return f.Commits },
			func(ctx context.Context, pr *PR) ([]detect.Commit, error) {
				pages, err := listPages(ctx, pr.Commits, func(ctx context.Context, page int) ([]*github.RepositoryCommit, *github.Response, error) {
					return g.o.Client.PullRequests.ListCommits(ctx, g.o.Owner, g.o.Repo, g.o.Number, &github.ListOptions{Page: page, PerPage: perPage})
				})
				if err != nil {
					return nil, err
				}
				commits := make([]detect.Commit, 0, len(pages))
				sawHead := false
				for _, rc := range pages {
					commits = append(commits, ghfacts.Commit(rc))
					sawHead = sawHead || rc.GetSHA() == pr.HeadSHA
				}
				if len(commits) != pr.Commits || !sawHead {
					return nil, fmt.Errorf("GitHub listed %d of the %d commits up to %s: %w", len(commits), pr.Commits, short(pr.HeadSHA), ErrChanged)
				}
				return commits, nil
			})
	})
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// listPages fetches a listing whose length is known, all pages concurrently,
// then follows any further page GitHub announces (the count may be stale).
func listPages[T any](ctx context.Context, count int, fetch func(ctx context.Context, page int) ([]T, *github.Response, error)) ([]T, error) {
	if count <= 0 {
		return nil, nil
	}
	n := (count + perPage - 1) / perPage
	results := make([][]T, n)
	next := make([]int, n)
	p := pool.New().WithErrors().WithContext(ctx).WithCancelOnError().WithFirstError().WithMaxGoroutines(8)
	for i := range n {
		p.Go(func(ctx context.Context) error {
			items, resp, err := fetch(ctx, i+1)
			if err != nil {
				return err
			}
			results[i], next[i] = items, resp.NextPage
			return nil
		})
	}
	if err := p.Wait(); err != nil {
		return nil, err
	}
	var out []T
	for _, r := range results {
		out = append(out, r...)
	}
	for page := next[n-1]; page != 0 && page <= MaxListedFiles/perPage+1; {
		items, resp, err := fetch(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		page = resp.NextPage
	}
	return out, nil
}

// gitFacts reads the commits and files of a pull request beyond the listing limits with git.
func (g *GitHub) gitFacts(ctx context.Context, pr *PR) (*checks.Facts, error) {
	return g.git.get(func() (*checks.Facts, error) {
		what := fmt.Sprintf("the pull request has %d changed files and %d commits, more than GitHub's API lists (%d files, %d commits)",
			pr.ChangedFiles, pr.Commits, MaxListedFiles, MaxListedCommits)
		key := g.key("git", pr.BaseSHA, pr.HeadSHA)
		if v, ok := g.o.Cache.Get(key); ok {
			return v.(*checks.Facts), nil
		}
		if g.o.FetchGitFacts == nil || g.o.Token == nil {
			return nil, incompletef(false, "%s, and reading it with git is not configured", what)
		}
		if pr.CloneURL == "" {
			return nil, incompletef(false, "%s, and GitHub gave no clone URL to read it with git", what)
		}
		tok, err := g.o.Token(ctx)
		if err != nil {
			return nil, incompletef(true, "%s, and no token could be had to read it with git: %s", what, ghapp.Reason(err))
		}
		f, err := g.o.FetchGitFacts(ctx, pr.CloneURL, tok, pr.BaseSHA, pr.HeadSHA)
		if err == nil && f != nil && f.Incomplete != "" {
			err = errors.New(f.Incomplete)
		}
		if err != nil || f == nil {
			msg := "no facts"
			if err != nil {
				msg = ghapp.Scrub(strings.ReplaceAll(err.Error(), tok, "[redacted]"))
			}
			return nil, incompletef(true, "%s, and reading it with git failed: %s", what, msg)
		}
		g.o.Cache.Put(key, f)
		return f, nil
	})
}

// Reviews lists the reviews.
func (g *GitHub) Reviews(ctx context.Context) ([]checks.Review, error) {
	return g.reviews.get(func() ([]checks.Review, error) {
		var out []checks.Review
		opt := &github.ListOptions{PerPage: perPage}
		for {
			rs, resp, err := g.o.Client.PullRequests.ListReviews(ctx, g.o.Owner, g.o.Repo, g.o.Number, opt)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				out = append(out, checks.Review{
					ID:          r.GetID(),
					Login:       r.GetUser().GetLogin(),
					UserType:    r.GetUser().GetType(),
					State:       strings.ToUpper(r.GetState()),
					CommitSHA:   r.GetCommitID(),
					SubmittedAt: r.GetSubmittedAt().Time,
					Source:      checks.SourceReview,
				})
			}
			if resp.NextPage == 0 {
				return out, nil
			}
			opt.Page = resp.NextPage
		}
	})
}

// Comments lists the issue comments, each with when it was edited (from
// updated_at, or the Edits record of an edit GitHub's timestamps miss).
func (g *GitHub) Comments(ctx context.Context) ([]Comment, error) {
	return g.comments.get(func() ([]Comment, error) {
		var out []Comment
		opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
		for {
			cs, resp, err := g.o.Client.Issues.ListComments(ctx, g.o.Owner, g.o.Repo, g.o.Number, opt)
			if err != nil {
				return nil, err
			}
			for _, c := range cs {
				cm := Comment{ID: c.GetID(), Login: c.GetUser().GetLogin(), UserType: c.GetUser().GetType(), Body: c.GetBody(), CreatedAt: c.GetCreatedAt().Time}
				if c.UpdatedAt != nil && c.CreatedAt != nil && c.GetUpdatedAt().After(cm.CreatedAt) {
					cm.EditedAt = c.GetUpdatedAt().Time
				} else if g.o.Edits != nil {
					at, ok, err := g.o.Edits.EditedAt(ctx, g.Repo(), cm.ID)
					if err != nil {
						return nil, fmt.Errorf("reading whether comment %d was edited: %w", cm.ID, err)
					}
					if ok {
						cm.EditedAt = at
					}
				}
				out = append(out, cm)
			}
			if resp.NextPage == 0 {
				return out, nil
			}
			opt.Page = resp.NextPage
		}
	})
}

// BaseTip returns the commit the policy and CODEOWNERS are read at: the base
// branch's current tip, resolved with a conditional request
// (GET /repos/{o}/{r}/commits/heads/{base}, 304 and uncharged while the
// branch stays put), because a pull request's base.sha is only updated when
// it is opened or its head is pushed, and even an opened or synchronize
// delivery's base.sha is stale when the delivery arrives after a push to the
// base branch (a delayed or redelivered webhook): trusting it would read an
// older, possibly looser policy. Never the head.
func (g *GitHub) BaseTip(ctx context.Context) (string, error) {
	return g.tip.get(func() (string, error) {
		pr, err := g.PR(ctx)
		if err != nil {
			return "", err
		}
		if pr.BaseRef == "" {
			return "", fmt.Errorf("pull request %s#%d names no base branch to read the policy from", g.Repo(), g.o.Number)
		}
		segs := strings.Split(pr.BaseRef, "/")
		for i, sg := range segs {
			segs[i] = url.PathEscape(sg)
		}
		rc, _, err := g.o.Client.Repositories.GetCommit(ctx, g.o.Owner, g.o.Repo, "heads/"+strings.Join(segs, "/"), &github.ListOptions{PerPage: 1})
		if err != nil {
			return "", fmt.Errorf("resolving the tip of the base branch %s: %w", pr.BaseRef, err)
		}
		if rc.GetSHA() == "" {
			return "", fmt.Errorf("resolving the tip of the base branch %s: GitHub gave no commit", pr.BaseRef)
		}
		return rc.GetSHA(), nil
	})
}

// Policy finds the policy that applies (policyfile.Find): the policy file at
// the base branch's tip (BaseTip), else the owner's .github repository's on
// its default branch, else the built-in default. A
// .github/countersign.yaml where the .yml is missing is an error.
func (g *GitHub) Policy(ctx context.Context) (*config.Policy, error) {
	return g.policy.get(func() (*config.Policy, error) {
		pr, err := g.PR(ctx)
		if err != nil {
			return nil, err
		}
		sha, err := g.BaseTip(ctx)
		if err != nil {
			return nil, err
		}
		f, err := policyfile.Find(ctx, policyfile.Lookup{
			Repo:   pinnedFiles{g: g, sha: sha},
			Source: config.Source{Repo: g.Repo(), Ref: pr.BaseRef, SHA: sha},
			Org:    &orgFiles{g: g},
			Parse:  g.parsePolicy,
		})
		if err != nil {
			return nil, err
		}
		return f.Policy, nil
	})
}

// pinnedFiles reads the repository's files at a commit: what a commit pins
// cannot change, so found or not, each answer is cached across evaluations.
type pinnedFiles struct {
	g   *GitHub
	sha string
}

type fileEntry struct {
	f     policyfile.File
	found bool
}

// ReadFile reads path at the commit, once across evaluations.
func (r pinnedFiles) ReadFile(ctx context.Context, path string) (policyfile.File, bool, error) {
	key := r.g.key("file", r.sha, path)
	if v, ok := r.g.o.Cache.Get(key); ok {
		e := v.(fileEntry)
		return e.f, e.found, nil
	}
	data, found, blob, err := r.g.file(ctx, r.g.o.Repo, path, r.sha)
	if err != nil {
		return policyfile.File{}, false, err
	}
	e := fileEntry{policyfile.File{Data: data, Blob: blob}, found}
	r.g.o.Cache.Put(key, e)
	return e.f, e.found, nil
}

// orgFiles reads the owner's .github repository on its default branch: not
// pinned by a commit, so a file found is re-read (conditionally) every
// evaluation. Once the repository has been seen, a file's absence is cached
// until the repository is pushed to.
type orgFiles struct {
	g  *GitHub
	rp *github.Repository
}

// ReadFile reads path on the default branch.
func (o *orgFiles) ReadFile(ctx context.Context, path string) (policyfile.File, bool, error) {
	var akey string
	if o.rp != nil && o.rp.PushedAt != nil {
		akey = o.g.key("orgabsent", o.rp.GetPushedAt().String(), o.rp.GetDefaultBranch(), path)
		if _, ok := o.g.o.Cache.Get(akey); ok {
			return policyfile.File{}, false, nil
		}
	}
	data, found, blob, err := o.g.file(ctx, config.OrgRepo, path, "")
	if err != nil {
		return policyfile.File{}, false, err
	}
	if !found && akey != "" {
		o.g.o.Cache.Put(akey, nil)
	}
	return policyfile.File{Data: data, Blob: blob}, found, nil
}

// Visible reads the repository (a conditional request); a 404 means the app
// cannot see it.
func (o *orgFiles) Visible(ctx context.Context) (bool, error) {
	rp, _, err := o.g.o.Client.Repositories.Get(ctx, o.g.o.Owner, config.OrgRepo)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return false, nil
		}
		return false, err
	}
	o.rp = rp
	return true, nil
}

type parsedEntry struct {
	p   *config.Policy
	err error
}

// parsePolicy parses a policy file once per blob and source across
// evaluations, errors included, so that the same file is one *config.Policy
// (and is compiled once).
func (g *GitHub) parsePolicy(label string, f policyfile.File, src config.Source) (*config.Policy, error) {
	key := g.key("policy", src.Repo, src.Path, src.SHA, f.Blob)
	if v, ok := g.o.Cache.Get(key); ok {
		e := v.(parsedEntry)
		return e.p, e.err
	}
	p, err := config.Parse(label, f.Data)
	if err == nil {
		p.Source = src
	}
	g.o.Cache.Put(key, parsedEntry{p, err})
	return p, err
}

// file reads a file of a repository of the owner at ref ("" for the default
// branch); found is false when there is no such file (or repository).
func (g *GitHub) file(ctx context.Context, repo, path, ref string) (data []byte, found bool, blob string, err error) {
	fc, dc, _, err := g.o.Client.Repositories.GetContents(ctx, g.o.Owner, repo, path, &github.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return nil, false, "", nil
		}
		return nil, false, "", err
	}
	if fc == nil || dc != nil {
		return nil, false, "", &policyfile.Error{Source: config.Source{Repo: g.o.Owner + "/" + repo, Path: path, SHA: ref}, Err: fmt.Errorf("%s: is a directory, not a file", path)}
	}
	if fc.GetEncoding() == "none" || (fc.Content == nil && fc.GetSize() > 0) {
		return nil, false, "", &policyfile.Error{Source: config.Source{Repo: g.o.Owner + "/" + repo, Path: path, SHA: ref}, Err: fmt.Errorf("%s: is %d bytes, too large to read", path, fc.GetSize())}
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, false, "", fmt.Errorf("%s: %w", path, err)
	}
	return []byte(s), true, fc.GetSHA(), nil
}

type ownersEntry struct {
	rs   codeowners.Ruleset
	blob string
}

// CodeOwners reads CODEOWNERS at the base branch's tip (BaseTip) from the
// first of GitHub's locations that has one, and returns its blob id
// (checks.NoCodeOwners when there is none).
func (g *GitHub) CodeOwners(ctx context.Context) (codeowners.Ruleset, string, error) {
	e, err := g.owners.get(func() (ownersEntry, error) {
		pr, err := g.PR(ctx)
		if err != nil {
			return ownersEntry{}, err
		}
		sha, err := g.BaseTip(ctx)
		if err != nil {
			return ownersEntry{}, err
		}
		key := g.key("codeowners", sha)
		if v, ok := g.o.Cache.Get(key); ok {
			return v.(ownersEntry), nil
		}
		type got struct {
			data  []byte
			found bool
			blob  string
		}
		res := make([]got, len(checks.CodeOwnersPaths))
		p := pool.New().WithErrors().WithContext(ctx)
		for i, path := range checks.CodeOwnersPaths {
			p.Go(func(ctx context.Context) error {
				data, found, blob, err := g.file(ctx, g.o.Repo, path, sha)
				res[i] = got{data, found, blob}
				return err
			})
		}
		if err := p.Wait(); err != nil {
			return ownersEntry{}, err
		}
		e := ownersEntry{blob: checks.NoCodeOwners}
		for i, r := range res {
			if !r.found {
				continue
			}
			e.rs, err = codeowners.ParseFile(bytes.NewReader(r.data))
			if err != nil {
				path := checks.CodeOwnersPaths[i]
				return ownersEntry{}, &PolicyError{Source: config.Source{Repo: g.Repo(), Path: path, Ref: pr.BaseRef, SHA: sha, Blob: r.blob}, Err: fmt.Errorf("%s: %w", path, err)}
			}
			e.blob = r.blob
			break
		}
		g.o.Cache.Put(key, e)
		return e, nil
	})
	return e.rs, e.blob, err
}

// Reviewer reads a login's permission and which of the relevant teams they are in.
func (g *GitHub) Reviewer(ctx context.Context, login string) (checks.Reviewer, error) {
	k := strings.ToLower(login)
	g.mu.Lock()
	m, ok := g.reviewers[k]
	if !ok {
		m = &memo[checks.Reviewer]{}
		g.reviewers[k] = m
	}
	g.mu.Unlock()
	return m.get(func() (checks.Reviewer, error) {
		rv := checks.Reviewer{Login: login}
		var teams []string
		var permErr, teamErr error
		p := pool.New()
		p.Go(func() {
			a, err := ghfacts.Permission(ctx, g.o.Client, g.o.Owner, g.o.Repo, login)
			if err != nil {
				permErr = err
				return
			}
			rv.Permission, rv.Type = a.Permission, a.UserType
		})
		p.Go(func() {
			set, err := g.relevantTeams(ctx)
			if err != nil {
				teamErr = err
				return
			}
			for _, t := range set {
				members, err := g.teamMembers(ctx, t)
				if err != nil {
					teamErr = err
					return
				}
				if members[k] {
					teams = append(teams, t)
				}
			}
		})
		p.Wait()
		if err := errors.Join(permErr, teamErr); err != nil {
			return checks.Reviewer{}, err
		}
		rv.Teams = teams
		return rv, nil
	})
}

// addressTimeout bounds the GraphQL question: an address GitHub does not
// answer for in time stays unmatched (fail closed), and the evaluation goes on.
const addressTimeout = 10 * time.Second

// Addresses asks GitHub's GraphQL API, in one query, which accounts the
// authors and co-authors of the given commits are (ghfacts.CommitAuthors).
// A failure is logged and returned; Gather then leaves the addresses
// unmatched, which costs approvals and never passes anything.
func (g *GitHub) Addresses(ctx context.Context, shas []string) (map[string]string, error) {
	return g.addrs.get(func() (map[string]string, error) {
		ctx, cancel := context.WithTimeout(ctx, addressTimeout)
		defer cancel()
		m, err := ghfacts.CommitAuthors(ctx, g.o.Client, g.o.Owner, g.o.Repo, shas)
		if err != nil {
			g.log.Warn("could not match co-author addresses to accounts; they stay unmatched", "repo", g.Repo(), "pr", g.o.Number, "err", err)
		}
		return m, err
	})
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

// relevantTeams are the teams the policy names plus, when it uses code
// owners, the teams owning the changed files.
func (g *GitHub) relevantTeams(ctx context.Context) ([]string, error) {
	return g.teamSet.get(func() ([]string, error) {
		p, err := g.Compiled(ctx)
		if err != nil {
			return nil, err
		}
		if !p.UsesCodeOwners() {
			return p.NamedTeams(), nil
		}
		rs, _, err := g.CodeOwners(ctx)
		if err != nil {
			return nil, err
		}
		files, err := g.Files(ctx)
		if err != nil {
			return nil, err
		}
		return p.Teams(rs, files), nil
	})
}

// prefetchTeams reads the member lists of the teams the policy names, so
// that the first review does not pay for them: a member list is then
// revalidated with a conditional request (a 304 GitHub does not charge)
// rather than read. Errors are memoised and surface if a reviewer needs the
// team; otherwise they do not matter.
func (g *GitHub) prefetchTeams(ctx context.Context, p *checks.Compiled) {
	teams := p.NamedTeams()
	if len(teams) == 0 {
		return
	}
	wp := pool.New().WithMaxGoroutines(4)
	for _, t := range teams {
		wp.Go(func() { _, _ = g.teamMembers(ctx, t) })
	}
	wp.Wait()
}

// teamMembers lists a team's members (lower-case logins) once per evaluation.
// A team that does not exist or cannot be read has no members that count.
func (g *GitHub) teamMembers(ctx context.Context, team string) (map[string]bool, error) {
	g.mu.Lock()
	m, ok := g.teams[team]
	if !ok {
		m = &memo[map[string]bool]{}
		g.teams[team] = m
	}
	g.mu.Unlock()
	return m.get(func() (map[string]bool, error) {
		org, slug, _ := strings.Cut(team, "/")
		out := map[string]bool{}
		opt := &github.TeamListTeamMembersOptions{ListOptions: github.ListOptions{PerPage: perPage}}
		for {
			us, resp, err := g.o.Client.Teams.ListTeamMembersBySlug(ctx, org, slug, opt)
			if err != nil {
				if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusForbidden) {
					g.log.Warn("team cannot be read; its members do not count", "team", team, "repo", g.Repo(), "err", ghapp.Reason(err))
					return out, nil
				}
				return nil, err
			}
			for _, u := range us {
				out[strings.ToLower(u.GetLogin())] = true
			}
			if resp.NextPage == 0 {
				return out, nil
			}
			opt.Page = resp.NextPage
		}
	})
}

// BaseFiles is what the tip of a base branch holds of the files a verdict
// reads there, as a check run's marker records them (checks.RunMarker).
type BaseFiles struct {
	// PolicyBlob is the blob id of the policy file that applies: the
	// repository's, else the owner's .github repository's; "" for the
	// built-in default and for a policy file that cannot be used.
	PolicyBlob string
	// CodeOwners is the blob id of the first CODEOWNERS file GitHub reads,
	// checks.NoCodeOwners when there is none; "" when not asked for.
	CodeOwners string
}

// ReadBaseFiles reads which policy file (and, with owners, which CODEOWNERS
// file) applies at the tip of a repository's branch, the way an evaluation
// finds them (policyfile.Find), without reading what a commit pins from the
// cache: the branch moves. Each read is a conditional request, which GitHub
// answers with a 304 it does not charge while the file is unchanged.
func ReadBaseFiles(ctx context.Context, client *github.Client, owner, repo, branch string, owners bool) (BaseFiles, error) {
	g := NewGitHub(GitHubOptions{Client: client, Owner: owner, Repo: repo, Cache: NewCache(16)})
	var out BaseFiles
	f, err := policyfile.Find(ctx, policyfile.Lookup{
		Repo:   tipFiles{g: g, ref: branch},
		Source: config.Source{Repo: g.Repo(), Ref: branch},
		Org:    &orgFiles{g: g},
		Parse: func(string, policyfile.File, config.Source) (*config.Policy, error) {
			return &config.Policy{}, nil // only which file applies matters
		},
	})
	var pe *policyfile.Error
	switch {
	case errors.As(err, &pe):
		// A lone .yaml: the verdict failed with no policy blob.
	case err != nil:
		return out, fmt.Errorf("reading the policy file on %s: %w", branch, err)
	default:
		out.PolicyBlob = f.Blob
	}
	if !owners {
		return out, nil
	}
	out.CodeOwners = checks.NoCodeOwners
	for _, path := range checks.CodeOwnersPaths {
		_, found, blob, err := g.file(ctx, repo, path, branch)
		if err != nil {
			return out, fmt.Errorf("reading %s on %s: %w", path, branch, err)
		}
		if found {
			out.CodeOwners = blob
			break
		}
	}
	return out, nil
}

// tipFiles reads the repository's files at a branch's tip, uncached.
type tipFiles struct {
	g   *GitHub
	ref string
}

// ReadFile reads path at the branch's tip.
func (r tipFiles) ReadFile(ctx context.Context, path string) (policyfile.File, bool, error) {
	data, found, blob, err := r.g.file(ctx, r.g.o.Repo, path, r.ref)
	return policyfile.File{Data: data, Blob: blob}, found, err
}
