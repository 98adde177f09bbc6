package detect

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Detector classifies commits and pull requests. It is immutable once built
// and safe for concurrent use.
type Detector struct {
	agents map[string]AgentInfo // enabled agents by id
	order  []string             // enabled agent ids in catalogue order

	emails map[string]rule // exact lower-case address
	logins map[string]rule // lower-case login, also read from noreply addresses
	pairs  map[string]rule // lower-case "<id>+<login>" noreply local part
	ids    map[int64]rule  // PR author account id
	labels map[string]rule // lower-case label
	names  map[string]string
	wild   []wildRule

	copilotLogin bool // the plain "Copilot" login of the coding agent is enabled
	replitDomain bool
	lineIdx      [256][]int
	lines        []compiledLine
	branches     []compiledBranch
	trailerRes   []customTrailer
	markers      map[string]rule
	release      map[string]string // lower-case bot login -> automation id for its release bumps
	disclosure   disclosure
}

// AgentInfo describes an agent the detector knows.
type AgentInfo struct {
	// ID is the stable agent id, such as "claude-code".
	ID string `json:"id"`
	// Name is the display name, such as "Claude Code".
	Name string `json:"name"`
	// Builtin is true for agents of the built-in catalogue.
	Builtin bool `json:"builtin"`
}

// rule is what an identity fingerprint points to.
type rule struct {
	agent, automation string
	strength          Strength
}

type wildRule struct {
	pattern string
	rule
}

type compiledLine struct {
	lineRule
	re *regexp.Regexp
}

type compiledBranch struct {
	branchRule
	re *regexp.Regexp
}

type customTrailer struct {
	agent string
	re    *regexp.Regexp
}

var (
	builtinLinesCompiled    = compileBuiltinLines()
	builtinBranchesCompiled = compileBuiltinBranches()
	builtinIDs              = func() map[string]bool {
		m := make(map[string]bool, len(builtinAgents))
		for _, a := range builtinAgents {
			m[a.id] = true
		}
		return m
	}()
)

func compileBuiltinLines() []compiledLine {
	out := make([]compiledLine, len(builtinLines))
	for i, l := range builtinLines {
		out[i].lineRule = l
		if l.re != "" {
			out[i].re = regexp.MustCompile(l.re)
		}
	}
	return out
}

func compileBuiltinBranches() []compiledBranch {
	out := make([]compiledBranch, len(builtinBranches))
	for i, b := range builtinBranches {
		out[i].branchRule = b
		if b.re != "" {
			out[i].re = regexp.MustCompile(`^(?:` + b.re + `)$`)
		}
	}
	return out
}

// New returns a Detector with the built-in catalogue adjusted by o. It fails
// on an unknown id in Disable, a custom agent or bot without an id or with an
// empty fingerprint, and a trailer or branch expression that does not compile,
// naming the offending entry.
func New(o Options) (*Detector, error) {
	d := &Detector{
		agents: map[string]AgentInfo{},
		emails: map[string]rule{},
		logins: map[string]rule{},
		pairs:  map[string]rule{},
		ids:    map[int64]rule{},
		labels: map[string]rule{},
		names:  map[string]string{},
	}
	disabled := map[string]bool{}
	for _, id := range o.Disable {
		if !Known(id) {
			return nil, fmt.Errorf("detect: disable: unknown agent id %q", id)
		}
		disabled[id] = true
	}
	if !o.NoBuiltin {
		for _, a := range builtinAgents {
			if disabled[a.id] {
				for _, n := range a.names {
					d.names[n] = "" // declared, but switched off: no signal, not "other"
				}
				continue
			}
			d.addAgent(a.id, a.name, true)
			for _, e := range a.emails {
				d.emails[e.v] = rule{agent: a.id, strength: e.s}
			}
			for _, l := range a.logins {
				d.logins[l.v] = rule{agent: a.id, strength: l.s}
			}
			for _, p := range a.pairs {
				d.pairs[p.v] = rule{agent: a.id, strength: p.s}
			}
			idStrength := Strong // a reviewer bot's id is as weak as its login
			if len(a.logins) > 0 {
				idStrength = a.logins[0].s
			}
			for _, id := range a.ids {
				d.ids[id] = rule{agent: a.id, strength: idStrength}
			}
			for _, n := range a.names {
				d.names[n] = a.id
			}
			for _, l := range a.labels {
				d.labels[l] = rule{agent: a.id, strength: Weak}
			}
			for _, l := range a.release {
				if d.release == nil {
					d.release = map[string]string{}
				}
				d.release[l] = strings.TrimSuffix(l, "[bot]") + "-release"
			}
			switch a.id {
			case "copilot":
				d.copilotLogin = true
			case "replit":
				d.replitDomain = true
			}
		}
	}
	// Line and branch rules of the enabled built-in agents.
	for _, l := range builtinLinesCompiled {
		if a, ok := d.agents[l.agent]; ok && a.Builtin {
			d.lines = append(d.lines, l)
		}
	}
	for i := range d.lines {
		for _, p := range d.lines[i].prefixes {
			if idx := d.lineIdx[p[0]]; len(idx) == 0 || idx[len(idx)-1] != i {
				d.lineIdx[p[0]] = append(idx, i)
			}
		}
	}
	for _, b := range builtinBranchesCompiled {
		if b.agent != "" {
			if a, ok := d.agents[b.agent]; !ok || !a.Builtin {
				continue
			}
		}
		d.branches = append(d.branches, b)
	}
	// Automation bots: never switched off by NoBuiltin, which concerns agents.
	for _, b := range builtinBots {
		d.addBot(b.id, b.logins, b.emails, b.ids)
	}
	for i, c := range o.Custom {
		if err := d.addCustom(i, c); err != nil {
			return nil, err
		}
	}
	if err := d.disclosure.compile(o.Disclosure); err != nil {
		return nil, err
	}
	for i, b := range o.Automation {
		if strings.TrimSpace(b.ID) == "" {
			return nil, fmt.Errorf("detect: automation bot %d: empty id", i)
		}
		for _, v := range append(append([]string(nil), b.Logins...), b.Emails...) {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("detect: automation bot %q: empty login or email", b.ID)
			}
		}
		var exact []string
		for _, e := range b.Emails {
			e = lowerASCII(strings.TrimSpace(e))
			if strings.Contains(e, "*") {
				d.wild = append(d.wild, wildRule{e, rule{automation: b.ID, strength: Strong}})
			} else {
				exact = append(exact, e)
			}
		}
		d.addBot(b.ID, b.Logins, exact, nil)
	}
	return d, nil
}

