package githubsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v62/github"
)

// obj is a JSON object as served: a go-github value, re-encoded so the
// nullable fields GitHub always sends (and go-github omits) can be added.
type obj = map[string]any

func toObj(v any) obj {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	// The same users and repositories are rendered into every payload:
	// decoding is most of the cost, so decoded objects are kept by their
	// encoding and handed out as deep copies (callers add fields).
	objCache.mu.Lock()
	m, ok := objCache.m[string(b)]
	objCache.mu.Unlock()
	if ok {
		return deepCopyObj(m)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	objCache.mu.Lock()
	if objCache.m == nil || len(objCache.m) >= objCacheMax {
		objCache.m = make(map[string]obj, objCacheMax)
	}
	objCache.m[string(b)] = m
	objCache.mu.Unlock()
	return deepCopyObj(m)
}

// objCacheMax bounds toObj's cache; when full it starts again empty.
const objCacheMax = 4096

var objCache struct {
	mu sync.Mutex
	m  map[string]obj
}

// deepCopyObj copies a decoded JSON object (maps, slices and scalars).
func deepCopyObj(m obj) obj {
	if m == nil {
		return nil
	}
	out := make(obj, len(m))
	for k, v := range m {
		out[k] = deepCopyJSON(v)
	}
	return out
}

func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyObj(x)
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopyJSON(e)
		}
		return c
	default: // string, float64, bool, nil: immutable
		return v
	}
}

// nulls adds explicit nulls for keys the value does not have.
func nulls(m obj, keys ...string) obj {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
	return m
}

func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%02d:%s%d", len(kind), kind, id)))
}

func ts(t time.Time) *github.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &github.Timestamp{Time: t}
}

func ptrTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *state) api(format string, args ...any) string {
	return s.base + strings.TrimPrefix(fmt.Sprintf(format, args...), "/")
}

// html builds github.com-style web URLs; the simulator serves them from its own host.
func (s *state) html(format string, args ...any) string { return s.api(format, args...) }

func (s *state) userGH(u *user) *github.User {
	if u == nil {
		return nil
	}
	l := u.login
	g := &github.User{
		Login:             github.String(l),
		ID:                github.Int64(u.id),
		NodeID:            github.String(nodeID(u.typ, u.id)),
		AvatarURL:         github.String(fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.id)),
		GravatarID:        github.String(""),
		URL:               github.String(s.api("users/%s", l)),
		HTMLURL:           github.String(s.html("%s", l)),
		FollowersURL:      github.String(s.api("users/%s/followers", l)),
		FollowingURL:      github.String(s.api("users/%s/following{/other_user}", l)),
		GistsURL:          github.String(s.api("users/%s/gists{/gist_id}", l)),
		StarredURL:        github.String(s.api("users/%s/starred{/owner}{/repo}", l)),
		SubscriptionsURL:  github.String(s.api("users/%s/subscriptions", l)),
		OrganizationsURL:  github.String(s.api("users/%s/orgs", l)),
		ReposURL:          github.String(s.api("users/%s/repos", l)),
		EventsURL:         github.String(s.api("users/%s/events{/privacy}", l)),
		ReceivedEventsURL: github.String(s.api("users/%s/received_events", l)),
		Type:              github.String(u.typ),
		SiteAdmin:         github.Bool(false),
	}
	if u.typ == "Bot" && strings.HasSuffix(l, "[bot]") {
		g.HTMLURL = github.String(s.html("apps/%s", strings.TrimSuffix(l, "[bot]")))
	}
	return g
}

func (s *state) userObj(u *user) obj {
	if u == nil {
		return nil
	}
	return toObj(s.userGH(u))
}

// userFullObj is the public-user shape of GET /users/{username}.
func (s *state) userFullObj(u *user) obj {
	g := s.userGH(u)
	g.CreatedAt = ts(u.createdAt)
	g.UpdatedAt = ts(u.createdAt)
	g.PublicRepos = github.Int(0)
	g.PublicGists = github.Int(0)
	g.Followers = github.Int(0)
	g.Following = github.Int(0)
	if u.name != "" {
		g.Name = github.String(u.name)
	}
	m := toObj(g)
	return nulls(m, "name", "company", "blog", "location", "email", "hireable", "bio")
}

