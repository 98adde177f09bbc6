package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/countersign/countersign/bot/gitfacts"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// auditRow is one commit of an audit, as JSON prints it.
type auditRow struct {
	// SHA is the commit id.
	SHA string `json:"sha"`
	// Date is the commit (committer) date.
	Date time.Time `json:"date"`
	// AuthorName and AuthorEmail are the git author.
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
	// Subject is the first line of the message.
	Subject string `json:"subject"`
	// Class is human, agent or automation.
	Class detect.Class `json:"class"`
	// Agent is the agent id, or null.
	Agent *string `json:"agent"`
	// Automation is the automation bot id, or "".
	Automation string `json:"automation"`
	// Signal is the deciding signal, "kind: match", or "" for a human commit.
	Signal string `json:"signal"`
	// Signals are every signal found, strongest first; a human commit may
	// carry weak ones that did not decide (JSON only).
	Signals []detect.Signal `json:"signals"`
	// Via is, for a merge commit classified by a commit it merged, that commit's id.
	Via string `json:"via,omitempty"`
	// Merged counts the commits a merge commit brought in.
	Merged int `json:"merged,omitempty"`
	// Rules are the protected-path rules that apply to the commit's changes.
	Rules []string `json:"rules"`
	// Files counts the paths the commit changed against its first parent.
	Files int `json:"files"`
	// NeedsApproval is true when, under the policy, merging this commit would
	// have waited for an approval.
	NeedsApproval bool `json:"needs_approval"`
	// Boundary is true for the last commit of a shallow clone, whose changes are unknown.
	Boundary bool `json:"boundary,omitempty"`
}

// auditCount is a line of the summary.
type auditCount struct {
	// Key is the agent, automation bot or rule.
	Key string `json:"key"`
	// Commits counts commits; Share is Commits over all commits scanned.
	Commits int     `json:"commits"`
	Share   float64 `json:"share"`
}

// auditSummary sums an audit up.
type auditSummary struct {
	// Commits counts the commits scanned.
	Commits int `json:"commits"`
	// AgentCommits, AutomationCommits and HumanCommits split them by author class.
	AgentCommits      int `json:"agent_commits"`
	AutomationCommits int `json:"automation_commits"`
	HumanCommits      int `json:"human_commits"`
	// NeedsApproval counts commits that would have waited for an approval.
	NeedsApproval int `json:"needs_approval"`
	// ByAgent, ByAutomation and ByRule count commits per agent, bot and rule, most first.
	ByAgent      []auditCount `json:"by_agent"`
	ByAutomation []auditCount `json:"by_automation"`
	ByRule       []auditCount `json:"by_rule"`
}

