package githubsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// graphQLSchema is the part of GitHub's GraphQL schema the simulator
// answers, with GitHub's names and argument lists: a repository's object
// by id and a commit's authors (the git author and its Co-authored-by
// trailers), each GitActor's user being the account whose verified
// address (or noreply address) it is. Anything else is a validation error,
// as GitHub answers a field it does not have.
const graphQLSchema = `
schema { query: Query }
scalar GitObjectID
scalar URI
type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
}
type Repository {
  name: String!
  nameWithOwner: String!
  object(expression: String, oid: GitObjectID): GitObject
}
interface GitObject {
  oid: GitObjectID!
  abbreviatedOid: String!
}
type Commit implements GitObject {
  oid: GitObjectID!
  abbreviatedOid: String!
  message: String!
  authors(after: String, before: String, first: Int, last: Int): GitActorConnection!
}
type GitActorConnection {
  nodes: [GitActor]
  totalCount: Int!
  pageInfo: PageInfo!
}
type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  endCursor: String
  startCursor: String
}
type GitActor {
  email: String
  name: String
  user: User
}
type User {
  login: String!
  name: String
  databaseId: Int
}
`

// gqlTyped is a resolver error GitHub reports with a "type" (NOT_FOUND,
// MISSING_PAGINATION_BOUNDARIES, EXCESSIVE_PAGINATION).
type gqlTyped struct{ typ, msg string }

func (e *gqlTyped) Error() string { return e.msg }

// gqlRoot resolves Query; the request being served travels in the
// context, and resolvers run under the state's lock (the handler holds it).
type gqlRoot struct{}

type gqlReqKey struct{}

// gqlSchema is parsed once: a schema or resolver mismatch fails at start, never mid-request.
var gqlSchema = graphql.MustParseSchema(graphQLSchema, &gqlRoot{}, graphql.MaxParallelism(1))

// Repository resolves Query.repository: a repository the token can see.
func (q *gqlRoot) Repository(ctx context.Context, args struct {
	Owner, Name   string
	FollowRenames bool
}) (*gqlRepo, error) {
	c := ctx.Value(gqlReqKey{}).(*reqCtx)
	r := c.s.repos[strings.ToLower(args.Owner+"/"+args.Name)]
	t := c.tok
	if r == nil || t == nil || !t.inst.covers(r) || (t.repos != nil && !t.repos[r]) {
		return nil, &gqlTyped{"NOT_FOUND", fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", args.Owner, args.Name)}
	}
	return &gqlRepo{s: c.s, r: r}, nil
}

type gqlRepo struct {
	s *state
	r *repo
}

func (g *gqlRepo) Name() string          { return g.r.name }
func (g *gqlRepo) NameWithOwner() string { return g.r.fullName() }

// gitObjectID is GitHub's GitObjectID scalar: a full hex object id.
type gitObjectID string

// ImplementsGraphQLType maps gitObjectID to the GitObjectID scalar.
func (gitObjectID) ImplementsGraphQLType(name string) bool { return name == "GitObjectID" }

// UnmarshalGraphQL accepts a string, as GitHub does.
func (o *gitObjectID) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("could not coerce value to GitObjectID")
	}
	*o = gitObjectID(s)
	return nil
}

// uri is GitHub's URI scalar (declared for fidelity; not served).
type uri string

// ImplementsGraphQLType maps uri to the URI scalar.
func (uri) ImplementsGraphQLType(name string) bool { return name == "URI" }

// UnmarshalGraphQL accepts a string.
func (u *uri) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("could not coerce value to URI")
	}
	*u = uri(s)
	return nil
}

