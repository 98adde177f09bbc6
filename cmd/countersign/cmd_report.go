package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/report"
	"github.com/countersign/countersign/bot/server"
	"github.com/google/go-github/v62/github"
	"golang.org/x/term"
)

// runReport runs 'countersign report': list every landed change from the
// countersign/landing records, for auditors.
func runReport(ctx context.Context, args []string, s streams) int {
	return reportCmd(ctx, args, os.Getenv, s)
}

func reportCmd(ctx context.Context, args []string, getenv func(string) string, s streams) int {
	fs := newFlags(s, "report", "report --repo OWNER/NAME | --org ORG [--branch B] [--since DATE] [--until DATE] [--format csv|json|markdown]",
		"Lists every change that landed on a branch from its countersign/landing records: commit, date,",
		"branch, pull request, agents, operators, approvers, overrides with reasons, verdict and policy,",
		"with totals by agent and by verdict. Reads with the app's credentials (COUNTERSIGN_APP_ID and",
		"COUNTERSIGN_PRIVATE_KEY or COUNTERSIGN_PRIVATE_KEY_FILE), else a token in GITHUB_TOKEN;",
		"COUNTERSIGN_GITHUB_URL names GitHub Enterprise Server's API. --org needs the app's credentials.")
	repo := fs.String("repo", "", "the repository, OWNER/NAME")
	org := fs.String("org", "", "every repository of the app's installation on ORG")
	branch := fs.String("branch", "", "the branch to read (default: each repository's default branch)")
	since := fs.String("since", "", "only commits from this date on (YYYY-MM-DD or RFC 3339)")
	until := fs.String("until", "", "only commits up to this date (YYYY-MM-DD, inclusive, or RFC 3339)")
	format := fs.String("format", "markdown", "output format: csv, json or markdown")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.err, "countersign report: "+format+"\n", a...)
		return exitError
	}
	if (*repo == "") == (*org == "") {
		return fail("give --repo OWNER/NAME or --org ORG (one of them)")
	}
	if !slices.Contains(report.Formats, *format) {
		return fail("--format %q: use csv, json or markdown", *format)
	}
	var o report.Options
	var err error
	o.Branch = *branch
	if o.Since, err = parseDate(*since, false); err != nil {
		return fail("--since: %v", err)
	}
	if o.Until, err = parseDate(*until, true); err != nil {
		return fail("--until: %v", err)
	}
	targets, appID, err := reportTargets(ctx, getenv, *repo, *org)
	if err != nil {
		return fail("%v", err)
	}
	o.AppID = appID
	if f, ok := s.err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		last := time.Time{}
		o.Progress = func(repo string, commits, records int) {
			if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
				last = now
				fmt.Fprintf(s.err, "\r%s: %d commits scanned, %d landing records…", repo, commits, records)
			}
		}
	}
	rep, err := report.Build(ctx, targets, o)
	if o.Progress != nil {
		fmt.Fprint(s.err, "\r\033[K")
	}
	if err != nil {
		return fail("%v", err)
	}
	if err := rep.Write(s.out, *format); err != nil {
		return fail("%v", err)
	}
	return exitOK
}

// parseDate reads YYYY-MM-DD (the end of that day when end is set) or RFC 3339.
func parseDate(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD or RFC 3339", v)
	}
	if end {
		t = t.Add(24*time.Hour - time.Second)
	}
	return t, nil
}

// reportTargets resolves --repo or --org to clients: the app's installation
// when app credentials are set, else GITHUB_TOKEN.
func reportTargets(ctx context.Context, getenv func(string) string, repo, org string) ([]report.Target, int64, error) {
	base := getenv("COUNTERSIGN_GITHUB_URL")
	if base == "" {
		base = server.DefaultGitHubURL
	}
	owner, name := "", ""
	if repo != "" {
		var ok bool
		owner, name, ok = strings.Cut(repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return nil, 0, fmt.Errorf("--repo %q is not OWNER/NAME", repo)
		}
	}
	if idText := getenv("COUNTERSIGN_APP_ID"); idText != "" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil || id <= 0 {
			return nil, 0, fmt.Errorf("COUNTERSIGN_APP_ID %q is not an app id", idText)
		}
		key := []byte(getenv("COUNTERSIGN_PRIVATE_KEY"))
		if len(key) == 0 && getenv("COUNTERSIGN_PRIVATE_KEY_FILE") != "" {
			if key, err = os.ReadFile(getenv("COUNTERSIGN_PRIVATE_KEY_FILE")); err != nil {
				return nil, 0, fmt.Errorf("COUNTERSIGN_PRIVATE_KEY_FILE: %v", err)
			}
		}
		app, err := ghapp.New(ghapp.Options{AppID: id, PrivateKeyPEM: key, BaseURL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return nil, 0, err
		}
		if repo != "" {
			in, _, err := app.AppClient().Apps.FindRepositoryInstallation(ctx, owner, name)
			if err != nil {
				return nil, 0, fmt.Errorf("the app is not installed on %s: %s", repo, ghapp.Reason(err))
			}
			c, err := app.Client(in.GetID())
			if err != nil {
				return nil, 0, err
			}
			return []report.Target{{Owner: owner, Repo: name, Client: c}}, id, nil
		}
		return orgTargets(ctx, app, org, id)
	}
	token := getenv("GITHUB_TOKEN")
	if token == "" {
		return nil, 0, errors.New("no credentials: set the app's (COUNTERSIGN_APP_ID and COUNTERSIGN_PRIVATE_KEY or _FILE) or GITHUB_TOKEN")
	}
	if org != "" {
		return nil, 0, errors.New("--org reads the repositories of the app's installation: set the app's credentials (COUNTERSIGN_APP_ID, COUNTERSIGN_PRIVATE_KEY)")
	}
	c := github.NewClient(&http.Client{Timeout: time.Minute}).WithAuthToken(token)
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
	if err != nil {
		return nil, 0, fmt.Errorf("COUNTERSIGN_GITHUB_URL: %v", err)
	}
	c.BaseURL = u
	return []report.Target{{Owner: owner, Repo: name, Client: c}}, 0, nil
}

func orgTargets(ctx context.Context, app *ghapp.App, org string, appID int64) ([]report.Target, int64, error) {
	opt := &github.ListOptions{PerPage: 100}
	for {
		ins, resp, err := app.AppClient().Apps.ListInstallations(ctx, opt)
		if err != nil {
			return nil, 0, fmt.Errorf("listing the app's installations: %s", ghapp.Reason(err))
		}
		for _, in := range ins {
			if !strings.EqualFold(in.GetAccount().GetLogin(), org) {
				continue
			}
			c, err := app.Client(in.GetID())
			if err != nil {
				return nil, 0, err
			}
			var out []report.Target
			ro := &github.ListOptions{PerPage: 100}
			for {
				rs, rresp, err := c.Apps.ListRepos(ctx, ro)
				if err != nil {
					return nil, 0, fmt.Errorf("listing the repositories of the installation on %s: %s", org, ghapp.Reason(err))
				}
				for _, r := range rs.Repositories {
					out = append(out, report.Target{Owner: r.GetOwner().GetLogin(), Repo: r.GetName(), Client: c})
				}
				if rresp.NextPage == 0 {
					return out, appID, nil
				}
				ro.Page = rresp.NextPage
			}
		}
		if resp.NextPage == 0 {
			return nil, 0, fmt.Errorf("the app is not installed on %s", org)
		}
		opt.Page = resp.NextPage
	}
}