func (d *Detector) addAgent(id, name string, builtin bool) {
	if old, ok := d.agents[id]; ok {
		if name != "" {
			old.Name = name
		}
		d.agents[id] = old
		return
	}
	if name == "" {
		name = id
	}
	d.agents[id] = AgentInfo{ID: id, Name: name, Builtin: builtin}
	d.order = append(d.order, id)
}

// addBot registers automation identities; an identity already owned by an
// agent stays the agent's.
func (d *Detector) addBot(id string, logins, emails []string, ids []int64) {
	r := rule{automation: id, strength: Strong}
	for _, l := range logins {
		l = lowerASCII(strings.TrimSpace(l))
		if _, taken := d.logins[l]; !taken {
			d.logins[l] = r
		}
	}
	for _, e := range emails {
		e = lowerASCII(strings.TrimSpace(e))
		if _, taken := d.emails[e]; !taken {
			d.emails[e] = r
		}
	}
	for _, n := range ids {
		if _, taken := d.ids[n]; !taken {
			d.ids[n] = r
		}
	}
}

func (d *Detector) addCustom(i int, c CustomAgent) error {
	id := strings.TrimSpace(c.ID)
	if id == "" {
		return fmt.Errorf("detect: custom agent %d: empty id", i)
	}
	if len(c.Logins)+len(c.Emails)+len(c.Trailers)+len(c.Branches)+len(c.Markers) == 0 {
		if _, builtin := d.agents[id]; !builtin {
			return fmt.Errorf("detect: custom agent %q: no login, email, trailer, branch or marker", id)
		}
	}
	// An id of the built-in catalogue extends that agent's fingerprints.
	d.addAgent(id, strings.TrimSpace(c.Name), false)
	r := rule{agent: id, strength: Strong}
	for _, l := range c.Logins {
		l = lowerASCII(strings.TrimSpace(l))
		if l == "" {
			return fmt.Errorf("detect: custom agent %q: empty login", id)
		}
		d.logins[l] = r
	}
	for _, e := range c.Emails {
		e = lowerASCII(strings.TrimSpace(e))
		if e == "" {
			return fmt.Errorf("detect: custom agent %q: empty email", id)
		}
		if strings.Contains(e, "*") {
			d.wild = append(d.wild, wildRule{e, r})
		} else {
			d.emails[e] = r
		}
	}
	for _, t := range c.Trailers {
		re, err := regexp.Compile(t)
		if err != nil {
			return fmt.Errorf("detect: custom agent %q: trailer %q: %v", id, t, err)
		}
		d.trailerRes = append(d.trailerRes, customTrailer{agent: id, re: re})
	}
	for _, b := range c.Branches {
		re, err := regexp.Compile(`^(?:` + b + `)$`)
		if err != nil {
			return fmt.Errorf("detect: custom agent %q: branch %q: %v", id, b, err)
		}
		d.branches = append(d.branches, compiledBranch{branchRule: branchRule{agent: id, strength: Medium}, re: re})
	}
	for _, mk := range c.Markers {
		mk = strings.TrimSpace(mk)
		if mk == "" {
			return fmt.Errorf("detect: custom agent %q: empty marker", id)
		}
		if d.markers == nil {
			d.markers = map[string]rule{}
		}
		d.markers[mk] = r
	}
	d.names[lowerASCII(id)] = id
	if n := lowerASCII(strings.TrimSpace(c.Name)); n != "" {
		d.names[n] = id
	}
	return nil
}

