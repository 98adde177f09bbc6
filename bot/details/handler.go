package details

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
)

// Pattern is the route the handler serves, for http.ServeMux.
const Pattern = "GET /details/{owner}/{repo}/{number}/{head_sha}"

// Options configures the details page.
type Options struct {
	// Signer checks the ?token=; required.
	Signer *Signer
	// Store holds the published verdicts (a Store, or a RedisStore shared
	// by the replicas); required.
	Store Verdicts
	// PRURL gives a pull request's web address; nil means github.com's.
	PRURL func(owner, repo string, number int) string
	// Logger receives a debug record for refused requests; nil means slog.Default().
	Logger *slog.Logger
}

// WebURL turns a REST API base URL into the web base the pull request pages
// live under: https://api.github.com/ → https://github.com/, and GitHub
// Enterprise Server's https://HOST/api/v3/ → https://HOST/.
func WebURL(apiBase string) string {
	u := strings.TrimSuffix(apiBase, "/")
	switch {
	case u == "https://api.github.com":
		return "https://github.com/"
	case strings.HasSuffix(u, "/api/v3"):
		return strings.TrimSuffix(u, "api/v3")
	}
	return u + "/"
}

// PRURLUnder returns a PRURL function for pull requests under a web base such as https://github.com/.
func PRURLUnder(web string) func(owner, repo string, number int) string {
	web = strings.TrimSuffix(web, "/") + "/"
	return func(owner, repo string, number int) string {
		return web + owner + "/" + repo + "/pull/" + strconv.Itoa(number)
	}
}

