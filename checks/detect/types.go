// Package detect tells AI-agent authorship from human and automation-bot
// authorship of commits and pull requests, from the fingerprints agents leave:
// bot identities, author and committer addresses, trailers, footer lines,
// PR-body markers and branch shapes. It never decides on a display name alone.
//
// Detection is pure: no network, no clock.
package detect

// Class is what a detection concluded the author is.
type Class string

// Classes a detection can conclude.
const (
	ClassHuman      Class = "human"
	ClassAgent      Class = "agent"
	ClassAutomation Class = "automation"
)

// Strength grades how much a signal proves on its own.
type Strength string

// Signal strengths. A strong or medium signal classifies on its own; a weak
// one is reported but never decides.
const (
	Strong Strength = "strong"
	Medium Strength = "medium"
	Weak   Strength = "weak"
)

// Signal kinds.
const (
	SignalLogin          = "login"           // PR author login or numeric id
	SignalAuthorEmail    = "author_email"    // commit author address
	SignalCommitterEmail = "committer_email" // commit committer address
	SignalAuthorName     = "author_name"     // a name shape such as "Name (aider)", never a bare display name
	SignalTrailer        = "trailer"         // a trailer in the message's trailer block
	SignalFooter         = "footer"          // a whole footer line such as "🤖 Generated with [Claude Code](…)"
	SignalBodyMarker     = "body_marker"     // a PR-body marker such as a Copilot HTML comment
	SignalBranch         = "branch"          // the head branch shape
	SignalLabel          = "label"           // a PR label an agent sets
	SignalSubject        = "subject"         // a commit subject shape such as aider's "aider: " or a release bump
	SignalDisclosure     = "disclosure"      // a PR-body AI-disclosure line or ticked checkbox
	SignalNote           = "note"            // a git note on the commit (refs/notes/ai of git-ai, refs/notes/whogitit)
)

// Signal is one piece of evidence that produced a detection.
type Signal struct {
	// Kind is one of the Signal* constants.
	Kind string `json:"kind"`
	// Match is the text that matched, such as the address or the trailer line.
	Match string `json:"match"`
	// Agent is the agent id the signal points to; empty for automation signals.
	Agent string `json:"agent,omitempty"`
	// Automation is the automation bot id the signal points to, if any.
	Automation string `json:"automation,omitempty"`
	// Strength grades the signal.
	Strength Strength `json:"strength"`
}

// Identity is a person or account as far as it is known: a login, or a name
// and address from a commit.
type Identity struct {
	// Login is the GitHub login, when known or derivable from a noreply address.
	Login string `json:"login,omitempty"`
	// Name is the display name from a commit or trailer.
	Name string `json:"name,omitempty"`
	// Email is the address from a commit or trailer.
	Email string `json:"email,omitempty"`
}

// String names the identity for people: "@login", else "Name <email>",
// "<email>" or the name alone.
func (i Identity) String() string {
	switch {
	case i.Login != "":
		return "@" + i.Login
	case i.Name != "" && i.Email != "":
		return i.Name + " <" + i.Email + ">"
	case i.Email != "":
		return "<" + i.Email + ">"
	}
	return i.Name
}

// ClassLabel names who wrote something in a word or two: "agent claude-code",
// "automation dependabot" or "human".
func ClassLabel(c Class, agent, automation string) string {
	switch c {
	case ClassAgent:
		return "agent " + agent
	case ClassAutomation:
		return "automation " + automation
	}
	return "human"
}

// IsZero reports whether nothing is known of the identity.
func (i Identity) IsZero() bool { return i.Login == "" && i.Name == "" && i.Email == "" }

// Detection is the verdict on one commit or pull request.
type Detection struct {
	// Class is human, agent or automation.
	Class Class `json:"class"`
	// Agent is the agent id when Class is agent, such as "claude-code".
	Agent string `json:"agent,omitempty"`
	// AgentName is the agent's display name, such as "Claude Code".
	AgentName string `json:"agent_name,omitempty"`
	// Automation is the automation bot id when Class is automation, such as "dependabot".
	Automation string `json:"automation,omitempty"`
	// Signals lists every signal found, strongest first, including weak ones that did not decide.
	Signals []Signal `json:"signals"`
	// Operator is the human who delegated the work to the agent, when one can be told.
	Operator *Identity `json:"operator,omitempty"`
}

// IsAgent reports whether the detection found an AI agent.
func (d Detection) IsAgent() bool { return d.Class == ClassAgent }