var fullOID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Object resolves Repository.object by oid (an expression is not simulated: an error).
func (g *gqlRepo) Object(args struct {
	Expression *string
	Oid        *gitObjectID
}) (*gqlObject, error) {
	if args.Expression != nil {
		return nil, &gqlTyped{"", "the simulator answers Repository.object by oid only"}
	}
	if args.Oid == nil {
		return nil, nil
	}
	oid := string(*args.Oid)
	if !fullOID.MatchString(oid) {
		return nil, nil // GitHub answers null for an object it does not have
	}
	cm, err := g.r.commit(plumbing.NewHash(oid))
	if err != nil {
		return nil, nil
	}
	authors := []*gqlActor{g.s.gitActor(g.r, cm.Author.Name, cm.Author.Email)}
	seen := map[string]bool{strings.ToLower(cm.Author.Email): true}
	for _, co := range coAuthors(cm.Message) {
		if k := strings.ToLower(co[1]); !seen[k] {
			seen[k] = true
			authors = append(authors, g.s.gitActor(g.r, co[0], co[1]))
		}
	}
	return &gqlObject{commit: &gqlCommit{oid: oid, message: cm.Message, authors: authors}}, nil
}

// gqlObject is a GitObject; only commits are simulated.
type gqlObject struct{ commit *gqlCommit }

func (o *gqlObject) Oid() gitObjectID       { return gitObjectID(o.commit.oid) }
func (o *gqlObject) AbbreviatedOid() string { return o.commit.oid[:7] }

// ToCommit resolves `... on Commit`.
func (o *gqlObject) ToCommit() (*gqlCommit, bool) { return o.commit, o.commit != nil }

type gqlCommit struct {
	oid, message string
	authors      []*gqlActor
}

func (c *gqlCommit) Oid() gitObjectID       { return gitObjectID(c.oid) }
func (c *gqlCommit) AbbreviatedOid() string { return c.oid[:7] }
func (c *gqlCommit) Message() string        { return c.message }

// Authors resolves Commit.authors with GitHub's pagination rules: first or
// last is required, at most 100; cursors are not simulated.
func (c *gqlCommit) Authors(args struct {
	After, Before *string
	First, Last   *int32
}) (*gqlActors, error) {
	if args.First == nil && args.Last == nil {
		return nil, &gqlTyped{"MISSING_PAGINATION_BOUNDARIES", "You must provide a `first` or `last` value to properly paginate the `authors` connection."}
	}
	if args.After != nil || args.Before != nil {
		return nil, &gqlTyped{"", "the simulator does not page Commit.authors with cursors"}
	}
	nodes := c.authors
	for _, n := range []*int32{args.First, args.Last} {
		if n == nil {
			continue
		}
		if *n < 0 || *n > 100 {
			return nil, &gqlTyped{"EXCESSIVE_PAGINATION", fmt.Sprintf("Requesting %d records on the `authors` connection exceeds the `first` limit of 100 records.", *n)}
		}
	}
	more := false
	if args.First != nil && int(*args.First) < len(nodes) {
		nodes, more = nodes[:*args.First], true
	}
	if args.Last != nil && int(*args.Last) < len(nodes) {
		nodes, more = nodes[len(nodes)-int(*args.Last):], true
	}
	return &gqlActors{nodes: nodes, total: len(c.authors), more: more}, nil
}

type gqlActors struct {
	nodes []*gqlActor
	total int
	more  bool
}

func (a *gqlActors) Nodes() *[]*gqlActor { return &a.nodes }
func (a *gqlActors) TotalCount() int32   { return int32(a.total) }
func (a *gqlActors) PageInfo() *gqlPageInfo {
	return &gqlPageInfo{more: a.more}
}

type gqlPageInfo struct{ more bool }

func (p *gqlPageInfo) HasNextPage() bool     { return p.more }
func (p *gqlPageInfo) HasPreviousPage() bool { return false }
func (p *gqlPageInfo) EndCursor() *string    { return nil }
func (p *gqlPageInfo) StartCursor() *string  { return nil }

type gqlActor struct {
	name, email string
	user        *user
}

func (a *gqlActor) Email() *string { return &a.email }
func (a *gqlActor) Name() *string  { return &a.name }

// User is the account whose address it is; null for none, and for a bot
// (GitActor.user is a User; bots are not).
func (a *gqlActor) User() *gqlUser {
	if a.user == nil || a.user.typ != "User" {
		return nil
	}
	return &gqlUser{a.user}
}

type gqlUser struct{ u *user }