var (
	namePat = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	shaPat  = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// Handler serves GET /details/{owner}/{repo}/{number}/{head_sha}?token=….
// A request without the right token, or with a malformed path, is answered
// 404 exactly as an unknown path is, so it reveals nothing.
func Handler(o Options) http.Handler {
	if o.Signer == nil || o.Store == nil {
		panic("details: Handler needs a Signer and a Store")
	}
	if o.PRURL == nil {
		o.PRURL = PRURLUnder("https://github.com/")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &handler{o: o}
}

type handler struct{ o Options }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	owner, repo, head := r.PathValue("owner"), r.PathValue("repo"), r.PathValue("head_sha")
	number, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || number <= 0 || strconv.Itoa(number) != r.PathValue("number") ||
		!namePat.MatchString(owner) || !namePat.MatchString(repo) || !shaPat.MatchString(head) ||
		!h.o.Signer.Valid(owner, repo, number, head, r.URL.Query().Get("token")) {
		h.o.Logger.Debug("details page refused", slog.String("path", r.URL.Path))
		http.NotFound(w, r)
		return
	}
	page := pageData{
		Repo: owner + "/" + repo, Number: number, HeadSHA: head, Short: shortSHA(head),
		PRURL: h.o.PRURL(owner, repo, number),
	}
	if e, ok := h.o.Store.Get(owner, repo, number, head); ok {
		page.Known = true
		page.At = e.At.UTC().Format(time.RFC1123)
		page.fill(e.Verdict)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, page); err != nil {
		h.o.Logger.Error("rendering the details page", slog.Any("error", err))
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// The token is in the URL: no Referer carries it to the pull request's site.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	hd.Set("X-Frame-Options", "DENY")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// pageData is what the template shows.
type pageData struct {
	Repo       string
	Number     int
	HeadSHA    string
	Short      string
	PRURL      string
	Known      bool
	At         string
	Conclusion string
	Title      string
	Errors     []string
	Override   *overrideRow
	AgentText  string
	Operators  []string
	PR         *authorRow
	Commits    []authorRow
	Reqs       []reqRow
	Blocking   []checks.Block
	Excluded   []exclusionRow
	Protected  []ruleFiles
	Policy     string
	PolicySHA  string
}

type overrideRow struct{ Login, Reason, Commit string }

type authorRow struct {
	SHA, Subject, Class, Who, Operator string
	Signals                            []string
}

type reqRow struct {
	Name, Reason, Who string
	Needed, Have      int
	Met               bool
	SatisfiedBy       []string
	Files, Uncovered  []string
	UncoveredLabel    string
}

type exclusionRow struct{ Login, What, Reason, Why, Detail string }

type ruleFiles struct {
	Rule  string
	Files []string
}

func (p *pageData) fill(v *checks.Verdict) {
	p.Conclusion = string(v.Conclusion)
	p.Title = v.Title
	p.Errors = v.Errors
	if o := v.Override; o != nil {
		p.Override = &overrideRow{Login: o.Login, Reason: o.Reason, Commit: shortSHA(o.CommitSHA)}
	}
	if v.AgentAuthored {
		p.AgentText = "Agent-authored: " + strings.Join(v.Agents, ", ")
	} else if v.PR != nil || len(v.Commits) > 0 {
		p.AgentText = "No agent found"
	}
	for _, o := range v.Operators {
		p.Operators = append(p.Operators, o.String())
	}
	if d := v.PR; d != nil {
		row := authorRow{Class: string(d.Class), Who: detect.ClassLabel(d.Class, d.Agent, d.Automation), Signals: signals(d.Signals)}
		if d.Operator != nil {
			row.Operator = d.Operator.String()
		}
		p.PR = &row
	}
	for _, c := range v.Commits {
		row := authorRow{SHA: shortSHA(c.SHA), Subject: c.Subject, Class: "human", Who: "human", Signals: signals(c.Signals)}
		switch {
		case c.Agent != nil:
			row.Class, row.Who = "agent", "agent "+*c.Agent
		case c.Automation != "":
			row.Class, row.Who = "automation", "automation "+c.Automation
		}
		if c.Operator != nil {
			row.Operator = c.Operator.String()
		}
		p.Commits = append(p.Commits, row)
	}
	// While people are unresolved a file needs one more of its owners per
	// person, so a file may wait with an owner's approval already.
	uncovered := "No code owner yet"
	if n := len(v.UnresolvedOperators) + len(v.UnresolvedAuthors); n > 0 {
		uncovered = fmt.Sprintf("Fewer than %d code owners yet", n+1)
	}
	for _, r := range v.Requirements {
		p.Reqs = append(p.Reqs, reqRow{
			Name: r.Name, Reason: r.Reason, Who: r.Eligible.String(), Needed: r.Needed, Have: r.Have, Met: r.Met,
			SatisfiedBy: r.SatisfiedBy, Files: r.Files, Uncovered: r.Uncovered, UncoveredLabel: uncovered,
		})
	}
	p.Blocking = v.Blocking
	for _, x := range v.Excluded {
		what := x.Source
		if x.ID != 0 {
			what += fmt.Sprintf(" #%d", x.ID)
		}
		p.Excluded = append(p.Excluded, exclusionRow{Login: x.Login, What: what, Reason: x.Reason, Why: reasonText(x.Reason), Detail: x.Detail})
	}
	for _, f := range v.ProtectedFiles {
		line := f.Path
		if f.PreviousPath != "" && f.PreviousPath != f.Path {
			line = f.PreviousPath + " → " + f.Path
		}
		if f.Deleted {
			if f.Status == checks.StatusRemoved {
				line += " (deleted)"
			} else {
				line += " (moved out of the rule's paths)"
			}
		}
		if n := len(p.Protected); n > 0 && p.Protected[n-1].Rule == f.Rule {
			p.Protected[n-1].Files = append(p.Protected[n-1].Files, line)
		} else {
			p.Protected = append(p.Protected, ruleFiles{Rule: f.Rule, Files: []string{line}})
		}
	}
	p.Policy, p.PolicySHA = v.Policy.String(), v.Policy.SHA
}

// reasonText explains an exclusion reason in words.
func reasonText(reason string) string {
	switch reason {
	case checks.ExcludedBot:
		return "bots do not count; only humans do"
	case checks.ExcludedAIReview:
		return "AI review, not counted"
	case checks.ExcludedAuthor:
		return "opened the pull request"
	case checks.ExcludedCommitter:
		return "wrote commits in it"
	case checks.ExcludedOperator:
		return "ran the agent that wrote it"
	case checks.ExcludedStale:
		return "approved an earlier head"
	case checks.ExcludedPermission:
		return "repository permission below the minimum"
	case checks.ExcludedNotMember:
		return "not one of the named approvers"
	case checks.ExcludedUnknown:
		return "their permission could not be read"
	case checks.ExcludedSuperseded:
		return "replaced by their later review"
	case checks.ExcludedCommentOff:
		return "/countersign approve is not enabled"
	case checks.ExcludedNoReason:
		return "an override needs a reason"
	case checks.ExcludedNotAllowed:
		return "not allowed to override"
	case checks.ExcludedDismissed:
		return "the review was dismissed"
	case checks.ExcludedUnconfirmed:
		return "waits for another overrider: someone who took part is unmatched"
	}
	return reason
}

func signals(sigs []detect.Signal) []string {
	out := make([]string, 0, len(sigs))
	for _, s := range sigs {
		out = append(out, fmt.Sprintf("%s: %s (%s)", s.Kind, clip(s.Match, 80), s.Strength))
	}
	return out
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
