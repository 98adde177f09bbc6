package checks

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// LandingCheckName is the name of the check run that records what landed on a
// protected branch. Users and auditors read it, so it never changes.
const LandingCheckName = "countersign/landing"

// BypassLabel labels the issue Countersign opens for a push that landed a
// change without countersignature.
const BypassLabel = "countersign:bypass"

// ProtectedBranch reports whether pushes to branch get a landing record: the
// repository's default branch always does, others when they match one of the
// policy's landing.branches globs. A nil policy protects the default branch.
func ProtectedBranch(p *config.Policy, branch, defaultBranch string) bool {
	if branch == "" {
		return false
	}
	if branch == defaultBranch {
		return true
	}
	if p == nil {
		return false
	}
	return matchAny(p.Landing.Branches, branch)
}

// JudgedEnvironment reports whether the deploy gate judges deployments to
// environment: whether it matches one of the policy's deployments.environments globs.
func JudgedEnvironment(p *config.Policy, environment string) bool {
	return p != nil && environment != "" && matchAny(p.Deployments.Environments, environment)
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, err := doublestar.Match(g, name); err == nil && ok {
			return true
		}
	}
	return false
}

// Push is the facts of one push to a protected branch.
type Push struct {
	// Repo is "owner/name"; Branch the pushed branch.
	Repo, Branch string
	// Before and After are the branch's commit before and after the push.
	Before, After string
	// Pusher is the push's pusher (a login, or a name for a deploy key);
	// Sender the login of the account GitHub says sent it.
	Pusher, Sender string
	// Commits are the commits new to the branch, oldest first.
	Commits []LandedCommit
	// PRs are the merged pull requests that introduced some of the commits, by number.
	PRs map[int]*MergedPR
	// Incomplete, when not empty, says why the facts could not all be
	// gathered; the record then fails (never passes).
	Incomplete string
}

// LandedCommit is a commit new to a protected branch.
type LandedCommit struct {
	// Commit is what detection reads of it.
	Commit detect.Commit
	// Files are the files it changed against its first parent.
	Files []File
	// PR is the number of the merged pull request that introduced it, 0 for none.
	PR int
}

// MergedPR is a merged pull request that introduced commits.
type MergedPR struct {
	// PullRequest is what detection reads of it.
	detect.PullRequest
	// HeadSHA is the head that was merged.
	HeadSHA string
	// URL is its web address.
	URL string
	// MergedBy is who merged it, when known.
	MergedBy string
	// Check is the latest countersign check run on HeadSHA; nil when there is none.
	Check *CheckResult
}

// CheckResult is a countersign check run as GitHub lists it.
type CheckResult struct {
	// HeadSHA is the commit it is on.
	HeadSHA string `json:"head_sha"`
	// Status is queued, in_progress or completed; Conclusion is set when completed.
	Status     string `json:"status"`
	Conclusion string `json:"conclusion"`
	// Title is its output title.
	Title string `json:"title"`
	// Summary is its output summary (the verdict's Markdown).
	Summary string `json:"-"`
}

// Landing is the record of one push to a protected branch.
type Landing struct {
	// Conclusion is success (every commit accounted for) or failure.
	Conclusion Conclusion `json:"conclusion"`
	// Title is one line: what landed, or what landed without countersignature.
	Title string `json:"title"`
	// Repo, Branch, Before and After identify the push.
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	Before string `json:"before,omitempty"`
	After  string `json:"after"`
	// Pusher and Sender are who pushed.
	Pusher string `json:"pusher,omitempty"`
	Sender string `json:"sender,omitempty"`
	// Changes are the accounted-for changes: merged pull requests and
	// direct commits that needed nothing.
	Changes []LandedChange `json:"changes"`
	// Unaccounted are the commits that landed without countersignature.
	Unaccounted []UnaccountedCommit `json:"unaccounted"`
	// Errors say why the push could not be accounted for.
	Errors []string `json:"errors,omitempty"`
	// Policy says which policy applied.
	Policy config.Source `json:"policy"`
}

