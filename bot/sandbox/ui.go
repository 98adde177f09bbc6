package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

// asCookie remembers which simulated user the browser acts as.
const asCookie = "countersign_sandbox_as"

// settleWait bounds how long an action waits for the bot before the page is shown.
const settleWait = 15 * time.Second

func (sb *Sandbox) routes() {
	h := sb.Server.Handle
	h("GET /{$}", http.HandlerFunc(sb.home))
	h("GET /sandbox/{owner}/{repo}/pull/{number}", http.HandlerFunc(sb.prPageHandler))
	h("POST /sandbox/as", http.HandlerFunc(sb.setAs))
	h("POST /sandbox/{owner}/{repo}/pulls", sb.action(sb.doOpenPR))
	h("POST /sandbox/{owner}/{repo}/pull/{number}/review", sb.action(sb.doReview))
	h("POST /sandbox/{owner}/{repo}/pull/{number}/comment", sb.action(sb.doComment))
	h("POST /sandbox/{owner}/{repo}/pull/{number}/push", sb.action(sb.doPush))
	h("POST /sandbox/{owner}/{repo}/pull/{number}/requested-action", sb.action(sb.doRequestedAction))
	h("POST /sandbox/{owner}/{repo}/pull/{number}/rerun", sb.action(sb.doRerun))
}

func (sb *Sandbox) prPage(repo string, number int) string {
	return sb.url + "sandbox/" + repo + "/pull/" + strconv.Itoa(number)
}

// actionLog records what was done through the page, newest last.
type actionLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *actionLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, time.Now().Format("15:04:05")+"  "+s)
	if len(l.lines) > 200 {
		l.lines = l.lines[len(l.lines)-200:]
	}
}

func (l *actionLog) last(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []string{}
	for i := len(l.lines) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, l.lines[i])
	}
	return out
}

// actingAs is the simulated user of a request: the form's "as", else the cookie, else dave.
func actingAs(r *http.Request) Person {
	if p, ok := person(r.FormValue("as")); ok {
		return p
	}
	if c, err := r.Cookie(asCookie); err == nil {
		if p, ok := person(c.Value); ok {
			return p
		}
	}
	p, _ := person("dave")
	return p
}

func (sb *Sandbox) setAs(w http.ResponseWriter, r *http.Request) {
	p, ok := person(r.FormValue("as"))
	if !ok {
		sb.fail(w, http.StatusBadRequest, "unknown user "+strconv.Quote(r.FormValue("as")))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: asCookie, Value: p.Login, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	sb.redirect(w, r, r.FormValue("back"))
}

// redirect sends the browser back to a page of the sandbox (never elsewhere).
func (sb *Sandbox) redirect(w http.ResponseWriter, r *http.Request, to string) {
	if to == "" || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.Contains(to, "\\") {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// action wraps a form handler: it runs the simulator change (the simulator
// panics on impossible requests, which become a 400), waits for the bot to
// finish what the webhooks asked, and shows the page again.
func (sb *Sandbox) action(do func(r *http.Request, as Person) (string, string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			sb.fail(w, http.StatusBadRequest, "bad form: "+err.Error())
			return
		}
		as := actingAs(r)
		var (
			what, back string
			err        error
		)
		func() {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("%v", p)
				}
			}()
			what, back, err = do(r, as)
		}()
		if err != nil {
			status := http.StatusBadRequest
			var ref *refusal
			if errors.As(err, &ref) {
				status = ref.status
			}
			sb.fail(w, status, err.Error())
			return
		}
		sb.actions.add("@" + as.Login + " " + what)
		sb.log.Info("sandbox action", slog.String("as", as.Login), slog.String("what", what))
		ctx, cancel := context.WithTimeout(r.Context(), settleWait)
		defer cancel()
		_ = sb.Settle(ctx) // a page still in progress refreshes itself
		sb.redirect(w, r, back)
	})
}