// Known reports whether id is an agent of the built-in catalogue.
func Known(id string) bool { return builtinIDs[id] }

// Catalogue lists the built-in agents in catalogue order.
func Catalogue() []AgentInfo {
	out := make([]AgentInfo, len(builtinAgents))
	for i, a := range builtinAgents {
		out[i] = AgentInfo{ID: a.id, Name: a.name, Builtin: true}
	}
	return out
}

// Agents lists the agents this detector recognises: the enabled built-in
// ones in catalogue order, then custom ones in declaration order.
func (d *Detector) Agents() []AgentInfo {
	out := make([]AgentInfo, len(d.order))
	for i, id := range d.order {
		out[i] = d.agents[id]
	}
	return out
}

// Positions an identity can hold; they grade the strength of what it proves.
const (
	posAuthor = iota
	posCommitter
	posCoAuthor
	posSignoff
	posResolvedAuthor
	posResolvedCommitter
	posPRAuthor
)

// strengthAt grades an identity rule at a position. An agent that committed
// had the pen (medium at most); an automation bot that only committed or is
// only a co-author did not write the change (weak).
func strengthAt(r rule, pos int) Strength {
	s := r.strength
	if r.agent != "" {
		switch pos {
		case posCommitter, posResolvedAuthor, posResolvedCommitter:
			return capMedium(s)
		}
		return s
	}
	switch pos {
	case posCommitter, posCoAuthor, posResolvedCommitter:
		return Weak
	case posSignoff, posResolvedAuthor:
		return capMedium(s)
	}
	return s
}

func capMedium(s Strength) Strength {
	if s == Strong {
		return Medium
	}
	return s
}

func rank(s Strength) int {
	switch s {
	case Strong:
		return 0
	case Medium:
		return 1
	}
	return 2
}

// found is a signal plus the agent name a declaration gave.
type found struct {
	Signal
	name string
}

// state accumulates one detection.
type state struct {
	arr       [10]found // signals, inline so a detection allocates only its result
	n         int
	extra     []found  // signals beyond len(arr)
	author    Identity // the human author of a commit, when the author is not an agent or bot
	committer Identity // the human committer
	coauthor  Identity // the first human co-author
	requester Identity // a requester named in a PR body
	prHuman   Identity // the human who opened a PR
	squash    bool     // the commit is a GitHub squash merge of several commits
}

func (st *state) add(f found) {
	for i := 0; i < st.count(); i++ {
		o := &st.at(i).Signal
		if o.Kind == f.Kind && o.Match == f.Match && o.Agent == f.Agent && o.Automation == f.Automation {
			if rank(f.Strength) < rank(o.Strength) {
				o.Strength = f.Strength
			}
			return
		}
	}
	if st.n < len(st.arr) {
		st.arr[st.n] = f
		st.n++
		return
	}
	st.extra = append(st.extra, f)
}

func (st *state) count() int { return st.n + len(st.extra) }

func (st *state) at(i int) *found {
	if i < st.n {
		return &st.arr[i]
	}
	return &st.extra[i-st.n]
}

func (st *state) addRule(kind, match string, r rule, s Strength) {
	st.add(found{Signal: Signal{Kind: kind, Match: match, Agent: r.agent, Automation: r.automation, Strength: s}})
}