// LandedChange is one accounted-for change.
type LandedChange struct {
	// PR is the pull request number, 0 for a direct commit.
	PR int `json:"pr,omitempty"`
	// URL is the pull request's web address.
	URL string `json:"url,omitempty"`
	// Commits are the commits of this push it brought, oldest first.
	Commits []string `json:"commits"`
	// Author is who opened the pull request, or the commit's author.
	Author string `json:"author,omitempty"`
	// Agents are the display names of the agents that wrote it.
	Agents []string `json:"agents"`
	// Operators are the humans who delegated it to the agents.
	Operators []string `json:"operators,omitempty"`
	// Approvers are the logins whose approvals countersigned it.
	Approvers []string `json:"approvers,omitempty"`
	// Override is set when an audited override stood in for the approvals.
	Override *LandedOverride `json:"override,omitempty"`
	// NothingNeeded is true for a change the policy asks no approval of.
	NothingNeeded bool `json:"nothing_needed,omitempty"`
	// Check is the countersign check title it was merged with.
	Check string `json:"check,omitempty"`
}

// LandedOverride is an override that stood in for a countersignature.
type LandedOverride struct {
	// Login is who overrode; Reason what they gave.
	Login  string `json:"login"`
	Reason string `json:"reason"`
	// Logins, when the override took several people (someone who took
	// part was unmatched), lists them all, Login first.
	Logins []string `json:"logins,omitempty"`
}

// UnaccountedCommit is a commit that landed without countersignature.
type UnaccountedCommit struct {
	// SHA and Subject identify it.
	SHA     string `json:"sha"`
	Subject string `json:"subject,omitempty"`
	// Author is the commit's author.
	Author string `json:"author"`
	// Agent is the display name of the agent that wrote it, if any.
	Agent string `json:"agent,omitempty"`
	// Operator is the human who delegated it, if known.
	Operator string `json:"operator,omitempty"`
	// ProtectedFiles are the protected paths it changed.
	ProtectedFiles []string `json:"protected_files,omitempty"`
	// PR is the pull request it came through, 0 for a direct push.
	PR int `json:"pr,omitempty"`
	// Why says what was missing.
	Why string `json:"why"`
}

// Account judges every commit of a push to a protected branch. A commit is
// accounted for when it came through a merged pull request whose countersign
// check was success on the head that was merged (an approval or an audited
// override), or when, judged on its own, it needs no approval under the policy
// (a human change touching no protected path). Anything else landed without
// countersignature. Missing facts or a missing policy give a failure, never a
// success. Account is pure.
func Account(p *config.Policy, push *Push) *Landing {
	l := &Landing{Changes: []LandedChange{}, Unaccounted: []UnaccountedCommit{}}
	if push == nil {
		l.Conclusion, l.Title, l.Errors = Failure, "Could not account for this push: no facts were gathered", []string{"no facts were gathered"}
		return l
	}
	l.Repo, l.Branch, l.Before, l.After, l.Pusher, l.Sender = push.Repo, push.Branch, push.Before, push.After, push.Pusher, push.Sender
	switch {
	case p == nil:
		return l.cannot("no policy")
	case push.Incomplete != "":
		l.Policy = p.Source
		return l.cannot(push.Incomplete)
	case push.After == "":
		l.Policy = p.Source
		return l.cannot("the pushed commit is unknown")
	}
	l.Policy = p.Source
	cp, err := Compile(p)
	if err != nil {
		return l.cannot(err.Error())
	}
	names := catalogueNames(cp)
	byPR := map[int][]LandedCommit{}
	var prOrder []int
	for _, c := range push.Commits {
		if c.PR != 0 {
			if _, ok := push.PRs[c.PR]; !ok {
				return l.cannot(fmt.Sprintf("commit %s came through #%d, whose facts are missing", shortSHA(c.Commit.SHA), c.PR))
			}
			if _, seen := byPR[c.PR]; !seen {
				prOrder = append(prOrder, c.PR)
			}
			byPR[c.PR] = append(byPR[c.PR], c)
			continue
		}
		l.judgeAlone(cp, push, c, names, "pushed directly, not through a pull request")
	}
	for _, n := range prOrder {
		pr, commits := push.PRs[n], byPR[n]
		v := cp.Evaluate(prFacts(push, pr, commits))
		ch := LandedChange{PR: n, URL: pr.URL, Author: pr.AuthorLogin, Agents: agentNames(v, names), Operators: operatorNames(v)}
		if pr.Check != nil {
			// The check judged the pull request's own commits, which a
			// squash or rebase merge does not land: its operators are the
			// ones that counted.
			if ops := SummaryOperators(pr.Check.Summary); len(ops) > 0 {
				ch.Operators = ops
			}
		}
		for _, c := range commits {
			ch.Commits = append(ch.Commits, c.Commit.SHA)
		}
		why := mergedWhy(pr)
		if why == "" {
			ch.Check = pr.Check.Title
			approvers, override, nothing := ParseCheckTitle(pr.Check.Title)
			ch.Approvers, ch.Override, ch.NothingNeeded = approvers, override, nothing
			l.Changes = append(l.Changes, ch)
			continue
		}
		for _, c := range commits {
			cv := cp.Evaluate(&Facts{
				Repo:    push.Repo,
				PR:      PullRequest{PullRequest: pr.PullRequest, HeadSHA: c.Commit.SHA},
				Commits: []detect.Commit{c.Commit},
				Files:   c.Files,
			})
			u := unaccounted(c, cv, names, n, why)
			if u.Agent == "" && len(ch.Agents) > 0 {
				u.Agent = strings.Join(ch.Agents, ", ")
			}
			if u.Operator == "" && len(ch.Operators) > 0 {
				u.Operator = strings.Join(ch.Operators, ", ")
			}
			l.Unaccounted = append(l.Unaccounted, u)
		}
	}
	l.conclude()
	return l
}