// pr returns the repository and number of a request's pull request, which must be one the sandbox opened.
func (sb *Sandbox) pr(r *http.Request) (string, int, error) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || !sb.hasPR(repo, n) {
		return "", 0, fmt.Errorf("no pull request %s#%s in the sandbox", repo, r.PathValue("number"))
	}
	return repo, n, nil
}

// refusal is an action GitHub itself would refuse, with its status and message.
type refusal struct {
	status int
	msg    string
}

func (r *refusal) Error() string { return r.msg }

// canPush refuses a push by someone without write access, as git does
// against GitHub ("remote: Permission to OWNER/REPO.git denied to LOGIN.").
func canPush(repo string, as Person) error {
	if as.Permission != "write" && as.Permission != "maintain" && as.Permission != "admin" {
		return &refusal{http.StatusForbidden, fmt.Sprintf("Permission to %s.git denied to %s. (@%s has %s access; pushing a branch needs write)",
			repo, as.Login, as.Login, permissionText(as.Permission))}
	}
	return nil
}

func permissionText(p string) string {
	if p == "" {
		return "no"
	}
	return p
}

// checkPath refuses a file path that git and GitHub's contents API refuse
// (422 "path contains a malformed path component"): an absolute path, an
// empty, "." or ".." component, a ".git" component, a backslash or NUL.
func checkPath(path string) error {
	bad := path == "" || strings.HasPrefix(path, "/") || strings.ContainsAny(path, "\\\x00")
	for _, part := range strings.Split(path, "/") {
		switch strings.ToLower(part) {
		case "", ".", "..", ".git":
			bad = true
		}
	}
	if bad {
		return &refusal{http.StatusUnprocessableEntity, fmt.Sprintf("path contains a malformed path component: %q", path)}
	}
	return nil
}

func localPath(repo string, n int) string { return "/sandbox/" + repo + "/pull/" + strconv.Itoa(n) }

func (sb *Sandbox) doOpenPR(r *http.Request, as Person) (string, string, error) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if !strings.EqualFold(repo, seedRepo) {
		return "", "", fmt.Errorf("no repository %s in the sandbox", repo)
	}
	writer := r.FormValue("writer")
	switch writer {
	case WriterHuman, WriterClaude, WriterCopilot:
	default:
		return "", "", fmt.Errorf("writer must be human, claude or copilot, not %q", writer)
	}
	title := strings.TrimSpace(r.FormValue("title"))
	path := strings.TrimSpace(r.FormValue("path"))
	if title == "" || path == "" {
		return "", "", fmt.Errorf("a pull request needs a title and a file")
	}
	if err := canPush(repo, as); err != nil {
		return "", "", err
	}
	if err := checkPath(path); err != nil {
		return "", "", err
	}
	branch := strings.TrimSpace(r.FormValue("branch"))
	if branch == "" {
		branch = branchFor(writer, title) + "-" + strconv.FormatInt(time.Now().Unix()%100000, 10)
	}
	if sb.Sim.Head(repo, branch) != "" {
		return "", "", fmt.Errorf("branch %s already exists", branch)
	}
	n := sb.openPR(repo, writer, as, branch, title, r.FormValue("body"), title, map[string]string{path: r.FormValue("content")})
	return fmt.Sprintf("opened #%d %q (%s) changing %s", n, title, writerText(writer, as), path), localPath(repo, n), nil
}

func writerText(writer string, as Person) string {
	switch writer {
	case WriterClaude:
		return "written by Claude Code, run by @" + as.Login
	case WriterCopilot:
		return "written by Copilot, assigned by @" + as.Login
	}
	return "written by @" + as.Login
}