// Commit classifies a commit.
func (d *Detector) Commit(c Commit) Detection {
	var st state
	st.squash = isWebFlow(c.CommitterEmail) && strings.Contains(c.Message, "\n* ")
	release := d.releaseBump(c)

	if r, ok := d.address(c.AuthorName, c.AuthorEmail); ok {
		s := strengthAt(r, posAuthor)
		if release != "" && r.agent != "" {
			s = Weak
			st.addRule(SignalSubject, firstLine(c.Message), rule{automation: release}, Medium)
		}
		st.addRule(SignalAuthorEmail, c.AuthorEmail, r, s)
		if r.strength == Weak {
			// A weak identity (a Replit user's own address) is still a person.
			st.author = Identity{Name: c.AuthorName, Email: c.AuthorEmail, Login: c.AuthorLogin}
		}
	} else if !d.agentNameShape(&st, c.AuthorName, SignalAuthorName, Medium) {
		st.author = Identity{Name: c.AuthorName, Email: c.AuthorEmail, Login: c.AuthorLogin}
	} else {
		st.author = Identity{Name: stripAider(c.AuthorName), Email: c.AuthorEmail, Login: c.AuthorLogin}
	}
	if r, ok := d.address(c.CommitterName, c.CommitterEmail); ok {
		s := strengthAt(r, posCommitter)
		if release != "" && r.agent != "" {
			s = Weak
		}
		st.addRule(SignalCommitterEmail, c.CommitterEmail, r, s)
	} else {
		name := c.CommitterName
		if d.agentNameShape(&st, c.CommitterName, SignalAuthorName, Weak) {
			name = stripAider(name)
		}
		if !isWebFlow(c.CommitterEmail) {
			st.committer = Identity{Name: name, Email: c.CommitterEmail, Login: c.CommitterLogin}
		}
	}
	// GitHub's resolved accounts: useful, but they can be wrong (the
	// numeric-id trap), so they never count as more than medium.
	if r, ok := d.login(c.AuthorLogin); ok {
		st.addRule(SignalLogin, c.AuthorLogin, r, strengthAt(r, posResolvedAuthor))
		if r.agent != "" || r.automation != "" {
			st.author = Identity{}
		}
	}
	if r, ok := d.login(c.CommitterLogin); ok {
		st.addRule(SignalLogin, c.CommitterLogin, r, strengthAt(r, posResolvedCommitter))
		st.committer = Identity{}
	}

	for it := newTrailerIter(c.Message); ; {
		key, value, line, ok := it.next()
		if !ok {
			break
		}
		d.trailer(&st, SignalTrailer, key, value, line)
	}
	if st.squash {
		d.squashBody(&st, c.Message)
	}
	d.scanLines(&st, c.Message, SignalFooter)
	if hasPrefixFold(c.Message, "aider: ") && d.agents["aider"].Builtin {
		// aider's hard-coded subject prefix before mid-2024; a human may
		// write it too, so only the transcript line decides.
		st.addRule(SignalSubject, firstLine(c.Message), rule{agent: "aider"}, Weak)
	}

	if len(c.Notes) > 0 {
		d.notes(&st, c.Notes)
	}

	det := d.finish(&st)
	if det.Class == ClassAgent {
		// Candidates are kept raw and cleaned only here, when needed.
		for _, op := range [...]*Identity{&st.author, &st.coauthor, &st.committer} {
			if o := humanIdentity(op.Name, op.Email, op.Login); !o.IsZero() {
				det.Operator = &o
				break
			}
		}
	}
	return det
}

// PullRequest classifies a pull request on its own fields (not its commits).
func (d *Detector) PullRequest(pr PullRequest) Detection {
	var st state

	login := strings.TrimSpace(pr.AuthorLogin)
	ll := lowerASCII(login)
	isBotType := strings.EqualFold(pr.AuthorType, "Bot")
	switch r, ok := d.login(login); {
	case ll == "copilot" && d.copilotLogin:
		// The Copilot coding agent opens PRs as "Copilot", type Bot, without a [bot] suffix.
		s := Medium
		if isBotType || pr.AuthorID == 198982749 {
			s = Strong
		}
		st.addRule(SignalLogin, login, rule{agent: "copilot"}, s)
	case ok:
		st.addRule(SignalLogin, login, r, strengthAt(r, posPRAuthor))
	case pr.AuthorID != 0 && d.ids[pr.AuthorID].strength != "":
		r := d.ids[pr.AuthorID]
		st.addRule(SignalLogin, login+" (id "+strconv.FormatInt(pr.AuthorID, 10)+")", r, strengthAt(r, posPRAuthor))
	case ll != "" && (isBotType || strings.HasSuffix(ll, "[bot]")):
		st.addRule(SignalLogin, login, rule{automation: ll}, Medium)
	case login != "":
		st.prHuman = Identity{Login: login}
	}

	d.scanLines(&st, pr.Body, SignalBodyMarker)

	if b := strings.TrimPrefix(pr.HeadRef, "refs/heads/"); b != "" {
		var matched [4]*compiledBranch
		done := matched[:0]
	rules:
		for i := range d.branches {
			br := &d.branches[i]
			for _, k := range done {
				if k.agent == br.agent && k.automation == br.automation {
					continue rules
				}
			}
			ok := false
			if br.match != nil {
				ok = br.match(b)
			} else {
				ok = br.re.MatchString(b)
			}
			if ok {
				done = append(done, br)
				st.addRule(SignalBranch, b, rule{agent: br.agent, automation: br.automation}, br.strength)
			}
		}
	}
	for _, l := range pr.Labels {
		if r, ok := d.labels[lowerASCII(strings.TrimSpace(l))]; ok {
			st.addRule(SignalLabel, l, r, r.strength)
		}
	}

	det := d.finish(&st)
	if det.Class == ClassAgent {
		for _, op := range [...]*Identity{&st.prHuman, &st.requester} {
			if !op.IsZero() {
				o := *op
				det.Operator = &o
				break
			}
		}
	}
	return det
}