// judgeAlone records a commit that came through no pull request: needed
// nothing under the policy, or unaccounted with why and what it needed.
func (l *Landing) judgeAlone(cp *Compiled, push *Push, c LandedCommit, names map[string]string, why string) {
	v := cp.Evaluate(&Facts{
		Repo:    push.Repo,
		PR:      PullRequest{PullRequest: detect.PullRequest{AuthorLogin: pusherLogin(push), HeadRef: push.Branch}, HeadSHA: c.Commit.SHA},
		Commits: []detect.Commit{c.Commit},
		Files:   c.Files,
	})
	if v.Conclusion == Success && !v.AgentAuthored && len(v.Requirements) == 0 {
		l.Changes = append(l.Changes, LandedChange{
			Commits: []string{c.Commit.SHA}, Author: commitAuthor(c.Commit), Agents: []string{}, NothingNeeded: true,
		})
		return
	}
	l.Unaccounted = append(l.Unaccounted, unaccounted(c, v, names, 0, directWhy(why, v)))
}

var (
	mergeShape  = regexp.MustCompile(`^Merge pull request #([0-9]+) from `)
	squashShape = regexp.MustCompile(`\(#([0-9]+)\)$`)
)

// PRShape returns the pull request a commit message names in the shape
// GitHub writes when it merges one: "Merge pull request #N from …" on a
// merge commit, or a subject ending in "(#N)" on a squash commit; 0 for none.
func PRShape(message string, parents int) int {
	re := squashShape
	if parents > 1 {
		re = mergeShape
	}
	m := re.FindStringSubmatch(strings.TrimSpace(firstLine(message)))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// AccountLocal accounts for a branch's history offline, from a local clone
// where no check runs can be read (to backfill a repository before
// Countersign was installed): a commit in GitHub's merge or squash shape
// came through that pull request, whose approval cannot be seen offline;
// any other commit is judged on its own and either needed nothing or is
// listed as unaccountable. The record's Before is empty, After the head.
func AccountLocal(p *config.Policy, repo, branch, head string, commits []LandedCommit) *Landing {
	push := &Push{Repo: repo, Branch: branch, After: head, Commits: commits}
	l := &Landing{Changes: []LandedChange{}, Unaccounted: []UnaccountedCommit{}, Repo: repo, Branch: branch, After: head}
	if p == nil {
		return l.cannot("no policy")
	}
	l.Policy = p.Source
	cp, err := Compile(p)
	if err != nil {
		return l.cannot(err.Error())
	}
	names := catalogueNames(cp)
	for _, c := range commits {
		n := c.PR
		if n == 0 {
			n = PRShape(c.Commit.Message, c.Commit.Parents)
		}
		if n == 0 {
			l.judgeAlone(cp, push, c, names, "not in the shape of a merged pull request")
			continue
		}
		v := cp.Evaluate(&Facts{Repo: repo, PR: PullRequest{PullRequest: detect.PullRequest{Number: n}, HeadSHA: c.Commit.SHA},
			Commits: []detect.Commit{c.Commit}, Files: c.Files})
		l.Changes = append(l.Changes, LandedChange{PR: n, Commits: []string{c.Commit.SHA}, Author: commitAuthor(c.Commit),
			Agents: agentNames(v, names), Operators: operatorNames(v), Check: "merged through a pull request; its countersign check cannot be read offline"})
	}
	if n := len(l.Unaccounted); n > 0 {
		l.Conclusion = Failure
		l.Title = clipTitle(fmt.Sprintf("Unaccountable: %d %s", n, plural(n, "commit", "commits")))
		return l
	}
	l.Conclusion = Success
	l.Title = fmt.Sprintf("Every commit came through a pull request or needed nothing (%d %s)", len(commits), plural(len(commits), "commit", "commits"))
	return l
}

func (l *Landing) cannot(why string) *Landing {
	l.Conclusion = Failure
	l.Errors = []string{"could not account for this push: " + why + "; Countersign will try again"}
	l.Title = clipTitle("Could not account for this push: " + why)
	return l
}

func (l *Landing) conclude() {
	if n := len(l.Unaccounted); n > 0 {
		l.Conclusion = Failure
		l.Title = clipTitle(fmt.Sprintf("Landed without countersignature: %d %s", n, plural(n, "commit", "commits")))
		return
	}
	l.Conclusion = Success
	var parts []string
	for _, c := range l.Changes {
		parts = append(parts, c.Phrase())
	}
	switch {
	case len(parts) == 0:
		l.Title = "Nothing new landed"
	default:
		l.Title = clipTitle("Countersigned: " + strings.Join(parts, "; "))
	}
}

// Phrase describes a landed change in one line, such as
// "#12 by Claude Code for @alice, countersigned by @bob".
func (c LandedChange) Phrase() string {
	var b strings.Builder
	if c.PR != 0 {
		fmt.Fprintf(&b, "#%d", c.PR)
	} else if len(c.Commits) > 0 {
		b.WriteString(shortSHA(c.Commits[0]))
	}
	switch {
	case len(c.Agents) > 0:
		b.WriteString(" by " + joinAnd(c.Agents))
		if len(c.Operators) > 0 {
			b.WriteString(" for " + joinAnd(c.Operators))
		}
	case c.Author != "":
		b.WriteString(" by @" + strings.TrimPrefix(c.Author, "@"))
	}
	switch {
	case c.Override != nil:
		who := "@" + c.Override.Login
		if len(c.Override.Logins) > 1 {
			who = atJoinAnd(c.Override.Logins)
		}
		fmt.Fprintf(&b, ", overridden by %s: %s", who, oneLine(c.Override.Reason))
	case len(c.Approvers) > 0:
		b.WriteString(", countersigned by " + atJoinAnd(c.Approvers))
	case c.NothingNeeded:
		b.WriteString(", no approval needed")
	}
	return b.String()
}

func atJoinAnd(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = "@" + l
	}
	return joinAnd(out)
}