func (u *gqlUser) Login() string { return u.u.login }
func (u *gqlUser) Name() *string {
	if u.u.name == "" {
		return nil
	}
	return &u.u.name
}
func (u *gqlUser) DatabaseID() *int32 { id := int32(u.u.id); return &id }

// gitActor is a git identity and the account GitHub ties its address to.
func (s *state) gitActor(r *repo, name, email string) *gqlActor {
	a := &gqlActor{name: name, email: email}
	if l := s.loginForAddress(r, email); l != "" {
		a.user = s.users[strings.ToLower(l)]
	}
	return a
}

var coAuthorLine = regexp.MustCompile(`(?i)^co-authored-by:\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$`)

// coAuthors returns the name and address of each Co-authored-by trailer
// in the message's last paragraph (the trailer block), as GitHub reads them.
func coAuthors(msg string) [][2]string {
	msg = strings.TrimRight(strings.ReplaceAll(msg, "\r\n", "\n"), "\n ")
	paras := strings.Split(msg, "\n\n")
	if len(paras) < 2 {
		return nil // a subject line alone has no trailers
	}
	var out [][2]string
	for _, line := range strings.Split(paras[len(paras)-1], "\n") {
		if m := coAuthorLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			out = append(out, [2]string{m[1], m[2]})
		}
	}
	return out
}

// graphQLRequest is a POST /graphql body.
type graphQLRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// hGraphQL answers POST /graphql in GitHub's shape: 200 with data and/or
// errors (each with message, locations, path and, for resolver errors,
// GitHub's type); a body that is not a query is GitHub's 400 "Problems
// parsing JSON".
func hGraphQL(c *reqCtx) {
	var req graphQLRequest
	dec := json.NewDecoder(strings.NewReader(string(c.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/graphql")
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		c.json(http.StatusOK, obj{"errors": []obj{{"message": "A query attribute must be specified and must be a string."}}})
		return
	}
	res := gqlSchema.Exec(context.WithValue(context.Background(), gqlReqKey{}, c), req.Query, req.OperationName, req.Variables)
	out := obj{}
	if res.Data != nil && string(res.Data) != "null" {
		out["data"] = json.RawMessage(res.Data)
	} else if len(res.Errors) > 0 && res.Data != nil {
		out["data"] = nil
	}
	if len(res.Errors) > 0 {
		errs := make([]obj, 0, len(res.Errors))
		for _, e := range res.Errors {
			errs = append(errs, graphQLError(e))
		}
		out["errors"] = errs
	}
	c.json(http.StatusOK, out)
}

// graphQLError renders one error as GitHub does: its type (for resolver
// errors), path, locations and message.
func graphQLError(e *gqlerrors.QueryError) obj {
	m := obj{"message": e.Message}
	if t, ok := e.ResolverError.(*gqlTyped); ok {
		m["message"] = t.msg
		if t.typ != "" {
			m["type"] = t.typ
		}
	}
	if len(e.Path) > 0 {
		m["path"] = e.Path
	}
	if len(e.Locations) > 0 {
		m["locations"] = e.Locations
	}
	return m
}

// loginForAddress is the account GitHub ties an address to: the user who
// verified it (AddVerifiedEmail), the account a push named for it, or the
// user a noreply address names; "" for none.
func (s *state) loginForAddress(r *repo, email string) string {
	addr := strings.ToLower(strings.TrimSpace(email))
	if addr == "" {
		return ""
	}
	if l, ok := s.verified[addr]; ok {
		return l
	}
	if r != nil {
		if l, ok := r.emails[addr]; ok {
			return l
		}
	}
	if local, ok := strings.CutSuffix(addr, "@users.noreply.github.com"); ok {
		if _, login, found := strings.Cut(local, "+"); found {
			local = login
		}
		if u, ok := s.users[local]; ok {
			return u.login
		}
	}
	return ""
}

// AddVerifiedEmail records email as a verified address of login's account
// (created if unknown): GitHub then ties commits and co-author trailers with
// that address to the account, in REST commit objects and GraphQL
// Commit.authors alike.
func (s *Sim) AddVerifiedEmail(login, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(login)
	s.verified[strings.ToLower(strings.TrimSpace(email))] = u.login
}