// finish sorts the signals strongest first and decides the class: an agent
// signal of strong or medium strength beats any automation signal; weak
// signals never decide.
func (d *Detector) finish(st *state) Detection {
	n := st.count()
	// Stable insertion sort: few signals, discovery order kept within a strength.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && rank(st.at(j).Strength) < rank(st.at(j-1).Strength); j-- {
			a, b := st.at(j), st.at(j-1)
			*a, *b = *b, *a
		}
	}
	det := Detection{Class: ClassHuman, Signals: make([]Signal, n)}
	for i := 0; i < n; i++ {
		det.Signals[i] = st.at(i).Signal
	}
	for i := 0; i < n; i++ {
		f := st.at(i)
		if f.Agent != "" && f.Strength != Weak {
			det.Class, det.Agent = ClassAgent, f.Agent
			det.AgentName = d.agents[f.Agent].Name
			if f.name != "" {
				det.AgentName = f.name
			}
			if det.AgentName == "" {
				det.AgentName = f.Agent
			}
			return det
		}
	}
	for i := 0; i < n; i++ {
		if f := st.at(i); f.Automation != "" && f.Strength != Weak {
			det.Class, det.Automation = ClassAutomation, f.Automation
			return det
		}
	}
	return det
}

// address finds the rule for a commit or trailer identity: an exact address,
// a noreply address's "<id>+<login>" pair or App login, a custom wildcard.
// The bare noreply domain alone never matches, and neither does a name.
func (d *Detector) address(name, email string) (rule, bool) {
	var buf [128]byte
	e := lowerBytes(&buf, strings.TrimSpace(email))
	if len(e) == 0 {
		return rule{}, false
	}
	if r, ok := d.emails[string(e)]; ok {
		return r, true
	}
	const noreply = "@users.noreply.github.com"
	if len(e) > len(noreply) && string(e[len(e)-len(noreply):]) == noreply {
		local := e[:len(e)-len(noreply)]
		login := local
		if i := bytes.IndexByte(local, '+'); i > 0 && isDigits(string(local[:i])) {
			if r, ok := d.pairs[string(local)]; ok {
				return r, true
			}
			login = local[i+1:]
		}
		if string(login) == "github-advanced-security[bot]" && d.agents["copilot"].Builtin &&
			hasPrefixFold(strings.TrimSpace(name), "copilot autofix") {
			return rule{agent: "copilot", strength: Medium}, true
		}
		if r, ok := d.logins[string(login)]; ok {
			return r, true
		}
		if len(login) > len("[bot]") && bytes.HasSuffix(login, []byte("[bot]")) {
			return rule{automation: string(login), strength: Medium}, true
		}
	} else if d.replitDomain && bytes.HasSuffix(e, []byte("@users.noreply.replit.com")) {
		// The user's own Replit identity: the work happened in Replit, not
		// necessarily by its agent.
		return rule{agent: "replit", strength: Weak}, true
	}
	if len(d.wild) > 0 {
		es := string(e)
		for _, wr := range d.wild {
			if globMatch(wr.pattern, es) {
				return wr.rule, true
			}
		}
	}
	return rule{}, false
}

// login finds the rule for a GitHub login (App bots with their suffix).
func (d *Detector) login(login string) (rule, bool) {
	if login == "" {
		return rule{}, false
	}
	var buf [128]byte
	r, ok := d.logins[string(lowerBytes(&buf, strings.TrimSpace(login)))]
	return r, ok
}

// agentNameShape records aider's "Name (aider)" attribution.
func (d *Detector) agentNameShape(st *state, name, kind string, s Strength) bool {
	if !hasSuffixFold(strings.TrimSpace(name), " (aider)") {
		return false
	}
	if a, ok := d.agents["aider"]; ok && a.Builtin {
		st.addRule(kind, name, rule{agent: "aider"}, s)
		return true
	}
	return false
}

func stripAider(name string) string {
	name = strings.TrimSpace(name)
	return strings.TrimSpace(name[:len(name)-len(" (aider)")])
}

