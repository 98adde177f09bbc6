package ghapp

import (
	"net/url"
	"strings"
)

// params names the path parameter that follows a fixed segment of GitHub's
// REST paths, as the OpenAPI description names it.
var params = map[string]string{
	"orgs":          "{org}",
	"users":         "{username}",
	"teams":         "{team_slug}",
	"installations": "{installation_id}",
	"collaborators": "{username}",
	"members":       "{username}",
	"memberships":   "{username}",
	"pulls":         "{pull_number}",
	"issues":        "{issue_number}",
	"comments":      "{comment_id}",
	"reviews":       "{review_id}",
	"check-runs":    "{check_run_id}",
	"check-suites":  "{check_suite_id}",
	"commits":       "{ref}",
	"branches":      "{branch}",
	"hooks":         "{hook_id}",
	"deliveries":    "{delivery_id}",
	"blobs":         "{file_sha}",
	"trees":         "{tree_sha}",
	"reactions":     "{reaction_id}",
}

// Route returns the path template of a request URL, such as
// "/repos/{owner}/{repo}/pulls/{pull_number}/files", for metrics and logs:
// it never carries owner, repository, user or file names, so its
// cardinality stays bounded. base is the REST base URL whose path (such as
// "/api/v3/") is stripped first.
func Route(base string, u *url.URL) string {
	p := u.EscapedPath()
	if bu, err := url.Parse(base); err == nil {
		bp := strings.TrimSuffix(bu.EscapedPath(), "/")
		if bp != "" && strings.HasPrefix(p, bp+"/") {
			p = p[len(bp):]
		}
	}
	// Without a base, strip GitHub Enterprise Server's prefix.
	p = strings.TrimPrefix(p, "/api/v3")
	segs := strings.Split(strings.Trim(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		out = append(out, s)
		if i+1 >= len(segs) {
			break
		}
		switch {
		case s == "repos" && i == 0:
			out = append(out, "{owner}")
			i++
			if i+1 < len(segs) {
				out = append(out, "{repo}")
				i++
			}
		case s == "contents" || s == "readme":
			return "/" + strings.Join(out, "/") + "/{path}"
		case s == "compare":
			return "/" + strings.Join(out, "/") + "/{basehead}"
		case s == "ref" || s == "refs" || s == "matching-refs":
			return "/" + strings.Join(out, "/") + "/{ref}"
		case s == "teams" && i+2 < len(segs) && segs[i+2] == "memberships":
			// /orgs/{org}/teams/{team_slug}/memberships/{username}
			out = append(out, "{team_slug}")
			i++
		case params[s] != "":
			// A fixed segment followed by another fixed segment of the same
			// family (".../pulls/comments") is not a parameter.
			next := segs[i+1]
			if _, fixed := params[next]; fixed && !isNumber(next) {
				continue
			}
			if (s == "pulls" || s == "issues" || s == "check-runs" || s == "reviews" || s == "installations") && !isNumber(next) {
				continue
			}
			out = append(out, params[s])
			i++
		}
	}
	return "/" + strings.Join(out, "/")
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
