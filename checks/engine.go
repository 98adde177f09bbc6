package checks

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
)

// Requirement names.
const (
	// ReqAgentReview is the independent review an agent-authored change needs.
	ReqAgentReview = "agent-review"
	// ReqHumanReview is the review a human change needs, when the policy asks for one.
	ReqHumanReview = "human-review"
	// ReqPathPrefix prefixes the name of a protected-path requirement: "path:<rule>".
	ReqPathPrefix = "path:"
)

// SourceOverride is the Exclusion.Source of an override command.
const SourceOverride = "override"

// MaxTitleRunes is the longest title a verdict carries.
const MaxTitleRunes = 1000

// classifier is what the engine needs of a detector.
type classifier interface {
	PullRequest(detect.PullRequest) detect.Detection
	Commit(detect.Commit) detect.Detection
}

// Evaluate judges the facts of one pull request against a policy. It
// compiles the policy first; callers that judge many changes compile once
// (Compile) and call Compiled.Evaluate. A nil policy, a policy that does not
// compile, or incomplete facts give a failing verdict (fail closed); to
// report an invalid policy file use Invalid.
func Evaluate(p *config.Policy, f *Facts) *Verdict {
	if p == nil {
		return Invalid(errors.New("no policy"), config.Source{}, f)
	}
	if v := unjudgeable(p.Source, f); v != nil {
		return v
	}
	c, err := Compile(p)
	if err != nil {
		return incomplete(p.Source, f, err.Error())
	}
	return c.Evaluate(f)
}

// Evaluate judges the facts of one pull request against the compiled
// policy. It is pure and deterministic: the same policy and facts give the
// same verdict. Incomplete facts give a failing verdict (fail closed).
func (c *Compiled) Evaluate(f *Facts) *Verdict {
	if v := unjudgeable(c.p.Source, f); v != nil {
		return v
	}
	v := evaluate(c.p, f, c.det, c.rules, c.RuleMatcher().AppendMatches)
	if c.UsesCodeOwners() {
		v.CodeOwners = f.CodeOwnersBlob
		if v.CodeOwners == "" {
			v.CodeOwners = UnknownCodeOwners
		}
	}
	return v
}

// unjudgeable is the failing verdict for facts that cannot be judged, or nil.
func unjudgeable(src config.Source, f *Facts) *Verdict {
	switch {
	case f == nil:
		return incomplete(src, &Facts{}, "no facts were gathered")
	case f.Incomplete != "":
		return incomplete(src, f, f.Incomplete)
	case f.PR.HeadSHA == "" && !f.Local:
		return incomplete(src, f, "the pull request's head commit is unknown")
	}
	return nil
}

// Invalid is the failing verdict for a policy that could not be loaded: err
// lists the problems (one per line, or joined with errors.Join), each naming
// file and line; src says where the policy was read from.
func Invalid(err error, src config.Source, f *Facts) *Verdict {
	v := baseVerdict(src, f)
	v.Conclusion = Failure
	v.Errors = errorLines(err)
	if len(v.Errors) == 0 {
		v.Errors = []string{"invalid policy"}
	}
	title := "Invalid policy: " + v.Errors[0]
	if n := len(v.Errors) - 1; n > 0 {
		title += fmt.Sprintf(" (and %d more %s)", n, plural(n, "error", "errors"))
	}
	v.Title = clipTitle(title)
	return v
}

func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			out = append(out, errorLines(e)...)
		}
		return out
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func incomplete(src config.Source, f *Facts, why string) *Verdict {
	v := baseVerdict(src, f)
	v.Conclusion = Failure
	v.Incomplete = true
	v.Errors = []string{"could not evaluate: " + why}
	v.Title = clipTitle(CouldNotEvaluateTitle + why)
	return v
}

func baseVerdict(src config.Source, f *Facts) *Verdict {
	v := &Verdict{
		Agents:         []string{},
		Commits:        []CommitVerdict{},
		ProtectedFiles: []ProtectedFile{},
		Requirements:   []Requirement{},
		Policy:         src,
	}
	if f != nil {
		v.Repo, v.Number, v.HeadSHA, v.Local = f.Repo, f.PR.Number, f.PR.HeadSHA, f.Local
	}
	return v
}

// reqState is a requirement while approvals are being counted.
type reqState struct {
	Requirement
	minRank    int
	teams      loginSet // lower-case "org/slug"
	users      loginSet
	codeowners bool
	owners     []ownedFile // with codeowners: the matched files and their owners
	ownerUsers loginSet
	ownerTeams loginSet
	restricted bool
	satisfied  loginSet
	// memberTeams holds the teams of each counted approver, for code-owner coverage.
	memberTeams map[string][]string
	// unresolved counts the people who took part that no account matched:
	// any counted approver may be one of them, so a file with code owners
	// needs that many more of its owners' approvals.
	unresolved int
	// firstOwners is how many owners approved the first uncovered file.
	firstOwners int
}

// ownedFile is a protected file and its CODEOWNERS owners.
type ownedFile struct {
	path   string
	users  loginSet
	teams  loginSet
	emails []string
}

func (o ownedFile) owned() bool { return len(o.users)+len(o.teams)+len(o.emails) > 0 }

// eval holds one evaluation's working state.
type eval struct {
	p  *config.Policy
	f  *Facts
	v  *Verdict
	ex []exclItem

	agentNames  map[string]string
	res         *resolver
	operators   loginSet
	authors     loginSet
	strangers   []detect.Identity // commit authors known only by an address no account matched
	in          Involved          // author, operators and authors: who is not independent
	reqs        []*reqState
	approvedBy  loginSet
	dismissSt   bool
	agentAuthor bool
	// commitAgents is the agent id of each commit (f.Commits' order), "" for
	// a commit no agent wrote.
	commitAgents []string
}