func (sb *Sandbox) doReview(r *http.Request, as Person) (string, string, error) {
	repo, n, err := sb.pr(r)
	if err != nil {
		return "", "", err
	}
	event := r.FormValue("event")
	switch event {
	case "APPROVE", "REQUEST_CHANGES", "COMMENT":
	default:
		return "", "", fmt.Errorf("review event must be APPROVE, REQUEST_CHANGES or COMMENT, not %q", event)
	}
	if author := sb.Sim.PR(repo, n).GetUser().GetLogin(); event != "COMMENT" && strings.EqualFold(author, as.Login) {
		// GitHub's API answers 422, and its page offers only "Comment".
		verb := "approve"
		if event == "REQUEST_CHANGES" {
			verb = "request changes on"
		}
		return "", "", &refusal{http.StatusUnprocessableEntity, "Review Can not " + verb + " your own pull request"}
	}
	body := r.FormValue("body")
	if body == "" && event != "APPROVE" {
		body = "See inline."
	}
	id := sb.Sim.SubmitReview(repo, n, as.Login, event, body)
	return fmt.Sprintf("reviewed #%d: %s (review %d)", n, strings.ToLower(strings.ReplaceAll(event, "_", " ")), id), localPath(repo, n), nil
}

func (sb *Sandbox) doComment(r *http.Request, as Person) (string, string, error) {
	repo, n, err := sb.pr(r)
	if err != nil {
		return "", "", err
	}
	body := strings.TrimSpace(r.FormValue("body"))
	if body == "" {
		return "", "", fmt.Errorf("the comment is empty")
	}
	sb.Sim.Comment(repo, n, as.Login, body)
	return fmt.Sprintf("commented on #%d: %q", n, clip(body, 60)), localPath(repo, n), nil
}

func (sb *Sandbox) doPush(r *http.Request, as Person) (string, string, error) {
	repo, n, err := sb.pr(r)
	if err != nil {
		return "", "", err
	}
	writer := r.FormValue("writer")
	switch writer {
	case WriterHuman, WriterClaude, WriterCopilot:
	default:
		return "", "", fmt.Errorf("writer must be human, claude or copilot, not %q", writer)
	}
	path := strings.TrimSpace(r.FormValue("path"))
	msg := strings.TrimSpace(r.FormValue("message"))
	if path == "" || msg == "" {
		return "", "", fmt.Errorf("a commit needs a file and a message")
	}
	if err := canPush(repo, as); err != nil {
		return "", "", err
	}
	if err := checkPath(path); err != nil {
		return "", "", err
	}
	branch := sb.Sim.PR(repo, n).GetHead().GetRef()
	sha := sb.Sim.Push(repo, branch, commitSpec(writer, as, msg, map[string]string{path: r.FormValue("content")}))
	return fmt.Sprintf("pushed %.7s to #%d (%s) changing %s", sha, n, writerText(writer, as), path), localPath(repo, n), nil
}

func (sb *Sandbox) doRequestedAction(r *http.Request, as Person) (string, string, error) {
	repo, n, err := sb.pr(r)
	if err != nil {
		return "", "", err
	}
	id, err := strconv.ParseInt(r.FormValue("check_run_id"), 10, 64)
	if err != nil {
		return "", "", fmt.Errorf("bad check run id")
	}
	ident := r.FormValue("identifier")
	sb.Sim.RequestAction(repo, id, as.Login, ident)
	return fmt.Sprintf("clicked the check's %q button on #%d", ident, n), localPath(repo, n), nil
}

func (sb *Sandbox) doRerun(r *http.Request, as Person) (string, string, error) {
	repo, n, err := sb.pr(r)
	if err != nil {
		return "", "", err
	}
	id, err := strconv.ParseInt(r.FormValue("check_run_id"), 10, 64)
	if err != nil {
		return "", "", fmt.Errorf("bad check run id")
	}
	if as.Permission != "write" && as.Permission != "maintain" && as.Permission != "admin" {
		// GitHub shows Re-run only to those who can write; its API answers 403.
		return "", "", &refusal{http.StatusForbidden, fmt.Sprintf("Must have push access to repository (@%s has %s access to %s)", as.Login, permissionText(as.Permission), repo)}
	}
	sb.Sim.RerequestCheckRun(repo, id, as.Login)
	return fmt.Sprintf("re-ran the check on #%d", n), localPath(repo, n), nil
}