var (
	approvedTitle   = regexp.MustCompile(`^Approved by (.+)$`)
	overriddenTitle = regexp.MustCompile(`^Overridden by (@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?(?:(?:, | and )@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?)*): (.*)$`)
	titleLogin      = regexp.MustCompile(`@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?)`)
)

// ParseCheckTitle reads who countersigned a change from the title of its
// passing countersign check run, as Evaluate writes it: the approvers of
// "Approved by @bob and @carol", the override of "Overridden by @x: reason",
// or nothing needed for "No approval needed: …".
func ParseCheckTitle(title string) (approvers []string, override *LandedOverride, nothingNeeded bool) {
	if m := overriddenTitle.FindStringSubmatch(title); m != nil {
		var logins []string
		for _, x := range titleLogin.FindAllStringSubmatch(m[1], -1) {
			logins = append(logins, x[1])
		}
		o := &LandedOverride{Login: logins[0], Reason: m[2]}
		if len(logins) > 1 {
			o.Logins = logins
		}
		return nil, o, false
	}
	if m := approvedTitle.FindStringSubmatch(title); m != nil {
		for _, x := range titleLogin.FindAllStringSubmatch(m[1], -1) {
			approvers = append(approvers, x[1])
		}
		return approvers, nil, false
	}
	return nil, nil, strings.HasPrefix(title, "No approval needed")
}

const operatorsLead = " Operators (cannot approve): "