// trailer examines one trailer of a commit's trailer block.
func (d *Detector) trailer(st *state, kind, key, value, line string) {
	var buf [128]byte
	kb := lowerBytes(&buf, key)
	switch trailerKeys[string(kb)] {
	case keyCoAuthoredBy:
		name, email := splitIdent(value)
		if r, ok := d.address(name, email); ok {
			st.addRule(SignalTrailer, line, r, strengthAt(r, posCoAuthor))
		} else if st.coauthor.IsZero() {
			st.coauthor = humanIdentity(name, email, "")
		}
	case keySignedOffBy:
		name, email := splitIdent(value)
		if strings.EqualFold(email, "support@github.com") && strings.EqualFold(name, "dependabot[bot]") {
			// In a squash merge the sign-off was folded in from one of the
			// squashed commits; it says nothing of who wrote the rest.
			s := Medium
			if st.squash {
				s = Weak
			}
			st.addRule(SignalTrailer, line, rule{automation: "dependabot"}, s)
		} else if r, ok := d.address(name, email); ok {
			st.addRule(SignalTrailer, line, r, strengthAt(r, posSignoff))
		} else if email == "" && strings.EqualFold(name, "gemini") && d.agents["gemini"].Builtin {
			// Early Gemini-written commits: a name only, so never decisive.
			st.addRule(SignalTrailer, line, rule{agent: "gemini"}, Weak)
		}
	case keyDeclared:
		if id, name, ok := d.declared(value); ok {
			st.add(found{Signal: Signal{Kind: kind, Match: line, Agent: id, Strength: Medium}, name: name})
		}
	case keyMadeWith:
		// Cursor's "Made-with: Cursor"; "Made-with: love" is not a declaration.
		if id, _, ok := d.declared(value); ok && id != OtherAgent {
			st.addRule(SignalTrailer, line, rule{agent: id}, Medium)
		}
	case keyClaudeSession:
		if d.agents["claude-code"].Builtin {
			s := Medium
			if strings.Contains(value, "claude.ai/code/session_") {
				s = Strong
			}
			st.addRule(kind, line, rule{agent: "claude-code"}, s)
		}
	case keyAgentLogs:
		// The Copilot cloud agent (since 2026-03-20) and Claude on GitHub
		// add it; the URL does not say which agent, the identity does.
		if d.agents[OtherAgent].Builtin {
			s := Weak
			if agentLogsURLRe.MatchString(value) {
				s = Medium
			}
			st.add(found{Signal: Signal{Kind: kind, Match: line, Agent: OtherAgent, Strength: s}, name: "GitHub-hosted agent (Agent-Logs-Url)"})
		}
	case keyCopilotSession:
		if d.agents["copilot"].Builtin {
			st.addRule(kind, line, rule{agent: "copilot"}, Medium)
		}
	case keyAmpThread:
		if d.agents["amp"].Builtin {
			s := Medium
			if strings.Contains(value, "ampcode.com/threads/") {
				s = Strong
			}
			st.addRule(kind, line, rule{agent: "amp"}, s)
		}
	case keyEntire:
		if d.agents[OtherAgent].Builtin {
			st.add(found{Signal: Signal{Kind: SignalTrailer, Match: line, Agent: OtherAgent, Strength: Weak}, name: "Entire"})
		}
	default:
		if bytes.HasPrefix(kb, []byte("replit-")) && d.agents["replit"].Builtin {
			s := Medium
			if string(kb) == "replit-commit-author" {
				if strings.EqualFold(value, "agent") || strings.EqualFold(value, "assistant") {
					s = Strong
				} else {
					s = Weak
				}
			}
			st.addRule(SignalTrailer, line, rule{agent: "replit"}, s)
		}
	}
	for _, ct := range d.trailerRes {
		if ct.re.MatchString(line) {
			st.addRule(SignalTrailer, line, rule{agent: ct.agent}, Strong)
		}
	}
}

// declared maps the value of an Assisted-by / Generated-by / Co-authored-by-AI
// trailer ("AGENT:MODEL [TOOL...]", "Tool (model)", "Name <address>") to an
// agent id. A line naming only non-AI tools (coccinelle, sparse) or a person
// with an ordinary address declares no agent; an AI name the catalogue does
// not know becomes OtherAgent with that name.
func (d *Detector) declared(value string) (id, name string, ok bool) {
	v := strings.TrimSpace(value)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		before := strings.TrimSpace(v[:i])
		email := v[i+1:]
		if j := strings.IndexByte(email, '>'); j >= 0 {
			email = email[:j]
		}
		if r, ok := d.address(before, email); ok {
			if r.agent != "" {
				return r.agent, "", true
			}
			return "", "", false // an automation bot is not an AI agent
		}
		if strings.TrimSpace(email) != "" && !strings.Contains(before, ":") {
			return "", "", false // a person
		}
		v = before
	}
	// "Assisted-by: Claude Sonnet 4.5 via Crush": the tool is the agent,
	// not the model's vendor.
	if i := indexFold(v, " via "); i >= 0 {
		v = strings.TrimSpace(v[i+len(" via "):])
	}
	agentPart := v
	if i := strings.IndexByte(agentPart, ':'); i >= 0 {
		agentPart = agentPart[:i]
	}
	if i := strings.IndexByte(agentPart, '('); i >= 0 {
		agentPart = agentPart[:i]
	}
	agentPart = strings.TrimSpace(agentPart)
	if agentPart == "" {
		return "", "", false
	}
	lower := lowerASCII(agentPart)
	var words [3]string
	n, allTools := 0, true
	for _, f := range strings.FieldsFunc(lower, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f)
	}) {
		if n < len(words) {
			words[n] = f
			n++
		}
		if !nonAITools[f] && !isDigits(f) {
			allTools = false
		}
	}
	if n == 0 || allTools {
		return "", "", false
	}
	for _, key := range [...]string{lower, words[0] + " " + words[1], words[0]} {
		if id, ok := d.names[key]; ok {
			return id, "", id != ""
		}
	}
	if d.agents[OtherAgent].Builtin {
		return OtherAgent, agentPart, true
	}
	return "", "", false
}