type exclItem struct {
	order int
	e     Exclusion
}

// matchFunc appends to dst the indexes of the rules that protect path.
type matchFunc func(dst []int, path string) []int

// evaluate is Evaluate with its collaborators passed in: the detector, the
// effective rules and a function returning the rules that protect a path.
func evaluate(p *config.Policy, f *Facts, det classifier, rules []*Rule, matchRules matchFunc) *Verdict {
	e := &eval{p: p, f: f, v: baseVerdict(p.Source, f), dismissSt: p.Review.DismissStaleApprovals()}
	e.detect(det)
	e.in = e.involved()
	e.requirements(rules, matchRules)
	if !f.Local {
		e.reviews()
	}
	e.conclude()
	return e.v
}

// detect classifies the pull request and its commits, and collects agents,
// operators and human commit authors.
func (e *eval) detect(det classifier) {
	f, v := e.f, e.v
	e.agentNames = map[string]string{}
	e.res = newResolver(f.Commits, f.Addresses)
	prDet := det.PullRequest(f.PR.PullRequest)
	v.PR = &prDet
	if prDet.IsAgent() {
		e.agentAuthor = true
		e.addAgent(prDet)
	}
	var ops []detect.Identity
	addOp := func(id *detect.Identity) {
		if id == nil || id.IsZero() {
			return
		}
		ops = addIdentity(ops, *id)
	}
	addOp(prDet.Operator)

	v.Commits = make([]CommitVerdict, len(f.Commits))
	agentIDs := make([]string, len(f.Commits))
	e.commitAgents = make([]string, len(f.Commits))
	for i := range f.Commits {
		c := &f.Commits[i]
		d := det.Commit(*c)
		cv := &v.Commits[i]
		cv.SHA, cv.Subject, cv.Signals, cv.Operator = c.SHA, firstLine(c.Message), d.Signals, d.Operator
		switch d.Class {
		case detect.ClassAgent:
			e.agentAuthor = true
			e.addAgent(d)
			agentIDs[i] = d.Agent
			cv.Agent = &agentIDs[i]
			e.commitAgents[i] = cmp.Or(d.Agent, "unknown-agent")
			addOp(d.Operator)
			// A human recorded as author or committer of an agent's commit
			// (a Co-authored-by trailer, a local agent session) ran the agent.
			if !signalled(d, c.AuthorEmail, detect.SignalAuthorEmail, detect.SignalAuthorName) {
				ops = appendHuman(ops, c.AuthorLogin, c.AuthorName, c.AuthorEmail)
			}
			if !signalled(d, c.CommitterEmail, detect.SignalCommitterEmail) {
				ops = appendHuman(ops, c.CommitterLogin, c.CommitterName, c.CommitterEmail)
			}
		case detect.ClassAutomation:
			cv.Automation = d.Automation
			// An automation author is only an address anyone can write into
			// a commit: whoever pushed it under that name is still recorded
			// (a real bot's login is harmless here, bots never count).
			e.addCommitAuthors(c)
		default:
			e.addCommitAuthors(c)
		}
	}
	// The human who opened a pull request whose commits or body an agent
	// wrote delegated the work: an operator.
	if e.agentAuthor && f.PR.AuthorLogin != "" && !IsBot(f.PR.AuthorLogin, f.PR.AuthorType) && !openedByAgent(prDet) {
		ops = addIdentity(ops, detect.Identity{Login: f.PR.AuthorLogin})
	}
	ops = e.res.resolve(ops)
	if len(ops) > 0 {
		sortIdentities(ops)
		v.Operators = ops
	}
	for _, op := range v.Operators {
		if op.Login == "" {
			v.UnresolvedOperators = append(v.UnresolvedOperators, op)
		}
	}
	// A commit author no account matches is counted once, and not at all
	// when she is an unresolved operator already; a local clone knows no
	// accounts and counts no approvals, so it asks nothing more for them.
	if !f.Local {
		for _, a := range e.strangers {
			if !slices.ContainsFunc(v.UnresolvedOperators, func(o detect.Identity) bool { return sameIdentity(o, a) }) {
				v.UnresolvedAuthors = append(v.UnresolvedAuthors, a)
			}
		}
		sortIdentities(v.UnresolvedAuthors)
	}
	for _, op := range v.Operators {
		e.operators.add(op.Login)
		e.operators.add(LoginFromEmail(op.Email))
	}
	v.AgentAuthored = e.agentAuthor
	for id := range e.agentNames {
		v.Agents = append(v.Agents, id)
	}
	slices.Sort(v.Agents)
}

func (e *eval) addAgent(d detect.Detection) {
	id := d.Agent
	if id == "" {
		id = "unknown-agent"
	}
	if name, ok := e.agentNames[id]; !ok || name == "" {
		e.agentNames[id] = d.AgentName
	}
}

// signalled reports whether an agent signal of d is of one of the kinds, or
// matched the address itself: then that identity is the agent's, not a person's.
func signalled(d detect.Detection, email string, kinds ...string) bool {
	for _, s := range d.Signals {
		if s.Agent == "" {
			continue
		}
		if slices.Contains(kinds, s.Kind) || (email != "" && strings.Contains(strings.ToLower(s.Match), strings.ToLower(email))) {
			return true
		}
	}
	return false
}

// appendHuman adds a commit identity to ops when it is a person: not a bot,
// not GitHub's web-flow committer, and with a login or an address.
func appendHuman(ops []detect.Identity, login, name, email string) []detect.Identity {
	if login == "" {
		login = LoginFromEmail(email)
	}
	if IsBot(login, "") || strings.EqualFold(login, "web-flow") || strings.EqualFold(email, "noreply@github.com") || (login == "" && email == "") {
		return ops
	}
	return addIdentity(ops, detect.Identity{Login: login, Name: name, Email: email})
}

