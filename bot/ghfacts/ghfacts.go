// Package ghfacts turns GitHub's REST objects (go-github types, from the API
// or a webhook payload) into the facts the policy engine and detection read,
// and reads a collaborator's permission. The server, the sandbox (through
// the server), 'countersign detect' and the tests all convert through here,
// so that one GitHub object means one thing everywhere.
package ghfacts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

// PullRequest is what detection reads of a pull request. Labels without a
// name are left out.
func PullRequest(pr *github.PullRequest) detect.PullRequest {
	u := pr.GetUser()
	in := detect.PullRequest{
		Number:      pr.GetNumber(),
		AuthorLogin: u.GetLogin(),
		AuthorType:  u.GetType(),
		AuthorID:    u.GetID(),
		HeadRef:     pr.GetHead().GetRef(),
		Title:       pr.GetTitle(),
		Body:        pr.GetBody(),
	}
	for _, l := range pr.Labels {
		if name := l.GetName(); name != "" {
			in.Labels = append(in.Labels, name)
		}
	}
	return in
}

// Commit is what detection reads of a commit as GitHub's REST API lists it:
// git's author and committer, the accounts GitHub resolved them to, and the
// signature's kind (detect.SignatureKind) and GitHub's verification.
func Commit(rc *github.RepositoryCommit) detect.Commit {
	c := rc.GetCommit()
	return detect.Commit{
		SHA:            rc.GetSHA(),
		AuthorName:     c.GetAuthor().GetName(),
		AuthorEmail:    c.GetAuthor().GetEmail(),
		AuthorLogin:    rc.GetAuthor().GetLogin(),
		CommitterName:  c.GetCommitter().GetName(),
		CommitterEmail: c.GetCommitter().GetEmail(),
		CommitterLogin: rc.GetCommitter().GetLogin(),
		Message:        c.GetMessage(),
		Signature:      detect.SignatureKind(c.GetVerification().GetSignature()),
		Verified:       c.GetVerification().GetVerified(),
		Parents:        len(rc.Parents),
	}
}

// Access is a login's access to a repository.
type Access struct {
	// Permission is read, triage, write, maintain or admin; "" for none.
	Permission string
	// UserType is the account's type ("User", "Bot"), when GitHub said.
	UserType string
}

// permissionLevel is GitHub's answer on a collaborator's permission;
// go-github v62 does not decode role_name, which tells triage and maintain
// apart where the legacy permission field folds them into read and write.
type permissionLevel struct {
	Permission string       `json:"permission"`
	RoleName   string       `json:"role_name"`
	User       *github.User `json:"user"`
}

// Permission reads login's permission on owner/repo
// (GET /repos/{owner}/{repo}/collaborators/{username}/permission). A 404
// (no such user, or nothing GitHub will say) is no permission; any other
// error is returned, so that the caller fails closed rather than guessing.
func Permission(ctx context.Context, client *github.Client, owner, repo, login string) (Access, error) {
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(login))
	req, err := client.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Access{}, err
	}
	pl := &permissionLevel{}
	if _, err := client.Do(ctx, req, pl); err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return Access{}, nil
		}
		return Access{}, err
	}
	return Access{Permission: permissionName(pl.RoleName, pl.Permission), UserType: pl.User.GetType()}, nil
}

// permissionName names a permission: the role name when it is one of
// GitHub's base roles (a custom role falls back to the legacy field), else
// the legacy permission; the legacy names pull and push are read and write.
func permissionName(roleName, legacy string) string {
	for _, p := range []string{roleName, legacy} {
		p = strings.ToLower(p)
		if config.PermissionRank(p) == 0 {
			continue
		}
		switch p {
		case "pull":
			return config.PermissionRead
		case "push":
			return config.PermissionWrite
		}
		return p
	}
	return ""
}