// Deciding returns the signal that decided the class: the strongest signal
// naming the detected agent (or automation bot); false for a human verdict.
// It is not always Signals[0]: an automation identity can be as strong as
// the agent signal that beat it.
func (d Detection) Deciding() (Signal, bool) {
	for _, s := range d.Signals {
		if s.Strength == Weak {
			continue
		}
		if d.Class == ClassAgent && s.Agent == d.Agent || d.Class == ClassAutomation && s.Automation == d.Automation {
			return s, true
		}
	}
	return Signal{}, false
}

// Commit is what detection reads of a commit.
type Commit struct {
	// SHA is the commit id.
	SHA string `json:"sha"`
	// AuthorName and AuthorEmail are the git author.
	AuthorName  string `json:"author_name"`
	AuthorEmail string `json:"author_email"`
	// AuthorLogin is the GitHub account GitHub resolved the author to, if any; it can be wrong (see the numeric-id trap).
	AuthorLogin string `json:"author_login,omitempty"`
	// CommitterName and CommitterEmail are the git committer.
	CommitterName  string `json:"committer_name"`
	CommitterEmail string `json:"committer_email"`
	// CommitterLogin is the GitHub account GitHub resolved the committer to, if any.
	CommitterLogin string `json:"committer_login,omitempty"`
	// Message is the full commit message, trailers included.
	Message string `json:"message"`
	// Signature is "gpg", "ssh", "x509" or "" when unsigned or of an armour
	// git does not know (SignatureKind).
	Signature string `json:"signature,omitempty"`
	// Verified is GitHub's verification result for the signature, when known.
	Verified bool `json:"verified,omitempty"`
	// Parents is the number of parents (2 or more for a merge commit).
	Parents int `json:"parents"`
	// Notes are the commit's AI-provenance git notes (refs/notes/ai,
	// refs/notes/whogitit) where the reader can see them; nil otherwise.
	Notes []Note `json:"notes,omitempty"`
}

// Note is one git note attached to a commit.
type Note struct {
	// Ref is the notes ref, such as "refs/notes/ai".
	Ref string `json:"ref"`
	// Text is the note's content as stored.
	Text string `json:"text"`
}

// PullRequest is what detection reads of a pull request.
type PullRequest struct {
	// Number is the PR number.
	Number int `json:"number"`
	// AuthorLogin, AuthorType ("User" or "Bot") and AuthorID identify who opened the PR.
	AuthorLogin string `json:"author_login"`
	AuthorType  string `json:"author_type"`
	AuthorID    int64  `json:"author_id"`
	// HeadRef is the head branch name without refs/heads/.
	HeadRef string `json:"head_ref"`
	// Title and Body are the PR's text.
	Title string `json:"title"`
	Body  string `json:"body"`
	// Labels are the PR's label names.
	Labels []string `json:"labels,omitempty"`
}

// Trailer is one "Key: value" line of a commit message's trailer block.
type Trailer struct {
	// Key is the trailer key as written, such as "Co-authored-by".
	Key string `json:"key"`
	// Value is everything after the colon, trimmed.
	Value string `json:"value"`
	// Line is the whole line as written.
	Line string `json:"line"`
}

// Options configures a Detector beyond the built-in catalogue.
type Options struct {
	// NoBuiltin switches the built-in agent catalogue off.
	NoBuiltin bool
	// Disable lists built-in agent ids to switch off.
	Disable []string
	// Custom lists agents declared by the maintainers.
	Custom []CustomAgent
	// Automation lists extra automation bots.
	Automation []CustomBot
	// Disclosure configures PR-body AI disclosures (lines and ticked checkboxes).
	Disclosure DisclosureOptions
}

// DisclosureOptions configures how a PR body discloses AI use without
// trailers: a disclosure line ("AI disclosure: …", "AI-assisted: yes") or a
// ticked checkbox ("- [x] AI was used …").
type DisclosureOptions struct {
	// NoBuiltin switches the built-in disclosure patterns off.
	NoBuiltin bool
	// Lines are Go regular expressions matched against each whole (trimmed)
	// PR-body line outside code blocks and quotes.
	Lines []string
	// Checkboxes are Go regular expressions matched against the label of each
	// ticked task-list checkbox; an unticked box never counts.
	Checkboxes []string
}

// CustomAgent is an agent declared in the policy file; see config.AgentDef.
type CustomAgent struct {
	ID       string
	Name     string
	Logins   []string
	Emails   []string
	Trailers []string
	Branches []string
	Markers  []string
}

// CustomBot is an automation bot declared in the policy file; see config.BotDef.
type CustomBot struct {
	ID     string
	Logins []string
	Emails []string
}
