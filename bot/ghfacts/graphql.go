package ghfacts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-github/v62/github"
)

// MaxAuthorCommits is the most commits CommitAuthors asks about in its one query.
const MaxAuthorCommits = 100

// maxCommitAuthors is how many authors of each commit the query lists:
// the git author and the Co-authored-by trailers (GitHub's connections
// list at most 100).
const maxCommitAuthors = 50

var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// GraphQLURL returns GitHub's GraphQL endpoint for a REST base URL:
// https://api.github.com/graphql for github.com, and /api/graphql next to a
// GitHub Enterprise Server's /api/v3/.
func GraphQLURL(client *github.Client) string {
	u := *client.BaseURL
	if p := strings.TrimSuffix(u.Path, "/"); strings.HasSuffix(p, "/api/v3") {
		u.Path = strings.TrimSuffix(p, "/v3") + "/graphql"
	} else {
		u.Path = p + "/graphql"
	}
	return u.String()
}

// CommitAuthorsQuery is the GraphQL query CommitAuthors sends for n
// commits: each commit ($c0, $c1, ...) by its object id, and its authors'
// addresses and accounts (GitHub's Commit.authors lists the git author and
// each Co-authored-by trailer; GitActor.user is the account whose verified
// address it is, null when none).
func CommitAuthorsQuery(n int) string {
	var b strings.Builder
	b.WriteString("query($owner: String!, $name: String!")
	for i := range n {
		fmt.Fprintf(&b, ", $c%d: GitObjectID!", i)
	}
	b.WriteString(") {\n  repository(owner: $owner, name: $name) {\n")
	for i := range n {
		fmt.Fprintf(&b, "    c%d: object(oid: $c%d) { ... on Commit { authors(first: %d) { nodes { email name user { login } } } } }\n", i, i, maxCommitAuthors)
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// gitActor is one node of Commit.authors.
type gitActor struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	User  *struct {
		Login string `json:"login"`
	} `json:"user"`
}

// graphQLError is one entry of a GraphQL response's errors.
type graphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// CommitAuthors asks GitHub, in one GraphQL query, which accounts the
// authors and co-authors of the given commits of owner/repo are, and
// returns the login of each address GitHub ties to one, keyed by lower-case
// address. At most MaxAuthorCommits commits are asked about (the first
// ones); an address tied to two logins is left out. Any error in the answer
// is returned, so that the caller fails closed rather than guessing.
func CommitAuthors(ctx context.Context, client *github.Client, owner, repo string, shas []string) (map[string]string, error) {
	if len(shas) > MaxAuthorCommits {
		shas = shas[:MaxAuthorCommits]
	}
	vars := map[string]any{"owner": owner, "name": repo}
	for i, sha := range shas {
		if !hexSHA.MatchString(sha) {
			return nil, fmt.Errorf("commit authors: %q is not a commit id", sha)
		}
		vars[fmt.Sprintf("c%d", i)] = sha
	}
	if len(shas) == 0 {
		return map[string]string{}, nil
	}
	body := map[string]any{"query": CommitAuthorsQuery(len(shas)), "variables": vars}
	req, err := client.NewRequest(http.MethodPost, GraphQLURL(client), body)
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	if _, err := client.Do(ctx, req, &raw); err != nil {
		return nil, fmt.Errorf("commit authors: %w", err)
	}
	return parseCommitAuthors(raw.Bytes(), len(shas))
}

// parseCommitAuthors reads GitHub's answer to CommitAuthorsQuery(n).
func parseCommitAuthors(raw []byte, n int) (map[string]string, error) {
	var out struct {
		Data *struct {
			Repository map[string]*struct {
				Authors *struct {
					Nodes []*gitActor `json:"nodes"`
				} `json:"authors"`
			} `json:"repository"`
		} `json:"data"`
		Errors []graphQLError `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("commit authors: GitHub's GraphQL answer is not JSON: %w", err)
	}
	if len(out.Errors) > 0 {
		msgs := make([]string, len(out.Errors))
		for i, e := range out.Errors {
			msgs[i] = strings.TrimSpace(e.Type + " " + e.Message)
		}
		return nil, fmt.Errorf("commit authors: GitHub's GraphQL API answered: %s", strings.Join(msgs, "; "))
	}
	if out.Data == nil || out.Data.Repository == nil {
		return nil, errors.New("commit authors: GitHub's GraphQL answer has no repository")
	}
	logins := map[string]string{}
	conflict := map[string]bool{}
	for i := range n {
		c := out.Data.Repository[fmt.Sprintf("c%d", i)]
		if c == nil || c.Authors == nil {
			continue
		}
		for _, n := range c.Authors.Nodes {
			if n == nil || n.User == nil || n.User.Login == "" {
				continue
			}
			addr := strings.ToLower(strings.TrimSpace(n.Email))
			if addr == "" {
				continue
			}
			if l, ok := logins[addr]; ok && !strings.EqualFold(l, n.User.Login) {
				conflict[addr] = true
			}
			logins[addr] = n.User.Login
		}
	}
	for a := range conflict {
		delete(logins, a)
	}
	return logins, nil
}