// scanLines looks for footer lines and markers in a commit message or PR
// body. Only whole lines count: lines inside fenced code blocks, indented by
// four or more spaces or a tab, or quoted with ">" are skipped, and a marker
// must open its line, so one mentioned in prose or in backticks does not count.
func (d *Detector) scanLines(st *state, text, kind string) {
	inFence, wantRequester := false, false
	for rest := text; rest != ""; {
		var ln string
		ln, rest = nextLine(rest)
		ind := 0
		for ind < len(ln) && ln[ind] == ' ' {
			ind++
		}
		t := strings.TrimRight(ln[ind:], " \t\r")
		if t == "" {
			continue
		}
		if ind < 4 && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			inFence = !inFence
			continue
		}
		if inFence || ind >= 4 || t[0] == '\t' || t[0] == '>' {
			continue
		}
		for _, i := range d.lineIdx[t[0]] {
			lr := &d.lines[i]
			if !hasAnyPrefix(t, lr.prefixes) {
				continue
			}
			if lr.re == nil {
				st.addRule(lr.kind, t, rule{agent: lr.agent}, lr.strength)
				continue
			}
			if lr.opGroup == 0 {
				if lr.re.MatchString(t) {
					st.addRule(lr.kind, t, rule{agent: lr.agent}, lr.strength)
				}
				continue
			}
			if sm := lr.re.FindStringSubmatch(t); sm != nil {
				st.addRule(lr.kind, t, rule{agent: lr.agent}, lr.strength)
				if op := sm[lr.opGroup]; op != "" && st.requester.IsZero() {
					st.requester = Identity{Login: op}
				}
			}
		}
		if d.markers != nil {
			if r, ok := d.markers[strings.TrimSpace(t)]; ok {
				st.addRule(kind, t, r, Strong)
			}
		}
		if kind == SignalBodyMarker {
			if wantRequester {
				wantRequester = false
				if st.requester.IsZero() {
					st.requester = parseRequester(t)
				}
			}
			if v, ok := requesterLine(t); ok {
				if v == "" {
					wantRequester = true
				} else if st.requester.IsZero() {
					st.requester = parseRequester(v)
				}
			}
			d.bodyLine(st, t)
		}
	}
}

// bodyLine reads the PR-body signals that are not fixed markers: session
// links and declaration lines written as "Key: value" (where trailers are
// banned, they move to the description), a bare Agent-Logs-Url session link,
// and AI disclosures.
func (d *Detector) bodyLine(st *state, t string) {
	if key, value, ok := splitTrailer(t); ok {
		var buf [128]byte
		switch trailerKeys[string(lowerBytes(&buf, key))] {
		case keyDeclared, keyClaudeSession, keyAgentLogs, keyCopilotSession, keyAmpThread:
			d.trailer(st, SignalBodyMarker, key, value, t)
			return
		}
	}
	if t[0] == 'h' || t[0] == '<' {
		if strings.Contains(t, "/sessions/") && agentLogsURLRe.MatchString(t) && d.agents[OtherAgent].Builtin {
			st.add(found{Signal: Signal{Kind: SignalBodyMarker, Match: t, Agent: OtherAgent, Strength: Medium}, name: "GitHub-hosted agent (session link)"})
			return
		}
	}
	if d.disclosure.on() {
		d.disclosure.line(st, t)
	}
}

// requesterLine recognises Devin's "Requested by: …", "**Requested by:** …"
// and the "## Requested by" heading (whose value is on the next line).
func requesterLine(t string) (string, bool) {
	s := strings.TrimLeft(t, "#* ")
	if !hasPrefixFold(s, "requested by") {
		return "", false
	}
	s = strings.TrimLeft(s[len("requested by"):], "*: ")
	return strings.TrimSpace(s), true
}

