package gitfacts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/countersign/countersign/checks"
)

// FetchFacts fetches the history of two revisions of a remote repository into
// memory and computes the commits and changed files of base..head from it, as
// Facts does for a local clone: the server's way round GitHub's listing limits
// (3,000 files, 250 commits per pull request). token, when not empty, is sent
// as basic auth with the user x-access-token, as GitHub expects of an
// installation token; it never appears in an error.
//
// Only baseSHA's and headSHA's history is fetched (no other branch, no tags).
// A server that does not let clients ask for a commit by id (git's
// uploadpack.allowReachableSHA1InWant; GitHub allows it) is asked for its
// branches and pull-request heads instead, and the two commits must be among
// them. The facts carry the commits, the files, HeadSHA and BaseSHA (the merge
// base); the caller fills in the rest of the pull request.
func FetchFacts(ctx context.Context, remoteURL, token, baseSHA, headSHA string) (*checks.Facts, error) {
	for _, s := range []struct{ name, sha string }{{"base", baseSHA}, {"head", headSHA}} {
		if !plumbing.IsHash(s.sha) {
			return nil, fmt.Errorf("fetching facts: the %s %q is not a full commit id", s.name, s.sha)
		}
	}
	r, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, err
	}
	remote, err := r.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{remoteURL}})
	if err != nil {
		return nil, fmt.Errorf("fetching facts: %s", redact(err.Error(), token))
	}
	var auth transport.AuthMethod
	if token != "" {
		auth = &githttp.BasicAuth{Username: "x-access-token", Password: token}
	}
	fetch := func(specs ...gitconfig.RefSpec) error {
		err := remote.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: specs, Auth: auth, Tags: git.NoTags})
		if errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil
		}
		return err
	}
	err = fetch(
		gitconfig.RefSpec("+"+headSHA+":refs/countersign/head"),
		gitconfig.RefSpec("+"+baseSHA+":refs/countersign/base"),
	)
	if errors.Is(err, git.ErrExactSHA1NotSupported) {
		err = fetch(
			"+refs/heads/*:refs/remotes/origin/*",
			"+refs/pull/*/head:refs/remotes/origin/pull/*",
		)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fetching %s: %s", redactURL(remoteURL), redact(err.Error(), token))
	}
	repo := FromRepository(r)
	base, head := plumbing.NewHash(baseSHA), plumbing.NewHash(headSHA)
	for _, h := range []plumbing.Hash{base, head} {
		if _, err := repo.commit(h); err != nil {
			return nil, fmt.Errorf("fetching %s: the remote did not send commit %s", redactURL(remoteURL), h)
		}
	}
	return repo.factsBetween(ctx, base, head)
}

// redact removes a secret from a message.
func redact(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "***")
}

// redactURL drops any user information from a URL for messages.
func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		if at := strings.Index(rest, "@"); at >= 0 && at < strings.IndexAny(rest+"/", "/") {
			return u[:i+3] + "***@" + rest[at+1:]
		}
	}
	return u
}