// checkAction is a button a check run offers (GitHub's requested actions).
type checkAction struct{ Label, Description, Identifier string }

// checkActions returns the buttons the bot last set on a check run. GitHub's
// REST API does not return them, so they are read from what the bot sent.
func (sb *Sandbox) checkActions(id int64) []checkAction {
	var out []checkAction
	for _, c := range sb.Sim.Calls() {
		if c.Status >= 300 || (c.Route != "/repos/{owner}/{repo}/check-runs" && c.Route != "/repos/{owner}/{repo}/check-runs/{check_run_id}") ||
			(c.Method != http.MethodPost && c.Method != http.MethodPatch) {
			continue
		}
		var resp struct {
			ID int64 `json:"id"`
		}
		var req struct {
			Actions *[]checkAction `json:"actions"`
		}
		if json.Unmarshal(c.ResponseBody, &resp) != nil || resp.ID != id || json.Unmarshal(c.RequestBody, &req) != nil || req.Actions == nil {
			continue
		}
		out = *req.Actions
	}
	return out
}

// prView is one pull request as the pages show it.
type prView struct {
	Repo, Title, Author, Branch, HeadSHA, Short, Body, State, Page string
	Number                                                         int
	Writer                                                         string
	Check                                                          *checkView
}

type checkView struct {
	ID                                                      int64
	Status, Conclusion, Title, Summary, DetailsURL, Display string
	Actions                                                 []checkAction
}

func (sb *Sandbox) view(repo string, n int, withActions bool) prView {
	pr := sb.Sim.PR(repo, n)
	v := prView{
		Repo: repo, Number: n, Title: pr.GetTitle(), Author: pr.GetUser().GetLogin(), Branch: pr.GetHead().GetRef(),
		HeadSHA: pr.GetHead().GetSHA(), Short: short(pr.GetHead().GetSHA()), Body: pr.GetBody(), State: pr.GetState(),
		Page: localPath(repo, n),
	}
	owner, name, _ := strings.Cut(repo, "/")
	if e, ok := sb.Store.Get(owner, name, n, v.HeadSHA); ok {
		switch {
		case e.Verdict.AgentAuthored:
			v.Writer = "agent: " + strings.Join(e.Verdict.Agents, ", ")
		case e.Verdict.PR != nil && e.Verdict.PR.Automation != "":
			v.Writer = "automation: " + e.Verdict.PR.Automation
		default:
			v.Writer = "human"
		}
	}
	if cr := sb.Sim.LatestCheckRun(repo, v.HeadSHA, checks.CheckName); cr != nil {
		v.Check = checkViewOf(cr)
		if withActions {
			v.Check.Actions = sb.checkActions(cr.GetID())
		}
	}
	return v
}

func checkViewOf(cr *github.CheckRun) *checkView {
	c := &checkView{
		ID: cr.GetID(), Status: cr.GetStatus(), Conclusion: cr.GetConclusion(), Title: cr.GetOutput().GetTitle(),
		Summary: cr.GetOutput().GetSummary(), DetailsURL: cr.GetDetailsURL(),
	}
	c.Display = c.Status
	if c.Status == "completed" {
		c.Display = c.Conclusion
	}
	return c
}

type deliveryView struct{ At, Event, Sender, Target, Status string }