var requesterRe = regexp.MustCompile(`^(.*?)\s*[(<]\s*([^()<>\s]+@[^()<>\s]+)\s*[)>]$`)

// parseRequester reads "@login", "Name (email)", "Name <email>" or "Name".
func parseRequester(v string) Identity {
	v = strings.Trim(strings.TrimSpace(v), "*_` ")
	if v == "" {
		return Identity{}
	}
	if strings.HasPrefix(v, "@") {
		l := v[1:]
		if i := strings.IndexFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}); i >= 0 {
			l = l[:i]
		}
		if l == "" {
			return Identity{}
		}
		return Identity{Login: l}
	}
	if sm := requesterRe.FindStringSubmatch(v); sm != nil {
		return humanIdentity(sm[1], sm[2], "")
	}
	if strings.ContainsAny(v, "<>[]()") || len(v) > 100 {
		return Identity{}
	}
	return Identity{Name: v}
}

// humanIdentity builds an operator candidate, or a zero Identity when nothing usable is
// known (Devin's "unknown <>").
func humanIdentity(name, email, login string) Identity {
	name, email, login = strings.TrimSpace(name), strings.TrimSpace(email), strings.TrimSpace(login)
	if strings.EqualFold(name, email) {
		name = "" // Devin writes "someone@x.com <someone@x.com>"
	}
	if email == "" && (name == "" || strings.EqualFold(name, "unknown")) && login == "" {
		return Identity{}
	}
	if hasSuffixFold(name, "[bot]") && email == "" {
		return Identity{}
	}
	if l := LoginFromEmail(email); l != "" {
		login = l
	}
	return Identity{Login: login, Name: name, Email: email}
}

// LoginFromEmail returns the GitHub login of a noreply address
// ("<id>+<login>@users.noreply.github.com" or "<login>@users.noreply.github.com"),
// or "" for any other address.
func LoginFromEmail(email string) string {
	e := strings.TrimSpace(email)
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || !strings.EqualFold(e[at+1:], "users.noreply.github.com") {
		return ""
	}
	local := e[:at]
	if id, l, ok := strings.Cut(local, "+"); ok && isDigits(id) {
		return l
	}
	return local
}

// splitIdent splits "Name <email>"; it also accepts "Name email@host" (an
// OpenHands variant without angle brackets) and a bare address.
func splitIdent(v string) (name, email string) {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		email = v[i+1:]
		if j := strings.IndexByte(email, '>'); j >= 0 {
			email = email[:j]
		}
		return strings.TrimSpace(v[:i]), strings.TrimSpace(email)
	}
	if i := strings.LastIndexAny(v, " \t"); i >= 0 {
		if last := v[i+1:]; strings.Contains(last, "@") {
			return strings.TrimSpace(v[:i]), last
		}
		return v, ""
	}
	if strings.Contains(v, "@") {
		return "", v
	}
	return v, ""
}

func isWebFlow(email string) bool {
	return strings.EqualFold(strings.TrimSpace(email), "noreply@github.com")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Trailer keys the detector reads, lower case.
const (
	keyOther = iota
	keyCoAuthoredBy
	keySignedOffBy
	keyDeclared
	keyClaudeSession
	keyAmpThread
	keyEntire
	keyMadeWith
	keyAgentLogs
	keyCopilotSession
)

var trailerKeys = map[string]int{
	"co-authored-by": keyCoAuthoredBy, "signed-off-by": keySignedOffBy,
	"assisted-by": keyDeclared, "generated-by": keyDeclared, "co-authored-by-ai": keyDeclared,
	"entire-agent": keyDeclared, "made-with": keyMadeWith,
	"claude-session": keyClaudeSession, "amp-thread-id": keyAmpThread,
	"agent-logs-url": keyAgentLogs, "copilot-session": keyCopilotSession,
	"entire-session": keyEntire, "entire-checkpoint": keyEntire,
}

// lowerBytes lower-cases the ASCII letters of s into buf, or into a new
// slice when s is longer; use string(result) only in map lookups and
// comparisons, which do not allocate.
func lowerBytes(buf *[128]byte, s string) []byte {
	var b []byte
	if len(s) <= len(buf) {
		b = buf[:len(s)]
	} else {
		b = make([]byte, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return b
}

// lowerASCII lower-cases ASCII letters without allocating when there are none.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// globMatch matches s against a pattern in which "*" stands for any run of
// characters and everything else is literal.
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			if c := pattern[px]; c == '*' {
				nextPx, nextSx = px, sx+1
				px++
				continue
			} else if sx < len(s) && s[sx] == c {
				px++
				sx++
				continue
			}
		}
		if nextPx >= 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}