// SummaryOperators reads the operators known by login ("@alice") from the
// Authorship section of a countersign check run's summary, as
// Verdict.Markdown writes it; nil when it names none.
func SummaryOperators(summary string) []string {
	_, rest, ok := strings.Cut(summary, "#### Authorship\n\n")
	if !ok {
		return nil
	}
	line, _, _ := strings.Cut(rest, "\n")
	_, ops, ok := strings.Cut(line, operatorsLead)
	if !ok {
		return nil
	}
	ops = strings.TrimSuffix(ops, ".")
	var out []string
	for _, o := range strings.Split(ops, ", ") {
		o = strings.ReplaceAll(o, "\\", "")
		if m := titleLogin.FindStringSubmatch(o); m != nil && m[0] == o && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// mergedWhy says why a merged pull request does not account for its
// commits, or "" when its countersign check passed on the merged head.
func mergedWhy(pr *MergedPR) string {
	switch {
	case pr.Check == nil:
		return fmt.Sprintf("#%d was merged with no countersign check on its head %s", pr.Number, shortSHA(pr.HeadSHA))
	case pr.Check.HeadSHA != pr.HeadSHA:
		return fmt.Sprintf("#%d's countersign check is on %s, not on the merged head %s", pr.Number, shortSHA(pr.Check.HeadSHA), shortSHA(pr.HeadSHA))
	case pr.Check.Status != "completed":
		return fmt.Sprintf("#%d was merged while its countersign check was %s", pr.Number, strings.ReplaceAll(pr.Check.Status, "_", " "))
	case pr.Check.Conclusion != string(Success):
		return fmt.Sprintf("#%d was merged while its countersign check was %s (%s)", pr.Number, strings.ReplaceAll(pr.Check.Conclusion, "_", " "), oneLine(pr.Check.Title))
	}
	return ""
}

func directWhy(why string, v *Verdict) string {
	switch v.Conclusion {
	case Failure:
		return why + "; it could not be judged: " + oneLine(v.Title)
	default:
		return why + "; it needed: " + lowerFirst(oneLine(v.Title))
	}
}

func prFacts(push *Push, pr *MergedPR, commits []LandedCommit) *Facts {
	f := &Facts{Repo: push.Repo, PR: PullRequest{PullRequest: pr.PullRequest, HeadSHA: pr.HeadSHA, BaseRef: push.Branch}}
	seen := map[string]int{}
	for _, c := range commits {
		f.Commits = append(f.Commits, c.Commit)
		for _, file := range c.Files {
			if i, ok := seen[file.Path]; ok {
				f.Files[i] = file
				continue
			}
			seen[file.Path] = len(f.Files)
			f.Files = append(f.Files, file)
		}
	}
	return f
}

func pusherLogin(push *Push) string {
	if push.Sender != "" {
		return push.Sender
	}
	return push.Pusher
}

func agentNames(v *Verdict, names map[string]string) []string {
	out := []string{}
	for _, id := range v.Agents {
		if n := names[id]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, id)
		}
	}
	return out
}

// operatorNames names the operators; when some are known by login, those
// without one (the same people, as git wrote them) are left out.
func operatorNames(v *Verdict) []string {
	var out []string
	withLogin := slices.ContainsFunc(v.Operators, func(o detect.Identity) bool { return o.Login != "" })
	for _, o := range v.Operators {
		if withLogin && o.Login == "" {
			continue
		}
		if s := o.String(); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func commitAuthor(c detect.Commit) string {
	if c.AuthorLogin != "" {
		return c.AuthorLogin
	}
	return detect.Identity{Name: c.AuthorName, Email: c.AuthorEmail}.String()
}

func unaccounted(c LandedCommit, v *Verdict, names map[string]string, pr int, why string) UnaccountedCommit {
	u := UnaccountedCommit{SHA: c.Commit.SHA, Subject: firstLine(c.Commit.Message), Author: commitAuthor(c.Commit), PR: pr, Why: why}
	if len(v.Commits) > 0 {
		cv := v.Commits[0]
		if cv.Agent != nil {
			u.Agent = names[*cv.Agent]
			if u.Agent == "" {
				u.Agent = *cv.Agent
			}
		}
		if cv.Operator != nil {
			u.Operator = cv.Operator.String()
		}
	}
	if u.Agent == "" && len(v.Agents) > 0 {
		u.Agent = strings.Join(agentNames(v, names), ", ")
	}
	if u.Operator == "" {
		u.Operator = strings.Join(operatorNames(v), ", ")
	}
	for _, f := range v.ProtectedFiles {
		if !slices.Contains(u.ProtectedFiles, f.Path) {
			u.ProtectedFiles = append(u.ProtectedFiles, f.Path)
		}
	}
	return u
}

// catalogueNames maps each agent id the compiled policy's detector knows to its
// display name, for the record's wording.
func catalogueNames(cp *Compiled) map[string]string {
	names := map[string]string{}
	for _, a := range cp.Detector().Agents() {
		names[a.ID] = a.Name
	}
	return names
}
