package ghapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
)

// IsTransient reports whether err is worth retrying later: a rate limit, a
// server error, a 202 Accepted (GitHub still computing), a timeout or a
// network failure. Client errors such as 404 or 422 are not.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var (
		rl  *RateLimitError
		grl *github.RateLimitError
		arl *github.AbuseRateLimitError
		ae  *github.AcceptedError
		er  *github.ErrorResponse
		he  *ghinstallation.HTTPError
		ne  net.Error
	)
	switch {
	case errors.As(err, &rl), errors.As(err, &grl), errors.As(err, &arl), errors.As(err, &ae):
		return true
	case errors.As(err, &er):
		return er.Response == nil || er.Response.StatusCode >= 500 || er.Response.StatusCode == http.StatusTooManyRequests
	case errors.As(err, &he):
		return he.Response == nil || he.Response.StatusCode >= 500 || he.Response.StatusCode == http.StatusTooManyRequests
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return true
	}
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "connection reset") || strings.Contains(s, "connection refused")
}

// Reason describes err in one short line fit for a check run's title: what
// went wrong talking to GitHub, with routes instead of names and never a
// credential.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var (
		rl  *RateLimitError
		grl *github.RateLimitError
		arl *github.AbuseRateLimitError
		ae  *github.AcceptedError
		er  *github.ErrorResponse
		he  *ghinstallation.HTTPError
		ne  net.Error
	)
	switch {
	case errors.As(err, &rl):
		return rl.Error()
	case errors.As(err, &grl), errors.As(err, &arl):
		return "GitHub API rate limit exceeded"
	case errors.As(err, &ae):
		return "GitHub is still preparing the data (202 Accepted)"
	case errors.As(err, &er) && er.Response != nil:
		r := er.Response
		if r.Request != nil && r.Request.URL != nil {
			return fmt.Sprintf("GitHub API answered %d to %s %s", r.StatusCode, r.Request.Method, Route("", r.Request.URL))
		}
		return fmt.Sprintf("GitHub API answered %d", r.StatusCode)
	case errors.As(err, &he):
		if he.Response != nil {
			return fmt.Sprintf("could not get an installation access token: GitHub answered %d", he.Response.StatusCode)
		}
		return "could not get an installation access token: GitHub did not answer"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out talking to GitHub"
	case errors.Is(err, context.Canceled):
		return "evaluation was cancelled"
	case errors.As(err, &ne):
		if ne.Timeout() {
			return "timed out talking to GitHub"
		}
		return "could not reach GitHub"
	}
	return Scrub(err.Error())
}

var secretish = regexp.MustCompile(`(?i)(gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+|(bearer|token)\s+[A-Za-z0-9._\-]+|//[^/@\s]*:[^/@\s]*@|-----BEGIN[^-]*-----[\s\S]*?(-----END[^-]*-----|$))`)

// Scrub removes anything that looks like a credential from s and bounds its length.
func Scrub(s string) string {
	s = secretish.ReplaceAllString(s, "[redacted]")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
