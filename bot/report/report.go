// Package report reads the countersign/landing check runs of repositories
// (the durable landing records) and lists every landed change for auditors,
// with totals by agent and by verdict, as CSV, JSON or Markdown.
package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// Verdicts of a row.
const (
	VerdictCountersigned = "countersigned"
	VerdictOverridden    = "overridden"
	VerdictNothingNeeded = "no approval needed"
	VerdictUnsigned      = "landed without countersignature"
	VerdictUnaccounted   = "could not account"
)

// Row is one landed change, or one commit that landed without countersignature.
type Row struct {
	Repo   string    `json:"repo"`
	Branch string    `json:"branch"`
	Commit string    `json:"commit"`
	Date   time.Time `json:"date"`
	// Head is the pushed head whose landing record lists the change.
	Head      string   `json:"head"`
	PR        int      `json:"pr,omitempty"`
	Author    string   `json:"author,omitempty"`
	Agents    []string `json:"agents"`
	Operators []string `json:"operators,omitempty"`
	Approvers []string `json:"approvers,omitempty"`
	Override  string   `json:"override,omitempty"`
	Verdict   string   `json:"verdict"`
	Why       string   `json:"why,omitempty"`
	Policy    string   `json:"policy"`
}

// Report is the rows and their totals.
type Report struct {
	Rows []Row `json:"rows"`
	// ByAgent counts rows by agent ("human" for none); ByVerdict by verdict.
	ByAgent   map[string]int `json:"by_agent"`
	ByVerdict map[string]int `json:"by_verdict"`
	// Records is how many landing records were read; Commits how many commits scanned.
	Records int `json:"records"`
	Commits int `json:"commits"`
}

// Target is one repository to read, with the client to read it with.
type Target struct {
	Owner, Repo string
	Client      *github.Client
}

// Options says what to read.
type Options struct {
	// Branch is the branch to read; "" means each repository's default branch.
	Branch string
	// Since and Until bound the commit dates; zero means unbounded.
	Since, Until time.Time
	// AppID, when set, counts only check runs this app wrote.
	AppID int64
	// Progress, when set, is told after each commit scanned.
	Progress func(repo string, commits, records int)
}

// Build reads the landing records on the targets' branches, newest first.
func Build(ctx context.Context, targets []Target, o Options) (*Report, error) {
	rep := &Report{Rows: []Row{}, ByAgent: map[string]int{}, ByVerdict: map[string]int{}}
	for _, t := range targets {
		if err := rep.read(ctx, t, o); err != nil {
			return rep, fmt.Errorf("%s/%s: %w", t.Owner, t.Repo, err)
		}
	}
	for _, r := range rep.Rows {
		if len(r.Agents) == 0 {
			rep.ByAgent["human"]++
		}
		for _, a := range r.Agents {
			rep.ByAgent[a]++
		}
		rep.ByVerdict[r.Verdict]++
	}
	return rep, nil
}

func (rep *Report) read(ctx context.Context, t Target, o Options) error {
	branch := o.Branch
	if branch == "" {
		r, _, err := t.Client.Repositories.Get(ctx, t.Owner, t.Repo)
		if err != nil {
			return fmt.Errorf("reading the repository: %s", ghapp.Reason(err))
		}
		branch = r.GetDefaultBranch()
	}
	opt := &github.CommitsListOptions{SHA: branch, Since: o.Since, Until: o.Until, ListOptions: github.ListOptions{PerPage: 100}}
	full := t.Owner + "/" + t.Repo
	for {
		commits, resp, err := t.Client.Repositories.ListCommits(ctx, t.Owner, t.Repo, opt)
		if err != nil {
			return fmt.Errorf("listing the commits of %s: %s", branch, ghapp.Reason(err))
		}
		for _, c := range commits {
			rep.Commits++
			run, err := latestRecord(ctx, t, c.GetSHA(), o.AppID)
			if err != nil {
				return fmt.Errorf("reading the landing record of %.7s: %s", c.GetSHA(), ghapp.Reason(err))
			}
			if run != nil {
				rep.Records++
				rep.add(full, c, run)
			}
			if o.Progress != nil {
				o.Progress(full, rep.Commits, rep.Records)
			}
		}
		if resp.NextPage == 0 {
			return nil
		}
		opt.Page = resp.NextPage
	}
}

func latestRecord(ctx context.Context, t Target, sha string, appID int64) (*github.CheckRun, error) {
	opt := &github.ListCheckRunsOptions{CheckName: github.String(checks.LandingCheckName), ListOptions: github.ListOptions{PerPage: 100}}
	if appID != 0 {
		opt.AppID = github.Int64(appID)
	}
	res, _, err := t.Client.Checks.ListCheckRunsForRef(ctx, t.Owner, t.Repo, sha, opt)
	if err != nil {
		return nil, err
	}
	var found *github.CheckRun
	for _, cr := range res.CheckRuns {
		if cr.GetName() != checks.LandingCheckName || cr.GetHeadSHA() != sha || cr.GetStatus() != "completed" {
			continue
		}
		if appID != 0 && cr.GetApp().GetID() != 0 && cr.GetApp().GetID() != appID {
			continue
		}
		if found == nil || cr.GetID() > found.GetID() {
			found = cr
		}
	}
	return found, nil
}