// resolver matches addresses to the GitHub logins the facts tie them to:
// a noreply address names its login; a commit of the change whose author or
// committer address GitHub tied to an account (the REST commit object's
// user) names that account; and Facts.Addresses holds what GitHub said of
// the rest (GraphQL Commit.authors). An address the commits tie to two
// different logins stays unmatched.
type resolver struct {
	byAddr   map[string]string
	conflict map[string]bool
	github   map[string]string
}

func newResolver(commits []detect.Commit, github map[string]string) *resolver {
	r := &resolver{byAddr: map[string]string{}, conflict: map[string]bool{}, github: github}
	note := func(email, login string) {
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" || login == "" {
			return
		}
		if l, ok := r.byAddr[email]; ok && !config.SameLogin(l, login) {
			r.conflict[email] = true
		}
		r.byAddr[email] = login
	}
	for i := range commits {
		c := &commits[i]
		note(c.AuthorEmail, c.AuthorLogin)
		note(c.CommitterEmail, c.CommitterLogin)
	}
	return r
}

// login returns the login an address belongs to, or "".
func (r *resolver) login(email string) string {
	if l := LoginFromEmail(email); l != "" {
		return l
	}
	addr := strings.ToLower(strings.TrimSpace(email))
	if addr == "" || r.conflict[addr] {
		return ""
	}
	if l := r.byAddr[addr]; l != "" {
		return l
	}
	for a, l := range r.github {
		if strings.EqualFold(strings.TrimSpace(a), addr) && l != "" {
			return l
		}
	}
	return ""
}

// resolve gives each operator known only by address the login the address
// belongs to, where the facts say; operators that become the same person
// are merged.
func (r *resolver) resolve(ops []detect.Identity) []detect.Identity {
	var out []detect.Identity
	for _, op := range ops {
		if op.Login == "" {
			op.Login = r.login(op.Email)
		}
		out = addIdentity(out, op)
	}
	return mergeByAddress(out, r.conflict)
}

// mergeByAddress folds a person known only by an address into the one
// record that knows that address with a login (the same person recorded
// once by login and address, once by the address alone), unless the
// address belongs to several logins, here or in the commits (conflict).
func mergeByAddress(ids []detect.Identity, conflict map[string]bool) []detect.Identity {
	loginsAt := map[string][]string{}
	for _, id := range ids {
		addr := strings.ToLower(strings.TrimSpace(id.Email))
		if l := identityLogin(id); l != "" && addr != "" && !slices.ContainsFunc(loginsAt[addr], func(x string) bool { return config.SameLogin(x, l) }) {
			loginsAt[addr] = append(loginsAt[addr], l)
		}
	}
	out := ids[:0:0]
	for _, id := range ids {
		addr := strings.ToLower(strings.TrimSpace(id.Email))
		if identityLogin(id) == "" && addr != "" && !conflict[addr] && len(loginsAt[addr]) == 1 {
			continue // the record with the login stands for this person
		}
		out = append(out, id)
	}
	return out
}

// openedByAgent reports whether the PR's own login is the agent's.
func openedByAgent(d detect.Detection) bool {
	if !d.IsAgent() {
		return false
	}
	for _, s := range d.Signals {
		if s.Kind == detect.SignalLogin && s.Agent != "" {
			return true
		}
	}
	return false
}

// sameIdentity reports whether two identities are the same person: the same
// login (or noreply-derived login), or the same address.
func sameIdentity(a, b detect.Identity) bool {
	la, lb := identityLogin(a), identityLogin(b)
	if la != "" || lb != "" {
		return config.SameLogin(la, lb)
	}
	if a.Email != "" || b.Email != "" {
		return strings.EqualFold(a.Email, b.Email)
	}
	return a.Name == b.Name
}

func identityLogin(id detect.Identity) string {
	if id.Login != "" {
		return id.Login
	}
	return LoginFromEmail(id.Email)
}

// addIdentity adds id to ids unless the person is there already, in which
// case it completes the record.
func addIdentity(ids []detect.Identity, id detect.Identity) []detect.Identity {
	for i := range ids {
		o := &ids[i]
		if !sameIdentity(*o, id) {
			continue
		}
		if o.Login == "" {
			o.Login = id.Login
		}
		if o.Name == "" {
			o.Name = id.Name
		}
		if o.Email == "" {
			o.Email = id.Email
		}
		return ids
	}
	return append(ids, id)
}