// runAudit runs 'countersign audit': it backtests the policy over a branch's
// first-parent history, so maintainers can see what it would have asked for
// before they turn it on.
func runAudit(ctx context.Context, args []string, s streams) int {
	fs := newFlags(s, "audit",
		"audit [--repo DIR] [--branch REF] [--since DATE] [--config FILE] [--format table|json|csv]",
		"Walks the branch's first-parent history, newest first, and reports for each commit who wrote it",
		"(human, agent or automation, with the deciding signal) and which protected-path rules it touched,",
		"then a summary by agent and by rule. Exit status: 0 done, 2 error.",
	)
	repoDir := fs.String("repo", ".", "the git repository (any directory inside it)")
	branch := fs.String("branch", "", "the branch or revision whose first-parent history to walk (default: the default branch, else HEAD)")
	sinceFlag := fs.String("since", "", "stop at commits older than this: YYYY-MM-DD, an RFC 3339 time, or an age such as 90d, 12w, 1y")
	configFile := fs.String("config", "", "a policy file to use instead of .github/countersign.yml at the branch tip")
	format := fs.String("format", "table", "output format: table, json or csv")
	landing := fs.Bool("landing", false, "account for every commit as the countersign/landing record would, offline: merge and squash commits of pull requests, and commits that needed nothing; lists the unaccountable ones (table or json; exit 1 when any)")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(s.err, "countersign audit: %v\n", err)
		return exitError
	}
	switch *format {
	case "table", "json", "csv":
	default:
		return fail(fmt.Errorf("--format must be table, json or csv, not %q", *format))
	}
	since, err := parseAuditSince(*sinceFlag, time.Now())
	if err != nil {
		return fail(err)
	}
	repo, err := gitfacts.Open(*repoDir)
	if err != nil {
		return fail(err)
	}
	defer repo.Close()
	if *branch == "" {
		if *branch, err = repo.DefaultBranch(); err != nil {
			*branch = "HEAD"
		}
	}
	// Name an unknown branch as such before the policy lookup at it would
	// report it as a policy problem.
	head, err := repo.Resolve(*branch)
	if err != nil {
		return fail(fmt.Errorf("--branch %q: unknown branch or revision in %s (%v)", *branch, *repoDir, err))
	}
	var policy *config.Policy
	if *configFile != "" {
		policy, err = checkPolicyFile(*configFile)
	} else {
		policy, err = repo.PolicyAt(ctx, *branch)
	}
	if err != nil {
		return fail(fmt.Errorf("invalid policy: %w", err))
	}
	compiled, err := checks.Compile(policy)
	if err != nil {
		return fail(err)
	}

	if *landing {
		return auditLanding(ctx, repo, policy, *branch, head.String(), since, *format, s)
	}
	a := &auditor{
		judge:   compiled.CommitJudge(),
		byAgent: map[string]int{}, byBot: map[string]int{}, byRule: map[string]int{},
	}
	out := bufio.NewWriterSize(s.out, 64<<10)
	var w auditWriter
	switch *format {
	case "table":
		w = &tableAudit{w: out}
	case "csv":
		w = &csvAudit{w: csv.NewWriter(out)}
	case "json":
		w = &jsonAudit{w: out, head: auditHead{Branch: *branch, SHA: head.String(), Policy: policy.Source}}
		if !since.IsZero() {
			utc := since.UTC()
			w.(*jsonAudit).head.Since = &utc
		}
	}
	if err := w.begin(); err != nil {
		return fail(err)
	}

	progress := newAuditProgress(s.err)
	boundary := false
	err = repo.Walk(ctx, head.String(), since, func(c gitfacts.AuditCommit) error {
		row := a.row(c)
		boundary = boundary || c.Boundary
		progress.tick(a.sum.Commits)
		return w.commit(&row)
	})
	progress.done()
	if err != nil {
		out.Flush()
		return fail(err)
	}
	if err := w.end(a.summary()); err != nil {
		return fail(err)
	}
	if err := out.Flush(); err != nil {
		return fail(err)
	}
	if boundary {
		fmt.Fprintln(s.err, "countersign audit: the history ends at a shallow clone's boundary; fetch more history (git fetch --unshallow) to audit all of it")
	}
	return exitOK
}

// auditor keeps the counts of the commits the policy judges.
type auditor struct {
	judge   *checks.CommitJudge
	sum     auditSummary
	byAgent map[string]int
	byBot   map[string]int
	byRule  map[string]int
}

// row reports one commit as the policy judges it (checks.CommitJudge).
func (a *auditor) row(c gitfacts.AuditCommit) auditRow {
	j := a.judge.Judge(c.Commit, c.Merged, c.Changes)
	d, via := j.Detection, j.Via
	row := auditRow{
		Via: via, Merged: len(c.Merged),
		SHA: c.Commit.SHA, Date: c.CommitDate.UTC(),
		AuthorName: c.Commit.AuthorName, AuthorEmail: c.Commit.AuthorEmail,
		Subject: auditSubject(c.Commit.Message),
		Class:   d.Class, Automation: d.Automation,
		Files: len(c.Changes), Boundary: c.Boundary,
		Rules: j.Rules, NeedsApproval: j.NeedsApproval,
		Signals: d.Signals,
	}
	if row.Signals == nil {
		row.Signals = []detect.Signal{}
	}
	if row.Class == "" {
		row.Class = detect.ClassHuman
	}
	if d.IsAgent() {
		id := d.Agent
		row.Agent = &id
	}
	if d.Class != detect.ClassHuman && len(d.Signals) > 0 {
		s, _ := d.Deciding()
		row.Signal = s.Kind + ": " + s.Match
		if via != "" {
			row.Signal = "via " + via[:min(7, len(via))] + ": " + row.Signal
		}
	}

	a.sum.Commits++
	switch row.Class {
	case detect.ClassAgent:
		a.sum.AgentCommits++
		a.byAgent[d.Agent]++
	case detect.ClassAutomation:
		a.sum.AutomationCommits++
		a.byBot[d.Automation]++
	default:
		a.sum.HumanCommits++
	}
	if row.NeedsApproval {
		a.sum.NeedsApproval++
	}
	for _, r := range row.Rules {
		a.byRule[r]++
	}
	return row
}

// summary returns the totals, each list sorted by count, then key.
func (a *auditor) summary() auditSummary {
	s := a.sum
	s.ByAgent = auditCounts(a.byAgent, s.Commits)
	s.ByAutomation = auditCounts(a.byBot, s.Commits)
	s.ByRule = auditCounts(a.byRule, s.Commits)
	return s
}