func (s *state) repoGH(r *repo) *github.Repository {
	fn := r.fullName()
	a := func(suffix string) *string { return github.String(s.api("repos/%s%s", fn, suffix)) }
	vis := "public"
	if r.private {
		vis = "private"
	}
	return &github.Repository{
		ID:                       github.Int64(r.id),
		NodeID:                   github.String(nodeID("Repository", r.id)),
		Name:                     github.String(r.name),
		FullName:                 github.String(fn),
		Owner:                    s.userGH(r.owner),
		Private:                  github.Bool(r.private),
		HTMLURL:                  github.String(s.html("%s", fn)),
		Fork:                     github.Bool(false),
		URL:                      a(""),
		ArchiveURL:               a("/{archive_format}{/ref}"),
		AssigneesURL:             a("/assignees{/user}"),
		BlobsURL:                 a("/git/blobs{/sha}"),
		BranchesURL:              a("/branches{/branch}"),
		CollaboratorsURL:         a("/collaborators{/collaborator}"),
		CommentsURL:              a("/comments{/number}"),
		CommitsURL:               a("/commits{/sha}"),
		CompareURL:               a("/compare/{base}...{head}"),
		ContentsURL:              a("/contents/{+path}"),
		ContributorsURL:          a("/contributors"),
		DeploymentsURL:           a("/deployments"),
		DownloadsURL:             a("/downloads"),
		EventsURL:                a("/events"),
		ForksURL:                 a("/forks"),
		GitCommitsURL:            a("/git/commits{/sha}"),
		GitRefsURL:               a("/git/refs{/sha}"),
		GitTagsURL:               a("/git/tags{/sha}"),
		GitURL:                   github.String("git://" + strings.TrimPrefix(strings.TrimPrefix(s.base, "http://"), "https://") + fn + ".git"),
		IssueCommentURL:          a("/issues/comments{/number}"),
		IssueEventsURL:           a("/issues/events{/number}"),
		IssuesURL:                a("/issues{/number}"),
		KeysURL:                  a("/keys{/key_id}"),
		LabelsURL:                a("/labels{/name}"),
		LanguagesURL:             a("/languages"),
		MergesURL:                a("/merges"),
		MilestonesURL:            a("/milestones{/number}"),
		NotificationsURL:         a("/notifications{?since,all,participating}"),
		PullsURL:                 a("/pulls{/number}"),
		ReleasesURL:              a("/releases{/id}"),
		SSHURL:                   github.String("git@githubsim:" + fn + ".git"),
		StargazersURL:            a("/stargazers"),
		StatusesURL:              a("/statuses/{sha}"),
		SubscribersURL:           a("/subscribers"),
		SubscriptionURL:          a("/subscription"),
		TagsURL:                  a("/tags"),
		TeamsURL:                 a("/teams"),
		TreesURL:                 a("/git/trees{/sha}"),
		CloneURL:                 github.String(s.base + fn + ".git"),
		HooksURL:                 a("/hooks"),
		SVNURL:                   github.String(s.html("%s", fn)),
		ForksCount:               github.Int(0),
		StargazersCount:          github.Int(0),
		WatchersCount:            github.Int(0),
		Watchers:                 github.Int(0),
		Size:                     github.Int(1),
		DefaultBranch:            github.String(r.defaultBranch),
		OpenIssuesCount:          github.Int(r.openPRs()),
		OpenIssues:               github.Int(r.openPRs()),
		Topics:                   []string{},
		HasIssues:                github.Bool(true),
		HasProjects:              github.Bool(true),
		HasWiki:                  github.Bool(true),
		HasPages:                 github.Bool(false),
		HasDownloads:             github.Bool(true),
		HasDiscussions:           github.Bool(false),
		Archived:                 github.Bool(false),
		Disabled:                 github.Bool(false),
		IsTemplate:               github.Bool(false),
		AllowForking:             github.Bool(true),
		WebCommitSignoffRequired: github.Bool(false),
		Visibility:               github.String(vis),
		PushedAt:                 ts(r.pushedAt),
		CreatedAt:                ts(r.createdAt),
		UpdatedAt:                ts(r.pushedAt),
	}
}