func (rep *Report) add(repo string, c *github.RepositoryCommit, run *github.CheckRun) {
	date := c.GetCommit().GetCommitter().GetDate().Time
	base := Row{Repo: repo, Head: run.GetHeadSHA(), Date: date.UTC(), Agents: []string{}}
	l, err := checks.ParseLandingText(run.GetOutput().GetText())
	if err != nil {
		r := base
		r.Commit, r.Verdict, r.Why = run.GetHeadSHA(), VerdictUnaccounted, "the record cannot be read: "+err.Error()
		rep.Rows = append(rep.Rows, r)
		return
	}
	base.Branch, base.Policy = l.Branch, l.Policy.String()
	if l.Policy.SHA != "" {
		base.Policy += " @ " + short(l.Policy.SHA)
	}
	if len(l.Errors) > 0 {
		r := base
		r.Commit, r.Verdict, r.Why = l.After, VerdictUnaccounted, strings.Join(l.Errors, "; ")
		rep.Rows = append(rep.Rows, r)
	}
	for _, ch := range l.Changes {
		r := base
		if len(ch.Commits) > 0 {
			r.Commit = ch.Commits[len(ch.Commits)-1]
		}
		r.PR, r.Author, r.Agents, r.Operators, r.Approvers = ch.PR, ch.Author, append([]string{}, ch.Agents...), ch.Operators, ch.Approvers
		switch {
		case ch.Override != nil:
			who := "@" + ch.Override.Login
			if len(ch.Override.Logins) > 1 {
				who = "@" + strings.Join(ch.Override.Logins, ", @")
			}
			r.Verdict, r.Override = VerdictOverridden, who+": "+ch.Override.Reason
		case ch.NothingNeeded:
			r.Verdict = VerdictNothingNeeded
		default:
			r.Verdict = VerdictCountersigned
		}
		rep.Rows = append(rep.Rows, r)
	}
	for _, u := range l.Unaccounted {
		r := base
		r.Commit, r.PR, r.Author, r.Verdict, r.Why = u.SHA, u.PR, u.Author, VerdictUnsigned, u.Why
		if u.Agent != "" {
			r.Agents = []string{u.Agent}
		}
		if u.Operator != "" {
			r.Operators = []string{u.Operator}
		}
		rep.Rows = append(rep.Rows, r)
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Formats Write takes.
var Formats = []string{"csv", "json", "markdown"}

// Write renders the report in format (csv, json or markdown).
func (rep *Report) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"repo", "branch", "commit", "date", "head", "pr", "author", "agents", "operators", "approvers", "override", "verdict", "why", "policy"})
		for _, r := range rep.Rows {
			pr := ""
			if r.PR != 0 {
				pr = strconv.Itoa(r.PR)
			}
			_ = cw.Write([]string{r.Repo, r.Branch, r.Commit, r.Date.Format(time.RFC3339), r.Head, pr, r.Author,
				strings.Join(r.Agents, "; "), strings.Join(r.Operators, "; "), strings.Join(r.Approvers, "; "), r.Override, r.Verdict, r.Why, r.Policy})
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		var b strings.Builder
		b.WriteString("| date | repo | branch | commit | PR | agents | operators | approvers | verdict |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range rep.Rows {
			pr := "—"
			if r.PR != 0 {
				pr = "#" + strconv.Itoa(r.PR)
			}
			verdict := r.Verdict
			if r.Override != "" {
				verdict += " (" + r.Override + ")"
			}
			if r.Why != "" && r.Verdict != VerdictCountersigned {
				verdict += ": " + r.Why
			}
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %s | %s | %s | %s |\n", r.Date.Format("2006-01-02"), cell(r.Repo), cell(r.Branch), short(r.Commit), pr,
				cell(orDash(strings.Join(r.Agents, ", "))), cell(orDash(strings.Join(r.Operators, ", "))), cell(orDash(atAll(r.Approvers))), cell(verdict))
		}
		b.WriteString("\n**By agent**\n\n| agent | changes |\n|---|---|\n")
		for _, k := range sortedKeys(rep.ByAgent) {
			fmt.Fprintf(&b, "| %s | %d |\n", cell(k), rep.ByAgent[k])
		}
		b.WriteString("\n**By verdict**\n\n| verdict | changes |\n|---|---|\n")
		for _, k := range sortedKeys(rep.ByVerdict) {
			fmt.Fprintf(&b, "| %s | %d |\n", cell(k), rep.ByVerdict[k])
		}
		fmt.Fprintf(&b, "\n%d landing records over %d commits.\n", rep.Records, rep.Commits)
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("unknown format %q; use csv, json or markdown", format)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func atAll(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = "@" + l
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}