// sortIdentities orders identities by login, then address, then name.
func sortIdentities(ids []detect.Identity) {
	slices.SortFunc(ids, func(a, b detect.Identity) int {
		la, lb := strings.ToLower(identityLogin(a)), strings.ToLower(identityLogin(b))
		if (la == "") != (lb == "") {
			if la == "" {
				return 1
			}
			return -1
		}
		if c := strings.Compare(la, lb); c != 0 {
			return c
		}
		if c := strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// agentPhrase names the agents that wrote the change: "Claude Code and Copilot".
func (e *eval) agentPhrase() string {
	names := make([]string, 0, len(e.v.Agents))
	for _, id := range e.v.Agents {
		n := e.agentNames[id]
		if n == "" {
			n = id
		}
		names = append(names, n)
	}
	return joinAnd(names)
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func newReq(name, reason string, needed int, a config.Approvers) *reqState {
	r := &reqState{
		Requirement: Requirement{Name: name, Reason: reason, Needed: needed},
		minRank:     config.PermissionRank(a.MinPermission()),
		codeowners:  a.CodeOwners,
		restricted:  a.Restricted(),
	}
	for _, t := range a.Teams {
		r.teams.add(t)
	}
	for _, u := range a.Users {
		r.users.add(u)
	}
	r.Eligible = Eligibility{Permission: strings.ToLower(a.MinPermission())}
	if len(r.teams) > 0 {
		r.Eligible.Teams = slices.Sorted(slices.Values(r.teams))
	}
	if len(r.users) > 0 {
		r.Eligible.Users = slices.Sorted(slices.Values(r.users))
	}
	return r
}

type hit struct {
	rule    int32
	file    int32
	deleted bool
}

// requirements works out what the change needs.
func (e *eval) requirements(rules []*Rule, matchRules matchFunc) {
	p, f, v := e.p, e.f, e.v
	if e.agentAuthor {
		if n := p.Review.AgentApprovals(); n > 0 {
			e.reqs = append(e.reqs, newReq(ReqAgentReview, "agent-authored by "+e.agentPhrase(), n, p.Review.Agent.Approvers))
		}
	} else if n := p.Review.HumanApprovals(); n > 0 {
		e.reqs = append(e.reqs, newReq(ReqHumanReview, "policy asks every change for review", n, p.Review.Human.Approvers))
	}
	for _, r := range e.reqs {
		if r.codeowners {
			// Code owners of a review requirement own the whole change.
			e.addOwners(r, allPaths(f.Files))
		}
	}
	// Someone who took part but whom no account could be matched to may be
	// any approver: one more approval per such person, on every
	// requirement, keeps the configured number from people who cannot be her.
	defer func() {
		for _, r := range e.reqs {
			r.Needed += e.unresolved()
			r.unresolved = e.unresolved()
		}
	}()

	// Which rules apply to this change: slot[i] is rule i's place among them, or -1.
	slot := make([]int32, len(rules))
	var applies []*Rule
	for i, r := range rules {
		slot[i] = -1
		if r != nil && (r.Scope() == config.AppliesToAll || (r.Scope() == config.AppliesToAgent && e.agentAuthor)) {
			slot[i] = int32(len(applies))
			applies = append(applies, r)
		}
	}
	if len(applies) == 0 {
		return
	}
	var hits []hit
	var matched, before []int
	for i := range f.Files {
		fl := &f.Files[i]
		matched = matchRules(matched[:0], fl.Path)
		for _, ri := range matched {
			if s := slot[ri]; s >= 0 {
				hits = append(hits, hit{rule: s, file: int32(i), deleted: fl.Status == StatusRemoved})
			}
		}
		// A rename matches on its old path too; moving a file out of a
		// rule's paths takes it away from there, like a deletion.
		if fl.PreviousPath == "" || fl.PreviousPath == fl.Path || fl.Status == StatusCopied {
			continue
		}
		before = matchRules(before[:0], fl.PreviousPath)
		for _, ri := range before {
			if s := slot[ri]; s >= 0 && !slices.Contains(matched, ri) {
				hits = append(hits, hit{rule: s, file: int32(i), deleted: true})
			}
		}
	}
	if len(hits) == 0 {
		return
	}
	hits = groupByRule(hits, len(applies))
	v.ProtectedFiles = make([]ProtectedFile, 0, len(hits))
	for start := 0; start < len(hits); {
		end := start
		for end < len(hits) && hits[end].rule == hits[start].rule {
			end++
		}
		group := hits[start:end]
		byPath := func(a, b hit) int { return strings.Compare(f.Files[a.file].Path, f.Files[b.file].Path) }
		if !slices.IsSortedFunc(group, byPath) {
			slices.SortFunc(group, byPath)
		}
		e.pathRequirement(applies[hits[start].rule], group)
		start = end
	}
}

// unresolved counts the people who took part that no account could be
// matched to.
func (e *eval) unresolved() int {
	return len(e.v.UnresolvedOperators) + len(e.v.UnresolvedAuthors)
}

// groupByRule orders hits by rule, keeping the files' order within a rule
// (a counting sort: the hits of a big PR are many, the rules few).
func groupByRule(hits []hit, rules int) []hit {
	count := make([]int, rules+1)
	for _, h := range hits {
		count[h.rule+1]++
	}
	for i := 1; i <= rules; i++ {
		count[i] += count[i-1]
	}
	out := make([]hit, len(hits))
	for _, h := range hits {
		out[count[h.rule]] = h
		count[h.rule]++
	}
	return out
}

func allPaths(files []File) [][2]string {
	out := make([][2]string, len(files))
	for i, fl := range files {
		out[i] = [2]string{fl.Path, ""}
		if fl.Status != StatusCopied {
			out[i][1] = fl.PreviousPath
		}
	}
	return out
}

func (e *eval) pathRequirement(r *Rule, hits []hit) {
	f, v := e.f, e.v
	anyDeleted := false
	files := make([]string, len(hits))
	var paths [][2]string
	for i, h := range hits {
		fl := &f.Files[h.file]
		pf := ProtectedFile{Path: fl.Path, PreviousPath: fl.PreviousPath, Status: fl.Status, Rule: r.Name, Deleted: h.deleted}
		if ids, known := e.blame(fl); known && len(ids) > 0 {
			for _, id := range ids {
				pf.Agents = append(pf.Agents, e.agentNamesOf([]string{id}))
			}
		}
		v.ProtectedFiles = append(v.ProtectedFiles, pf)
		files[i] = fl.Path
		anyDeleted = anyDeleted || h.deleted
		if r.Approvers.CodeOwners {
			prev := ""
			if fl.Status != StatusCopied {
				prev = fl.PreviousPath
			}
			paths = append(paths, [2]string{fl.Path, prev})
		}
	}
	needed := r.NeededApprovals()
	if anyDeleted {
		needed += r.ExtraDeletionApprovals()
	}
	if needed <= 0 {
		return
	}
	reason := e.pathReason(r, hits)
	if anyDeleted && r.ExtraDeletionApprovals() > 0 {
		reason += fmt.Sprintf(" (deletion needs %d more)", r.ExtraDeletionApprovals())
	}
	req := newReq(ReqPathPrefix+r.Name, reason, needed, r.Approvers)
	req.Files = files
	if req.codeowners {
		e.addOwners(req, paths)
	}
	e.reqs = append(e.reqs, req)
}

// addOwners records the CODEOWNERS owners of each path pair (path, previous
// path) on a code-owner requirement.
func (e *eval) addOwners(r *reqState, paths [][2]string) {
	var all []string
	for _, pp := range paths {
		of := ownedFile{path: pp[0]}
		for _, p := range pp {
			if p == "" || e.f.CodeOwners == nil {
				continue
			}
			rule, err := e.f.CodeOwners.Match(p)
			if err != nil || rule == nil {
				continue
			}
			for _, o := range rule.Owners {
				switch o.Type {
				case codeowners.TeamOwner:
					of.teams.add(o.Value)
					r.ownerTeams.add(o.Value)
					all = append(all, "@"+strings.ToLower(o.Value))
				case codeowners.UsernameOwner:
					of.users.add(o.Value)
					r.ownerUsers.add(o.Value)
					all = append(all, "@"+strings.ToLower(o.Value))
				default:
					of.emails = append(of.emails, o.Value)
					all = append(all, o.Value)
				}
			}
		}
		r.owners = append(r.owners, of)
	}
	slices.Sort(all)
	r.Eligible.CodeOwners = slices.Compact(all)
}

// reviewerFor returns the recorded standing of a login.
func (e *eval) reviewerFor(login string) (Reviewer, bool) {
	if e.f.Reviewers == nil {
		return Reviewer{}, false
	}
	r, ok := e.f.Reviewers[strings.ToLower(login)]
	return r, ok
}

// independence checks what disqualifies a person whatever the requirement.
func (e *eval) independence(login, userType string) (reason, detail string) {
	rv, known := e.reviewerFor(login)
	product, ai := detect.AIReviewer(login, userType)
	if !ai && known {
		product, ai = detect.AIReviewer(login, rv.Type)
	}
	if ai {
		return ExcludedAIReview, "AI review, not counted: @" + login + " is " + product + ", an AI reviewer, not an independent human"
	}
	switch {
	case IsBot(login, userType) || (known && IsBot("", rv.Type)):
		return ExcludedBot, "@" + login + " is a bot; only humans count"
	case e.in.Reason(login) == ExcludedAuthor:
		return ExcludedAuthor, "@" + login + " opened the pull request"
	case e.in.Reason(login) == ExcludedOperator:
		return ExcludedOperator, "@" + login + " delegated this change to " + e.agentPhraseOr("an agent")
	case e.in.Reason(login) == ExcludedCommitter:
		return ExcludedCommitter, "@" + login + " wrote or committed commits in this pull request"
	case !known || config.PermissionRank(rv.Permission) == 0:
		return ExcludedUnknown, "@" + login + "'s repository permission could not be established"
	}
	return "", ""
}

func (e *eval) agentPhraseOr(def string) string {
	if s := e.agentPhrase(); s != "" {
		return s
	}
	return def
}

// eligible reports whether a reviewer counts for a requirement, and why not.
func (r *reqState) eligible(rv Reviewer) (ok bool, reason string) {
	if config.PermissionRank(rv.Permission) < r.minRank {
		return false, ExcludedPermission
	}
	if !r.restricted {
		return true, ""
	}
	if r.users.has(rv.Login) || memberOfAny(rv, r.teams) {
		return true, ""
	}
	if r.codeowners && (r.ownerUsers.has(rv.Login) || memberOfAny(rv, r.ownerTeams)) {
		return true, ""
	}
	return false, ExcludedNotMember
}

func memberOfAny(rv Reviewer, teams loginSet) bool {
	for _, t := range rv.Teams {
		if teams.has(normName(t)) {
			return true
		}
	}
	return false
}

// reviews applies GitHub's review semantics and counts approvals.
func (e *eval) reviews() {
	f := e.f
	latest := map[string]int{}
	var order []string
	for i := range f.Reviews {
		r := &f.Reviews[i]
		if r.Source == SourceComment {
			if !r.EditedAt.IsZero() {
				// Void, whatever it says now: it neither counts nor replaces
				// the reviewer's earlier review or approval.
				e.exclude(i, r, ExcludedEdited, editedText)
				continue
			}
			if !e.p.Commands.ApproveEnabled() {
				e.exclude(i, r, ExcludedCommentOff, "`/countersign approve` comments do not count under this policy (commands.approve is off)")
				continue
			}
		} else {
			switch strings.ToUpper(r.State) {
			case ReviewApproved, ReviewChangesRequested, ReviewDismissed:
			default:
				continue // COMMENTED and PENDING leave the reviewer's state as it was
			}
		}
		key := strings.ToLower(r.Login)
		if prev, ok := latest[key]; ok {
			e.exclude(prev, &f.Reviews[prev], ExcludedSuperseded, fmt.Sprintf("replaced by a later %s (%s)", describe(r), idText(r.ID)))
		} else {
			order = append(order, key)
		}
		latest[key] = i
	}
	idx := make([]int, 0, len(order))
	for _, k := range order {
		idx = append(idx, latest[k])
	}
	slices.Sort(idx)
	head := f.PR.HeadSHA
	for _, i := range idx {
		r := &f.Reviews[i]
		state := strings.ToUpper(r.State)
		if r.Source == SourceComment {
			state = ReviewApproved
		}
		if state == ReviewDismissed {
			e.exclude(i, r, ExcludedDismissed, "the review was dismissed")
			continue
		}
		if reason, detail := e.independence(r.Login, r.UserType); reason != "" {
			if state == ReviewChangesRequested {
				detail = "requested changes, which do not block: " + detail
			}
			e.exclude(i, r, reason, detail)
			continue
		}
		rv, _ := e.reviewerFor(r.Login)
		rv.Login = r.Login
		if state == ReviewApproved && e.dismissSt && r.CommitSHA != head {
			e.exclude(i, r, ExcludedStale, staleDetail("approved", r.CommitSHA, head))
			continue
		}
		if state == ReviewApproved && e.dismissSt && e.beforeBaseChange(r.SubmittedAt) {
			e.exclude(i, r, ExcludedStale, baseStaleDetail("approved", f.PR.BaseRef))
			continue
		}
		if len(e.reqs) == 0 {
			continue
		}
		counted := false
		why := ExcludedPermission
		for _, q := range e.reqs {
			ok, reason := q.eligible(rv)
			if ok {
				counted = true
				if state == ReviewApproved {
					q.satisfied.add(r.Login)
					if q.codeowners {
						if q.memberTeams == nil {
							q.memberTeams = map[string][]string{}
						}
						q.memberTeams[strings.ToLower(r.Login)] = rv.Teams
					}
				}
			} else if reason == ExcludedNotMember {
				why = ExcludedNotMember
			}
		}
		switch {
		case counted && state == ReviewChangesRequested:
			e.v.Blocking = append(e.v.Blocking, Block{Login: r.Login, ReviewID: r.ID})
		case counted:
			e.approvedBy.add(r.Login)
		default:
			detail := fmt.Sprintf("@%s has %s permission; %s", r.Login, orUnknown(rv.Permission), e.needsText())
			if state == ReviewChangesRequested {
				detail = "requested changes, which do not block: " + detail
			}
			e.exclude(i, r, why, detail)
		}
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// needsText says what the requirements want of an approver.
func (e *eval) needsText() string {
	parts := make([]string, 0, len(e.reqs))
	for _, q := range e.reqs {
		parts = append(parts, q.Name+" needs "+whoText(q.Eligible, q.restricted))
	}
	return strings.Join(parts, "; ")
}

func describe(r *Review) string {
	if r.Source == SourceComment {
		return "/countersign approve"
	}
	return strings.ToLower(strings.ReplaceAll(r.State, "_", " ")) + " review"
}

func idText(id int64) string { return "#" + strconv.FormatInt(id, 10) }

func (e *eval) exclude(order int, r *Review, reason, detail string) {
	src := r.Source
	if src == "" {
		src = SourceReview
	}
	e.ex = append(e.ex, exclItem{order: order, e: Exclusion{Login: r.Login, ID: r.ID, Source: src, Reason: reason, Detail: detail}})
}

// overrides picks the override in force: the latest valid one. While
// someone who took part is unresolved (no account matched), she may be any
// overrider, so an override is in force only once one more person than
// there are unresolved people has overridden (each valid on their own).
func (e *eval) overrides() {
	f := e.f
	base := len(f.Reviews)
	need := 1 + e.unresolved()
	supersede := func(old, by int) {
		o := &f.Overrides[old]
		e.ex = append(e.ex, exclItem{order: base + old, e: Exclusion{Login: o.Login, ID: o.ID, Source: SourceOverride, Reason: ExcludedSuperseded, Detail: "replaced by a later override " + idText(f.Overrides[by].ID)}})
	}
	latest := map[string]int{} // lower-case login -> its latest valid override
	last := -1
	for i := range f.Overrides {
		o := &f.Overrides[i]
		reason, detail := e.overrideProblem(o)
		if reason != "" {
			e.ex = append(e.ex, exclItem{order: base + i, e: Exclusion{Login: o.Login, ID: o.ID, Source: SourceOverride, Reason: reason, Detail: detail}})
			continue
		}
		k := strings.ToLower(o.Login)
		if prev, ok := latest[k]; ok {
			supersede(prev, i)
		} else if need == 1 && last >= 0 {
			supersede(last, i)
			delete(latest, strings.ToLower(f.Overrides[last].Login))
		}
		latest[k] = i
		last = i
	}
	if last < 0 {
		return
	}
	if len(latest) < need {
		for _, i := range latest {
			o := &f.Overrides[i]
			e.ex = append(e.ex, exclItem{order: base + i, e: Exclusion{Login: o.Login, ID: o.ID, Source: SourceOverride, Reason: ExcludedUnconfirmed,
				Detail: fmt.Sprintf("%s could not be matched to a GitHub account and may be anyone, so an override needs %d different people who may override; %d so far",
					e.unresolvedWho(), need, len(latest))}})
		}
		return
	}
	o := f.Overrides[last]
	o.Reason = strings.TrimSpace(o.Reason)
	e.v.Override = &o
	for _, i := range latest {
		e.v.OverriddenBy = append(e.v.OverriddenBy, f.Overrides[i].Login)
	}
	slices.SortFunc(e.v.OverriddenBy, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
}

// unresolvedWho names the people no account was matched to: "alice@acme.example"
// or "alice@acme.example and dave@corp.example".
func (e *eval) unresolvedWho() string {
	var names []string
	for _, ids := range [][]detect.Identity{e.v.UnresolvedOperators, e.v.UnresolvedAuthors} {
		for _, id := range ids {
			if id.Email != "" {
				names = append(names, id.Email)
			} else {
				names = append(names, id.Name)
			}
		}
	}
	return joinAnd(names)
}

// editedText explains why an edited command does not count.
const editedText = "the comment was edited after it was written, so its command is void; write a new comment"

func (e *eval) overrideProblem(o *Override) (reason, detail string) {
	ov := e.p.Overrides
	if !o.EditedAt.IsZero() {
		return ExcludedEdited, editedText
	}
	if IsBot(o.Login, o.UserType) {
		return ExcludedBot, "@" + o.Login + " is a bot; only people may override"
	}
	allowed := false
	for _, u := range ov.Users {
		if config.SameLogin(normName(u), o.Login) {
			allowed = true
		}
	}
	if !allowed && len(ov.Teams) > 0 {
		if rv, ok := e.reviewerFor(o.Login); ok && !IsBot("", rv.Type) {
			var teams loginSet
			for _, t := range ov.Teams {
				teams.add(t)
			}
			allowed = memberOfAny(rv, teams)
		}
	}
	if !allowed {
		if !ov.Allowed() {
			return ExcludedNotAllowed, "this policy lets nobody override (overrides is empty)"
		}
		return ExcludedNotAllowed, "@" + o.Login + " is not in overrides.users or overrides.teams"
	}
	// Overriding is approving without review: the same standing (write
	// permission at least) and independence hold.
	rv, known := e.reviewerFor(o.Login)
	switch {
	case !known || rv.Permission == "":
		return ExcludedUnknown, "@" + o.Login + "'s permission on the repository could not be established"
	case config.PermissionRank(rv.Permission) < config.PermissionRank(config.PermissionWrite):
		return ExcludedPermission, "@" + o.Login + " has " + rv.Permission + " permission; overriding needs write or more"
	}
	switch {
	case e.in.Reason(o.Login) == ExcludedAuthor:
		return ExcludedAuthor, "@" + o.Login + " opened the pull request and cannot override it"
	case e.in.Reason(o.Login) == ExcludedOperator:
		return ExcludedOperator, "@" + o.Login + " delegated this change to " + e.agentPhraseOr("an agent") + " and cannot override it"
	case e.in.Reason(o.Login) == ExcludedCommitter:
		return ExcludedCommitter, "@" + o.Login + " wrote or committed commits in this pull request and cannot override it"
	}
	if !visibleReason(o.Reason) {
		return ExcludedNoReason, "an override needs a reason, in visible letters or digits: /countersign override <reason>"
	}
	if o.CommitSHA != e.f.PR.HeadSHA {
		return ExcludedStale, staleDetail("override made", o.CommitSHA, e.f.PR.HeadSHA)
	}
	if e.beforeBaseChange(o.At) {
		return ExcludedStale, baseStaleDetail("override made", e.f.PR.BaseRef)
	}
	return "", ""
}

// beforeBaseChange reports whether an approval or override made at at
// precedes the pull request's last base change (or shares its second, as
// GitHub's timestamps are whole seconds): it judged the diff against
// another base. A time that is not known (zero) precedes it too.
func (e *eval) beforeBaseChange(at time.Time) bool {
	changed := e.f.PR.BaseChangedAt
	return !changed.IsZero() && !at.After(changed)
}

// visibleReason reports whether an override reason has a visible letter or
// digit: zero-width and other format characters, spaces and punctuation
// alone say nothing.
func visibleReason(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// conclude finishes requirements, exclusions, conclusion and title.
func (e *eval) conclude() {
	v := e.v
	if !e.f.Local {
		e.overrides()
	}
	for _, q := range e.reqs {
		q.Have = len(q.satisfied)
		if q.Have > 0 {
			q.SatisfiedBy = slices.Sorted(slices.Values(q.satisfied))
		}
		q.Uncovered = q.uncovered()
		q.Met = q.Have >= q.Needed && len(q.Uncovered) == 0
		v.Requirements = append(v.Requirements, q.Requirement)
	}
	if len(e.ex) > 0 {
		slices.SortStableFunc(e.ex, func(a, b exclItem) int { return a.order - b.order })
		v.Excluded = make([]Exclusion, len(e.ex))
		for i, x := range e.ex {
			v.Excluded[i] = x.e
		}
	}
	switch {
	case v.Override != nil:
		v.Conclusion = Success
		v.Title = clipTitle(fmt.Sprintf("Overridden by %s: %s", atJoinAnd(v.OverriddenBy), oneLine(v.Override.Reason)))
		return
	}
	var missing []string
	for _, q := range e.reqs {
		if !q.Met {
			missing = append(missing, q.missingText(e))
		}
	}
	var parts []string
	if len(v.Blocking) > 0 {
		names := make([]string, len(v.Blocking))
		for i, b := range v.Blocking {
			names[i] = "@" + b.Login
		}
		parts = append(parts, "Changes requested by "+joinAnd(names))
	}
	parts = append(parts, missing...)
	if len(parts) > 0 {
		v.Conclusion = ActionRequired
		if v.Local {
			parts[0] = "Merge " + lowerFirst(parts[0])
		}
		for i := 1; i < len(parts); i++ {
			parts[i] = lowerFirst(parts[i])
		}
		v.Title = clipTitle(strings.Join(parts, "; "))
		return
	}
	v.Conclusion = Success
	switch {
	case len(e.reqs) == 0 && e.agentAuthor:
		v.Title = clipTitle("No approval needed: agent-authored by " + e.agentPhrase() + ", and the policy asks for none")
	case len(e.reqs) == 0 && automationOnly(v) != "":
		v.Title = clipTitle("No approval needed: automation (" + automationOnly(v) + "), no protected paths")
	case len(e.reqs) == 0:
		v.Title = "No approval needed: human change, no protected paths"
	default:
		var by loginSet
		for _, q := range e.reqs {
			for _, s := range q.SatisfiedBy {
				by.add(s)
			}
		}
		names := slices.Sorted(slices.Values(by))
		for i := range names {
			names[i] = "@" + names[i]
		}
		v.Title = clipTitle("Approved by " + joinAnd(names))
	}
}

// uncovered lists the files of a code-owner requirement that not enough
// counted approvers own: one of its owners, and one more per unresolved
// person (she may be any of them, so one of them is someone else). A file
// with no code owner is covered by as many counted approvals.
func (r *reqState) uncovered() []string {
	if !r.codeowners {
		return nil
	}
	need := 1 + r.unresolved
	var out []string
	for _, of := range r.owners {
		n := len(r.satisfied)
		if of.owned() {
			n = r.ownerApprovals(of, need)
		}
		if n < need {
			if len(out) == 0 {
				r.firstOwners = n
			}
			out = append(out, of.path)
		}
	}
	return out
}

// ownerApprovals counts the counted approvers who own a file, by name or
// through an owning team, up to enough.
func (r *reqState) ownerApprovals(of ownedFile, enough int) int {
	n := 0
	for _, s := range r.satisfied {
		if of.users.has(s) || r.inOwningTeam(s, of) {
			if n++; n >= enough {
				break
			}
		}
	}
	return n
}

func (r *reqState) inOwningTeam(login string, of ownedFile) bool {
	if len(of.teams) == 0 {
		return false
	}
	for _, t := range r.memberTeams[login] {
		if of.teams.has(normName(t)) {
			return true
		}
	}
	return false
}

func (r *reqState) missingText(e *eval) string {
	short := r.Needed - r.Have
	if short > 0 {
		more := ""
		if r.Have > 0 {
			more = " more"
		}
		return fmt.Sprintf("Needs %d%s %s: %s", short, more, approvalPhrase(short, r.Eligible, r.restricted), r.Reason)
	}
	un := r.Uncovered
	s := "Needs approval from code owners of " + un[0]
	if r.unresolved > 0 {
		if r.firstOwners > 0 {
			n := 1 + r.unresolved - r.firstOwners
			s = fmt.Sprintf("Needs approval from %d more %s of %s", n, plural(n, "code owner", "code owners"), un[0])
		} else {
			s = fmt.Sprintf("Needs approval from %d different code owners of %s", 1+r.unresolved, un[0])
		}
	}
	if len(un) > 1 {
		s += fmt.Sprintf(" and %d more %s", len(un)-1, plural(len(un)-1, "file", "files"))
	}
	if r.unresolved > 0 {
		s += ", since " + e.unresolvedWho() + " could not be matched to a GitHub account and may be any of them"
	}
	return s + ": " + r.Reason
}

// approvalPhrase: "independent approval", "approvals from @acme/sre or @bob".
func approvalPhrase(n int, el Eligibility, restricted bool) string {
	word := plural(n, "approval", "approvals")
	perm := ""
	if el.Permission != "" && el.Permission != config.PermissionWrite {
		perm = " with " + el.Permission + " permission"
	}
	if !restricted {
		return "independent " + word + perm
	}
	return word + " from " + whoText(el, restricted) + perm
}

// whoText names who may approve.
func whoText(el Eligibility, restricted bool) string {
	if !restricted {
		return "anyone with " + el.Permission + " permission"
	}
	var names []string
	for _, t := range el.Teams {
		names = append(names, "@"+t)
	}
	for _, u := range el.Users {
		names = append(names, "@"+u)
	}
	if len(el.CodeOwners) > 0 || len(names) == 0 {
		names = append(names, "code owners")
	}
	if len(names) > 4 {
		names = append(names[:3], fmt.Sprintf("%d others", len(names)-3))
	}
	return strings.Join(names, " or ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// oneLine folds text onto one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clipTitle makes a title one line of at most MaxTitleRunes runes.
func clipTitle(s string) string {
	s = oneLine(s)
	n := 0
	for i := range s {
		if n == MaxTitleRunes-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// isWebFlow reports whether a committer is GitHub's web-flow identity, which
// commits web edits, merges and squashes on a person's behalf.
func isWebFlow(login, email string) bool {
	return strings.EqualFold(login, "web-flow") || strings.EqualFold(email, "noreply@github.com")
}

// automationOnly names the automation bot behind a change no agent wrote:
// the PR's own automation author, else the bot of the commits when an
// automation bot wrote every one of them; "" otherwise.
func automationOnly(v *Verdict) string {
	if v.PR != nil && v.PR.Class == detect.ClassAutomation && v.PR.Automation != "" {
		return v.PR.Automation
	}
	bot := ""
	for _, c := range v.Commits {
		if c.Automation == "" || (bot != "" && c.Automation != bot) {
			return ""
		}
		bot = c.Automation
	}
	return bot
}

// addCommitAuthors records the author and committer of a commit no agent
// wrote as people who are not independent of the change. Whoever committed
// it (amended, rebased or cherry-picked it) put its content there too;
// GitHub's web-flow committer of web edits and merges is nobody.
func (e *eval) addCommitAuthors(c *detect.Commit) {
	e.addAuthor(c.AuthorLogin, c.AuthorName, c.AuthorEmail)
	if !isWebFlow(c.CommitterLogin, c.CommitterEmail) {
		e.addAuthor(c.CommitterLogin, c.CommitterName, c.CommitterEmail)
	}
}

// addAuthor records one commit identity; an address no account could be
// matched to is kept as a stranger, who may be anyone.
func (e *eval) addAuthor(login, name, email string) {
	e.authors.add(login)
	e.authors.add(LoginFromEmail(email))
	if login != "" || strings.TrimSpace(email) == "" {
		return
	}
	if l := e.res.login(email); l != "" {
		e.authors.add(l)
		return
	}
	e.strangers = addIdentity(e.strangers, detect.Identity{Name: name, Email: strings.TrimSpace(email)})
}