func (r *repo) openPRs() int {
	n := 0
	for _, p := range r.prOrder {
		if p.state == "open" {
			n++
		}
	}
	return n
}

func (s *state) repoObj(r *repo) obj {
	m := nulls(toObj(s.repoGH(r)), "description", "homepage", "language", "mirror_url", "license")
	m["forks"] = 0
	m["topics"] = []string{}
	return m
}

// fullRepoObj is GET /repos/{owner}/{repo}: the repository plus counts and permissions.
func (s *state) fullRepoObj(r *repo) obj {
	m := s.repoObj(r)
	m["subscribers_count"] = 0
	m["network_count"] = 0
	m["permissions"] = obj{"admin": false, "maintain": false, "push": false, "triage": false, "pull": true}
	if r.owner.typ == "Organization" {
		m["organization"] = s.userObj(r.owner)
	}
	return m
}

func (s *state) installationRef(in *installation) obj {
	if in == nil {
		return nil
	}
	return obj{"id": in.id, "node_id": nodeID("Integration::Installation", in.id)}
}

func appPermissions() map[string]string {
	return map[string]string{
		"checks": "write", "contents": "read", "issues": "write", "metadata": "read",
		"pull_requests": "write", "members": "read", "administration": "read",
		"deployments": "write", "actions": "read", "merge_queues": "read",
	}
}

func appEvents() []string {
	return []string{"check_run", "check_suite", "deployment_protection_rule", "issue_comment", "member", "membership", "merge_group", "organization", "pull_request", "pull_request_review", "push", "team"}
}

func (s *state) installationObj(in *installation) obj {
	sel := "selected"
	if in.all {
		sel = "all"
	}
	g := &github.Installation{
		ID:                  github.Int64(in.id),
		NodeID:              github.String(nodeID("Integration::Installation", in.id)),
		AppID:               github.Int64(s.opt.AppID),
		AppSlug:             github.String(s.opt.AppSlug),
		TargetID:            github.Int64(in.account.id),
		Account:             s.userGH(in.account),
		AccessTokensURL:     github.String(s.api("app/installations/%d/access_tokens", in.id)),
		RepositoriesURL:     github.String(s.api("installation/repositories")),
		HTMLURL:             github.String(s.html("settings/installations/%d", in.id)),
		TargetType:          github.String(in.account.typ),
		RepositorySelection: github.String(sel),
		Events:              appEvents(),
		CreatedAt:           ts(in.createdAt),
		UpdatedAt:           ts(in.createdAt),
	}
	m := toObj(g)
	delete(m, "node_id")
	m["permissions"] = appPermissions()
	// GitHub's description types account as user-and-enterprise; "name" satisfies both.
	acc := m["account"].(obj)
	acc["name"] = in.account.login
	return nulls(m, "single_file_name", "suspended_by", "suspended_at")
}

func (s *state) appObj() obj {
	owner := s.users["countersign-owner"]
	var ow obj
	if owner != nil {
		ow = s.userObj(owner)
	} else {
		ow = s.userObj(&user{id: 999, login: "countersign-owner", typ: "Organization"})
	}
	return nulls(obj{
		"id":           s.opt.AppID,
		"slug":         s.opt.AppSlug,
		"node_id":      nodeID("Integration", s.opt.AppID),
		"owner":        ow,
		"name":         s.opt.AppSlug,
		"description":  "Countersign",
		"external_url": s.base,
		"html_url":     s.html("apps/%s", s.opt.AppSlug),
		"created_at":   s.appCreatedAt.Format(time.RFC3339),
		"updated_at":   s.appCreatedAt.Format(time.RFC3339),
		"permissions":  appPermissions(),
		"events":       appEvents(),
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