// deliveries returns the newest webhook deliveries, optionally those of one pull request.
func (sb *Sandbox) deliveries(repo string, number, max int) []deliveryView {
	all := sb.Sim.Deliveries()
	var out []deliveryView
	for i := len(all) - 1; i >= 0 && len(out) < max; i-- {
		d := all[i]
		var p struct {
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			Sender struct {
				Login string `json:"login"`
			} `json:"sender"`
			Number      int `json:"number"`
			PullRequest struct {
				Number int `json:"number"`
			} `json:"pull_request"`
			Issue struct {
				Number int `json:"number"`
			} `json:"issue"`
			CheckRun struct {
				PullRequests []struct {
					Number int `json:"number"`
				} `json:"pull_requests"`
			} `json:"check_run"`
		}
		_ = json.Unmarshal(d.Body, &p)
		num := max3(p.Number, p.PullRequest.Number, p.Issue.Number)
		if num == 0 && len(p.CheckRun.PullRequests) > 0 {
			num = p.CheckRun.PullRequests[0].Number
		}
		if repo != "" && (!strings.EqualFold(p.Repository.FullName, repo) || num != number) {
			continue
		}
		ev := d.Event
		if d.Action != "" {
			ev += "." + d.Action
		}
		target := p.Repository.FullName
		if num != 0 {
			target += "#" + strconv.Itoa(num)
		}
		status := "queued"
		switch {
		case d.Err != "":
			status = "failed"
		case d.Status != 0:
			status = strconv.Itoa(d.Status)
		}
		out = append(out, deliveryView{At: d.At.Local().Format("15:04:05"), Event: ev, Sender: p.Sender.Login, Target: target, Status: status})
	}
	return out
}

func max3(a, b, c int) int { return max(a, max(b, c)) }

type pageBase struct {
	As      Person
	People  []Person
	Back    string
	Pending bool
	Log     []string
}

func (sb *Sandbox) base(r *http.Request) pageBase {
	return pageBase{As: actingAs(r), People: People, Back: r.URL.Path, Log: sb.actions.last(8)}
}

func (sb *Sandbox) home(w http.ResponseWriter, r *http.Request) {
	data := struct {
		pageBase
		Repo       string
		PRs        []prView
		Deliveries []deliveryView
		Policy     string
		Teams      map[string][]string
	}{pageBase: sb.base(r), Repo: seedRepo, Policy: Policy}
	for _, p := range sb.pullRequests() {
		v := sb.view(p.repo, p.number, false)
		if v.Check == nil || v.Check.Status != "completed" {
			data.Pending = true
		}
		data.PRs = append(data.PRs, v)
	}
	sort.SliceStable(data.PRs, func(i, j int) bool { return data.PRs[i].Number > data.PRs[j].Number })
	data.Deliveries = sb.deliveries("", 0, 15)
	sb.render(w, "home", data)
}

func (sb *Sandbox) prPageHandler(w http.ResponseWriter, r *http.Request) {
	repo, n, err := sb.pr(r)
	if err != nil {
		sb.fail(w, http.StatusNotFound, err.Error())
		return
	}
	data := struct {
		pageBase
		PR                       prView
		Deliveries               []deliveryView
		Conversation             []entryView
		History                  []runView
		ReviewUsers, ReviewTeams []string
	}{pageBase: sb.base(r), PR: sb.view(repo, n, true), Deliveries: sb.deliveries(repo, n, 20)}
	var v *checks.Verdict
	owner, name, _ := strings.Cut(repo, "/")
	if e, ok := sb.Store.Get(owner, name, n, data.PR.HeadSHA); ok {
		v = e.Verdict
	}
	data.Conversation = sb.conversation(repo, n, v)
	data.History = sb.checkHistory(repo, data.PR.HeadSHA)
	users, teams := sb.Sim.RequestedReviewers(repo, n)
	data.ReviewUsers = users
	for _, t := range teams {
		if !strings.Contains(t, "/") {
			t = owner + "/" + t // GitHub lists a team by its slug
		}
		data.ReviewTeams = append(data.ReviewTeams, t)
	}
	data.Pending = data.PR.State == "open" && (data.PR.Check == nil || data.PR.Check.Status != "completed")
	sb.render(w, "pr", data)
}

func (sb *Sandbox) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		sb.log.Error("sandbox page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Write(buf.Bytes())
}

func (sb *Sandbox) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, "error", struct {
		Status  int
		Message string
	}{status, msg})
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