func auditCounts(m map[string]int, total int) []auditCount {
	out := make([]auditCount, 0, len(m))
	for k, n := range m {
		out = append(out, auditCount{Key: k, Commits: n, Share: auditShare(n, total)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Commits != out[j].Commits {
			return out[i].Commits > out[j].Commits
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func auditShare(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// auditSubject returns the first line of a commit message.
func auditSubject(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

var auditAgeRe = regexp.MustCompile(`^(\d+)([dwy])$`)

// parseAuditSince reads --since: YYYY-MM-DD (midnight UTC), RFC 3339, or an age
// in days, weeks or years before now.
func parseAuditSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if m := auditAgeRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "d":
			return now.AddDate(0, 0, -n), nil
		case "w":
			return now.AddDate(0, 0, -7*n), nil
		case "y":
			return now.AddDate(-n, 0, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: use YYYY-MM-DD, an RFC 3339 time such as 2025-01-31T12:00:00Z, or an age such as 90d, 12w or 1y", s)
}

// auditWriter prints an audit in one format, streaming the commits.
type auditWriter interface {
	begin() error
	commit(r *auditRow) error
	end(s auditSummary) error
}

// tableAudit prints aligned columns for a terminal.
type tableAudit struct{ w *bufio.Writer }

const auditTableRow = "%-12s %-10s %-22s %-16s %-34s %s\n"

func (t *tableAudit) begin() error {
	_, err := fmt.Fprintf(t.w, auditTableRow, "COMMIT", "DATE", "AUTHOR", "AGENT", "SIGNAL", "RULES")
	return err
}

func (t *tableAudit) commit(r *auditRow) error {
	who := "-"
	switch {
	case r.Agent != nil:
		who = *r.Agent
	case r.Automation != "":
		who = "bot:" + r.Automation
	}
	rules := "-"
	if len(r.Rules) > 0 {
		rules = strings.Join(r.Rules, ",")
	}
	if r.Boundary {
		rules = "(shallow boundary: changes unknown)"
	}
	_, err := fmt.Fprintf(t.w, auditTableRow, r.SHA[:min(12, len(r.SHA))], r.Date.UTC().Format("2006-01-02"),
		auditClip(r.AuthorName, 22), auditClip(who, 16), auditClip(checkOrDash(r.Signal), 34), rules)
	return err
}

func (t *tableAudit) end(s auditSummary) error {
	w := t.w
	fmt.Fprintf(w, "\n%d commits: %d by agents (%s), %d by automation (%s), %d by humans; %d would have needed an approval (%s)\n",
		s.Commits, s.AgentCommits, auditPct(s.AgentCommits, s.Commits), s.AutomationCommits, auditPct(s.AutomationCommits, s.Commits),
		s.HumanCommits, s.NeedsApproval, auditPct(s.NeedsApproval, s.Commits))
	section := func(title string, cs []auditCount) {
		fmt.Fprintf(w, "\n%-28s %8s %7s\n", title, "COMMITS", "SHARE")
		if len(cs) == 0 {
			fmt.Fprintf(w, "%-28s %8s %7s\n", "(none)", "", "")
		}
		for _, c := range cs {
			fmt.Fprintf(w, "%-28s %8d %7s\n", auditClip(c.Key, 28), c.Commits, auditPct(c.Commits, s.Commits))
		}
	}
	section("AGENT", s.ByAgent)
	section("AUTOMATION", s.ByAutomation)
	section("RULE", s.ByRule)
	return nil
}

func auditPct(n, total int) string {
	return strconv.FormatFloat(100*auditShare(n, total), 'f', 1, 64) + "%"
}

func auditClip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// csvAudit prints one row per commit, then, after a blank line, a summary
// table of its own (record,key,commits,share).
type csvAudit struct{ w *csv.Writer }

func (c *csvAudit) begin() error {
	return c.w.Write([]string{"sha", "date", "author_name", "author_email", "class", "agent", "automation", "signal", "rules", "files", "needs_approval"})
}

func (c *csvAudit) commit(r *auditRow) error {
	agent := ""
	if r.Agent != nil {
		agent = *r.Agent
	}
	return c.w.Write([]string{r.SHA, r.Date.UTC().Format(time.RFC3339), r.AuthorName, r.AuthorEmail, string(r.Class),
		agent, r.Automation, r.Signal, strings.Join(r.Rules, ";"), strconv.Itoa(r.Files), strconv.FormatBool(r.NeedsApproval)})
}

func (c *csvAudit) end(s auditSummary) error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	// A blank line separates the two tables.
	if err := c.w.Write(nil); err != nil {
		return err
	}
	rows := [][]string{{"record", "key", "commits", "share"}}
	add := func(record, key string, n int) {
		rows = append(rows, []string{record, key, strconv.Itoa(n), strconv.FormatFloat(auditShare(n, s.Commits), 'f', 4, 64)})
	}
	add("total", "", s.Commits)
	add("class", string(detect.ClassAgent), s.AgentCommits)
	add("class", string(detect.ClassAutomation), s.AutomationCommits)
	add("class", string(detect.ClassHuman), s.HumanCommits)
	add("needs_approval", "", s.NeedsApproval)
	for _, x := range s.ByAgent {
		add("agent", x.Key, x.Commits)
	}
	for _, x := range s.ByAutomation {
		add("automation", x.Key, x.Commits)
	}
	for _, x := range s.ByRule {
		add("rule", x.Key, x.Commits)
	}
	if err := c.w.WriteAll(rows); err != nil {
		return err
	}
	return c.w.Error()
}

// auditHead is what the JSON output says of the audit itself.
type auditHead struct {
	Branch string        `json:"branch"`
	SHA    string        `json:"sha"`
	Since  *time.Time    `json:"since,omitempty"`
	Policy config.Source `json:"policy"`
}

// jsonAudit prints one JSON object: the head fields, "commits" (streamed)
// and "summary".
type jsonAudit struct {
	w     *bufio.Writer
	head  auditHead
	first bool
}

func (j *jsonAudit) begin() error {
	b, err := marshalJSON(j.head, false)
	if err != nil {
		return err
	}
	// Open the object with the head's fields, then the commits array.
	j.w.Write(b[:len(b)-1])
	j.w.WriteString(",\n\"commits\": [")
	j.first = true
	return nil
}

func (j *jsonAudit) commit(r *auditRow) error {
	b, err := marshalJSON(r, false)
	if err != nil {
		return err
	}
	if !j.first {
		j.w.WriteByte(',')
	}
	j.first = false
	j.w.WriteString("\n  ")
	_, err = j.w.Write(b)
	return err
}

func (j *jsonAudit) end(s auditSummary) error {
	b, err := marshalJSON(s, true)
	if err != nil {
		return err
	}
	j.w.WriteString("\n],\n\"summary\": ")
	j.w.Write(b)
	_, err = j.w.WriteString("}\n")
	return err
}

// auditProgress reports how far a long walk has come, on a terminal only.
type auditProgress struct {
	w    io.Writer
	on   bool
	last time.Time
	n    int
}

func newAuditProgress(w io.Writer) *auditProgress {
	p := &auditProgress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
		p.last = time.Now()
	}
	return p
}

func (p *auditProgress) tick(n int) {
	p.n = n
	if !p.on || n%1000 != 0 {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.w, "\rscanned %s commits…", auditThousands(n))
	}
}

func (p *auditProgress) done() {
	if p.on && p.n >= 1000 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 40))
	}
}

// auditThousands formats n with comma separators: 12,000.
func auditThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// marshalJSON is json.Marshal (indented with two spaces when indent is set)
// without escaping "<", ">" and "&" for HTML: the output is read by scripts
// and people, and a trailer such as "Claude <noreply@anthropic.com>" should
// read as written.
func marshalJSON(v any, indent bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// auditLanding is 'countersign audit --landing': checks.AccountLocal over the
// branch's first-parent history, as the record or its JSON.
func auditLanding(ctx context.Context, repo *gitfacts.Repo, policy *config.Policy, branch, head string, since time.Time, format string, s streams) int {
	if format == "csv" {
		fmt.Fprintln(s.err, "countersign audit: --landing prints table (Markdown) or json, not csv")
		return exitError
	}
	var commits []checks.LandedCommit
	progress := newAuditProgress(s.err)
	boundary := false
	err := repo.Walk(ctx, head, since, func(c gitfacts.AuditCommit) error {
		lc := checks.LandedCommit{Commit: c.Commit}
		for _, ch := range c.Changes {
			lc.Files = append(lc.Files, checks.File{Path: ch.Path, Status: ch.Status})
		}
		commits = append(commits, lc)
		boundary = boundary || c.Boundary
		progress.tick(len(commits))
		return nil
	})
	progress.done()
	if err != nil {
		fmt.Fprintf(s.err, "countersign audit: %v\n", err)
		return exitError
	}
	slices.Reverse(commits) // oldest first
	l := checks.AccountLocal(policy, "", branch, head, commits)
	if format == "json" {
		b, err := json.MarshalIndent(l, "", "  ")
		if err != nil {
			fmt.Fprintf(s.err, "countersign audit: %v\n", err)
			return exitError
		}
		fmt.Fprintln(s.out, string(b))
	} else {
		fmt.Fprint(s.out, l.Markdown())
	}
	if boundary {
		fmt.Fprintln(s.err, "countersign audit: the history ends at a shallow clone's boundary; fetch more history (git fetch --unshallow) to audit all of it")
	}
	if l.Conclusion != checks.Success {
		return exitRequired
	}
	return exitOK
}
