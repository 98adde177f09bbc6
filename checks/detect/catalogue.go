package detect

import "strings"

// The built-in catalogue: every fingerprint below was observed in real git
// history, vendor source or vendor documentation (research notes, August
// 2026). Each is anchored on a stable part: an exact address, a numeric id in
// a noreply address, an App login with its [bot] suffix, a URL host in a whole
// line, or an exact branch shape. Display names are never matched on their own.

// OtherAgent is the agent id given to an AI tool declared in an Assisted-by,
// Generated-by or Co-authored-by-AI trailer whose name the catalogue does not
// know; the declared name becomes the detection's AgentName.
const OtherAgent = "other"

// fp is one fingerprint value with the strength it carries when the
// fingerprint is the author (or the PR's opener, or a co-author).
type fp struct {
	v string
	s Strength
}

func s(v string) fp { return fp{v, Strong} }
func m(v string) fp { return fp{v, Medium} }
func w(v string) fp { return fp{v, Weak} }

// builtinAgent is one agent of the built-in catalogue.
type builtinAgent struct {
	id, name string
	// emails are exact commit author/committer/co-author addresses.
	emails []fp
	// logins are GitHub logins (App bots with their [bot] suffix, or plain
	// accounts that only the vendor owns), matched as PR author, as GitHub's
	// resolved commit author, and inside noreply addresses.
	logins []fp
	// pairs are "<id>+<login>" noreply local parts for plain (non-[bot])
	// logins whose meaning depends on the id.
	pairs []fp
	// ids are numeric account ids of the PR author.
	ids []int64
	// names are the tool names an Assisted-by/Generated-by trailer uses,
	// lower case, one or two words.
	names []string
	// labels are PR labels the agent's App sets or reacts to (weak).
	labels []string
	// release are logins of the agent's bot that also push release version
	// bumps; such a commit is automation "<login>-release", not agent work.
	release []string
}

var builtinAgents = []builtinAgent{
	{
		id: "claude-code", name: "Claude Code",
		emails: []fp{s("noreply@anthropic.com"), m("claude@anthropic.com"), m("claude@anthropic.ai")},
		// Not the plain login "claude" (id 81847): an early account of
		// unknown ownership (research trap 2).
		// anthropic-code-agent[bot] is Claude on GitHub (the hosted agent,
		// 2026), which commits as Claude <242468646+Claude@users.noreply.github.com>.
		logins: []fp{s("claude[bot]"), s("anthropic-claude[bot]"), s("claude-code-action[bot]"), s("anthropic-code-agent[bot]")},
		pairs:  []fp{s("242468646+claude")},
		ids:    []int64{209825114, 215619710, 208546643, 242468646},
		names:  []string{"claude", "claude code", "anthropic", "anthropic claude"},
	},
	{
		id: "copilot", name: "GitHub Copilot",
		// copilot@github.com was written by VS Code 1.117 without Copilot
		// use (vscode#314311); 223556219 is the Copilot CLI/app co-author and
		// 175728472 a committed review suggestion: AI-touched, medium.
		emails: []fp{m("copilot@github.com")},
		logins: []fp{s("copilot-swe-agent[bot]"), s("copilot[bot]"), m("copilot-pull-request-reviewer[bot]")},
		pairs:  []fp{s("198982749+copilot"), m("223556219+copilot"), m("175728472+copilot")},
		ids:    []int64{198982749, 167198135},
		names:  []string{"copilot", "github copilot", "copilot cli", "copilot app", "copilot chat"},
	},
	{
		id: "codex", name: "OpenAI Codex",
		emails: []fp{s("noreply@openai.com"), m("codex@openai.com"), m("codex@agent"), m("codex@local"), w("codex@example.com")},
		// openai-code-agent[bot] (id 242516109) is Codex on GitHub, the hosted
		// agent (2026); the plain user account "codex" also commits (medium:
		// a plain login, not an App).
		logins: []fp{s("openai-codex[bot]"), s("openai-code-agent[bot]"), m("chatgpt-codex-connector[bot]"), m("codex")},
		pairs:  []fp{s("242516109+codex")},
		ids:    []int64{215057067, 242516109},
		names:  []string{"codex", "openai codex", "codex cli"},
		labels: []string{"codex"},
	},
	{
		id: "devin", name: "Devin",
		emails: []fp{s("devin@cognition.ai")},
		logins: []fp{s("devin-ai-integration[bot]")},
		ids:    []int64{158243242},
		names:  []string{"devin", "devin ai"},
	},
	{
		id: "cursor", name: "Cursor",
		emails: []fp{s("cursoragent@cursor.com"), m("cursor@agent"), m("composer@anysphere.co")},
		// cursor[bot] is Bugbot: a reviewer; it only appears as an author
		// or co-author when one of its fixes was committed.
		logins: []fp{s("cursoragent[bot]"), m("cursor[bot]")},
		ids:    []int64{201670782},
		names:  []string{"cursor", "cursor agent"},
	},
	{
		id: "jules", name: "Google Jules",
		emails: []fp{m("noreply@jules.google")},
		logins: []fp{s("google-labs-jules[bot]")},
		ids:    []int64{161369871},
		names:  []string{"jules", "google jules"},
	},
	{
		id: "gemini", name: "Gemini CLI / Gemini Code Assist",
		// Antigravity CLI (agy) has no official attribution; self-made
		// addresses seen in history are weak, since at least one belongs to an
		// unrelated GitHub account (agents-2026.md).
		emails: []fp{m("gemini-cli@google.com"), m("gemini@google.com"), w("antigravity@google.com"), w("gemini-bot@google.com"), w("noreply@google.com")},
		// gemini-code-assist[bot] reviews; as a co-author it marks a
		// committed AI suggestion (research traps 7 and 9): medium.
		logins: []fp{s("gemini-cli[bot]"), m("gemini-code-assist[bot]")},
		ids:    []int64{218312386},
		names:  []string{"gemini", "gemini cli", "gemini code", "google gemini", "antigravity", "agy"},
		// gemini-cli[bot] also pushes release version bumps: automation.
		release: []string{"gemini-cli[bot]"},
	},
	{
		id: "amazon-q", name: "Amazon Q Developer",
		emails: []fp{m("amazon-q@amazon.com")},
		logins: []fp{s("amazon-q-developer[bot]")},
		ids:    []int64{208079219},
		names:  []string{"amazon q", "q developer"},
		labels: []string{"amazon q development agent", "amazon q transform agent"},
	},
	{
		id: "kiro", name: "Kiro",
		logins: []fp{s("kiro-agent"), s("kiro-agent[bot]")},
		pairs:  []fp{s("244629292+kiro-agent")},
		ids:    []int64{244629292, 245459735},
		names:  []string{"kiro"},
		labels: []string{"kiro"},
	},
	{
		id: "aider", name: "Aider",
		emails: []fp{s("aider@aider.chat"), s("noreply@aider.dev"), s("noreply@aider.chat")},
		names:  []string{"aider"},
	},
	{
		id: "openhands", name: "OpenHands",
		emails: []fp{s("openhands@all-hands.dev"), s("opendevin@all-hands.dev"), s("bot@opendevin.com"), s("opendevin@opendevin.ai")},
		logins: []fp{s("openhands-agent")},
		names:  []string{"openhands", "opendevin"},
		labels: []string{"fix-me"},
	},
	{
		id: "replit", name: "Replit Agent",
		emails: []fp{s("agent@replit.com")},
		names:  []string{"replit", "replit agent"},
	},
	{
		id: "amp", name: "Amp",
		emails: []fp{s("amp@ampcode.com"), m("amp@sourcegraph.com")},
		names:  []string{"amp", "ampcode"},
	},
	{
		id: "factory", name: "Factory Droid",
		logins: []fp{s("factory-droid[bot]"), m("factory-ai[bot]")},
		ids:    []int64{138933559},
		names:  []string{"factory", "factory droid", "droid"},
	},
	{
		id: "sweep", name: "Sweep",
		logins: []fp{s("sweep-ai[bot]"), s("sweep-ai-deprecated[bot]"), s("sweep-nightly[bot]"), s("sweep-canary[bot]")},
		names:  []string{"sweep"},
		labels: []string{"sweep"},
	},
	{
		id: "roo-code", name: "Roo Code (Roomote)",
		emails: []fp{s("roomote@roocode.com"), s("roomote@roomote.dev")},
		logins: []fp{s("roomote[bot]"), s("roomote-roomote[bot]")},
		ids:    []int64{263205322, 301996811},
		names:  []string{"roo", "roo code", "roomote"},
	},
	{
		id: "cline", name: "Cline",
		logins: []fp{s("cline[bot]")},
		ids:    []int64{205137888},
		names:  []string{"cline"},
	},
	{
		id: "windsurf", name: "Windsurf (Cascade)",
		emails: []fp{m("cascade@windsurf.ai"), m("cascade@windsurf.com")},
		logins: []fp{m("windsurf-bot[bot]")},
		names:  []string{"windsurf", "cascade", "codeium"},
	},
	{
		id: "mentat", name: "Mentat",
		logins: []fp{s("mentatbot")},
		pairs:  []fp{s("160964065+mentatbot")},
		names:  []string{"mentat"},
	},
	{
		id: "warp", name: "Warp (Oz)",
		emails: []fp{s("oz-agent@warp.dev"), s("agent@warp.dev")},
		names:  []string{"warp"},
	},
	{
		id: "junie", name: "JetBrains Junie",
		emails: []fp{s("junie@jetbrains.com")},
		logins: []fp{s("jetbrains-ai[bot]")},
		names:  []string{"junie", "jetbrains ai", "jetbrains junie"},
	},
	{
		id: "cody", name: "Sourcegraph Cody",
		logins: []fp{s("sourcegraph-cody[bot]")},
		names:  []string{"cody", "sourcegraph cody"},
	},
	{
		id: "continue", name: "Continue",
		logins: []fp{s("continue[bot]")},
		names:  []string{"continue", "continue dev"},
	},
	{
		id: "opencode", name: "OpenCode",
		emails: []fp{s("noreply@opencode.ai"), s("opencode@sst.dev")},
		names:  []string{"opencode"},
	},
	{
		id: "codebuff", name: "Codebuff",
		emails: []fp{s("noreply@codebuff.com")},
		names:  []string{"codebuff"},
	},
	{
		id: "crush", name: "Crush (Charm)",
		// Older Crush commits use noreply@crush.charm.land; its predecessor
		// termai used noreply@termai.io.
		emails: []fp{s("crush@charm.land"), s("noreply@crush.charm.land"), s("noreply@termai.io")},
		names:  []string{"crush", "termai"},
	},
	{
		id: "qwen-code", name: "Qwen Code",
		emails: []fp{s("qwen-coder@alibabacloud.com")},
		names:  []string{"qwen", "qwen code", "qwen coder"},
	},
	{
		id: "mistral-vibe", name: "Mistral Vibe",
		emails: []fp{s("vibe@mistral.ai")},
		names:  []string{"mistral vibe"},
	},
	{
		id: "lovable", name: "Lovable",
		logins: []fp{s("lovable-dev[bot]"), s("gpt-engineer-app[bot]")},
		names:  []string{"lovable", "gpt engineer"},
	},
	{
		id: "coderabbit", name: "CodeRabbit",
		// A reviewer; as an author or co-author it marks a committed AI
		// suggestion or a generated docstring/test PR.
		logins: []fp{m("coderabbitai[bot]")},
		ids:    []int64{136622811},
		names:  []string{"coderabbit", "coderabbitai"},
	},
	{
		id: "jetski", name: "Jetski (Google internal agent)",
		emails: []fp{m("jetski-bot@google.com")},
		names:  []string{"jetski"},
	},
	{
		id: OtherAgent, name: "Other AI tool (declared in a trailer)",
	},
}

// builtinBot is one automation bot of the built-in catalogue: a bot that is
// not an AI agent.
type builtinBot struct {
	id     string
	logins []string
	emails []string
	ids    []int64
}

var builtinBots = []builtinBot{
	{id: "dependabot", logins: []string{"dependabot[bot]", "dependabot-preview[bot]"}, ids: []int64{49699333}},
	{id: "renovate", logins: []string{"renovate[bot]"}, emails: []string{"renovate@whitesourcesoftware.com", "bot@renovateapp.com"}, ids: []int64{29139614}},
	{id: "github-actions", logins: []string{"github-actions[bot]"}, emails: []string{"action@github.com", "actions@github.com"}, ids: []int64{41898282}},
	{id: "pre-commit-ci", logins: []string{"pre-commit-ci[bot]"}, ids: []int64{66853113}},
	{id: "allcontributors", logins: []string{"allcontributors[bot]"}},
	{id: "stale", logins: []string{"stale[bot]"}},
	{id: "codecov", logins: []string{"codecov[bot]"}},
	{id: "netlify", logins: []string{"netlify[bot]"}},
	{id: "vercel", logins: []string{"vercel[bot]"}},
	{id: "mergify", logins: []string{"mergify[bot]"}},
	{id: "semantic-release-bot", logins: []string{"semantic-release-bot"}, emails: []string{"semantic-release-bot@martynus.net"}},
	{id: "imgbot", logins: []string{"imgbot[bot]"}, emails: []string{"imgbothelp@gmail.com"}},
	{id: "snyk", logins: []string{"snyk-bot"}, emails: []string{"snyk-bot@snyk.io"}},
	{id: "github-advanced-security", logins: []string{"github-advanced-security[bot]"}, ids: []int64{62310815}},
	{id: "gemini-cli-robot", logins: []string{"gemini-cli-robot"}, emails: []string{"gemini-cli-robot@google.com"}},
}

// nonAITools are tools kernel-style Assisted-by lines name next to (or
// instead of) an AI agent; a line naming only these declares no agent.
var nonAITools = map[string]bool{
	"coccinelle": true, "spatch": true, "sparse": true, "smatch": true, "checkpatch": true,
	"clang-tidy": true, "clang-format": true, "clang": true, "gcc": true, "cppcheck": true,
	"coverity": true, "syzkaller": true, "syzbot": true, "kasan": true, "ubsan": true, "kcsan": true,
	"semgrep": true, "gofmt": true, "goimports": true, "rustfmt": true, "clippy": true,
	"black": true, "ruff": true, "prettier": true, "eslint": true, "sed": true, "awk": true,
	"grep": true, "make": true, "git": true, "valgrind": true, "lint": true, "linter": true,
}

// lineRule recognises a whole line of a commit message or PR body.
type lineRule struct {
	agent    string
	kind     string
	strength Strength
	// prefixes: the (trimmed) line must start with one of them.
	prefixes []string
	// re, when set, must match the whole trimmed line.
	re string
	// op, when set, is the regexp group holding the operator's login.
	opGroup int
}

// builtinLines are footer lines and PR-body markers.
var builtinLines = []lineRule{
	// Claude Code footer, commit and PR body; older claude.ai/code, newer claude.com/claude-code.
	{agent: "claude-code", kind: SignalFooter, strength: Strong,
		prefixes: []string{"🤖", "Generated with [Claude Code]"},
		re:       `^(?:🤖\s*)?Generated with \[Claude Code\]\(https://(?:claude\.ai/code|claude\.com/claude-code|www\.anthropic\.com/claude-code)/?\)\.?$`},
	// Claude Code web session: a bare session URL line.
	{agent: "claude-code", kind: SignalFooter, strength: Strong,
		prefixes: []string{"https://claude.ai/code/session_"},
		re:       `^https://claude\.ai/code/session_[0-9A-Za-z_-]+$`},
	{agent: "cursor", kind: SignalFooter, strength: Strong,
		prefixes: []string{"Made with [Cursor]"},
		re:       `^Made with \[Cursor\]\(https://(?:www\.)?cursor\.(?:com|sh)/?\)\.?$`},
	{agent: "devin", kind: SignalFooter, strength: Strong,
		prefixes: []string{"Generated with [Devin]", "🤖"},
		re:       `^(?:🤖\s*)?Generated with \[Devin\]\(https://(?:devin\.ai|app\.devin\.ai|cli\.devin\.ai)(?:/[^)\s]*)?\)\.?$`},
	{agent: "codebuff", kind: SignalFooter, strength: Strong,
		prefixes: []string{"Generated with Codebuff", "Generated with [Codebuff]", "🤖"},
		re:       `^(?:🤖\s*)?Generated with (?:Codebuff|\[Codebuff\]\(https://(?:www\.)?codebuff\.com/?\))\.?$`},
	// Crush's footer; its co-author line often shares the paragraph.
	{agent: "crush", kind: SignalFooter, strength: Strong,
		prefixes: []string{"💘 Generated with Crush", "Generated with Crush"},
		re:       `^(?:💘\s*)?Generated with (?:Crush|\[Crush\]\(https://(?:github\.com/charmbracelet/crush|charm\.land)/?\))\.?$`},
	{agent: "opencode", kind: SignalFooter, strength: Strong,
		prefixes: []string{"🤖", "Generated with [opencode]", "Generated with opencode"},
		re:       `^(?:🤖\s*)?Generated with (?:opencode|\[opencode\]\(https://opencode\.ai/?\))\.?$`},
	// aider before mid-2024: "aider: " subjects with a chat transcript.
	{agent: "aider", kind: SignalFooter, strength: Strong,
		prefixes: []string{"# Aider chat conversation:"},
		re:       `^# Aider chat conversation:$`},
	{agent: "codex", kind: SignalFooter, strength: Medium,
		prefixes: []string{"Generated with [Codex]", "🤖"},
		re:       `^(?:🤖\s*)?Generated with \[Codex\]\(https://(?:openai\.com/codex|chatgpt\.com/codex)/?\)\.?$`},
	// Copilot coding agent PR body.
	{agent: "copilot", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"<!-- START COPILOT CODING AGENT "},
		re:       `^<!-- START COPILOT CODING AGENT (?:SUFFIX|TIPS) -->$`},
	{agent: "copilot", kind: SignalBodyMarker, strength: Medium,
		prefixes: []string{"💡 You can make Copilot smarter by setting up custom instructions"}},
	{agent: "copilot", kind: SignalBodyMarker, strength: Medium,
		prefixes: []string{"## Comments on the Issue (you are @copilot in this section)"},
		re:       `^## Comments on the Issue \(you are @copilot in this section\)$`},
	// Cursor cloud agent PR body (opened under the human's account).
	{agent: "cursor", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"<!-- CURSOR_AGENT_PR_BODY_"},
		re:       `^<!-- CURSOR_AGENT_PR_BODY_(?:BEGIN|END) -->$`},
	{agent: "cursor", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{`<div><a href="https://cursor.com/`, `<a href="https://cursor.com/`},
		re:       `^(?:<div>)?<a href="https://cursor\.com/(?:agents/bc-[0-9a-f-]+|background-agent\?bcId=bc-[0-9a-f-]+)[?&"].*$`},
	// Codex cloud task PR body (opened under the human's account).
	{agent: "codex", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"[Codex Task](https://chatgpt.com/codex/tasks/task_", "https://chatgpt.com/codex/tasks/task_"},
		re:       `^(?:\[Codex Task\]\()?https://chatgpt\.com/codex/tasks/task_[a-z]_[0-9a-f]{16,}\)?$`},
	// Devin PR body.
	{agent: "devin", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"Link to Devin run", "**Link to Devin run", "Devin Session", "**Devin Session", "https://app.devin.ai/sessions/", "[https://app.devin.ai/sessions/", "<https://app.devin.ai/sessions/"},
		re:       `^(?:\**(?:Link to Devin run|Devin Session|Devin run)\**:?\**:?\s*)?[<\[]?https://app\.devin\.ai/sessions/[0-9a-f]{16,}[>\]]?(?:\(https://app\.devin\.ai/sessions/[0-9a-f]{16,}\))?$`},
	// Jules PR body, with the operator's login.
	{agent: "jules", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"*PR created automatically by Jules", "_PR created automatically by Jules", "PR created automatically by Jules"},
		re:       `^[*_]?PR created automatically by Jules for task \[\d+\]\(https://jules\.google\.com/task/\d+\)(?: started by @([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))?[*_]?$`,
		opGroup:  1},
	// OpenHands resolver PR body.
	{agent: "openhands", kind: SignalBodyMarker, strength: Strong,
		prefixes: []string{"Automatic fix generated by [OpenHands]"},
		re:       `^Automatic fix generated by \[OpenHands\]\(https://github\.com/(?:OpenHands|All-Hands-AI)/OpenHands/?\)(?:\s*🙌)?$`},
}

// branchRule recognises a head branch shape. Exact shapes are medium: they
// classify a PR on their own. Bare prefixes that humans also use are weak.
type branchRule struct {
	agent, automation string
	strength          Strength
	re                string
	// match, when set, replaces re.
	match func(string) bool
}

var builtinBranches = []branchRule{
	{agent: "claude-code", strength: Medium, re: `claude/(?:issue|pr)-\d+-\d{8}[-_]\d{4,6}`},
	{agent: "claude-code", strength: Medium, re: `claude/[A-Za-z0-9._/-]+-0[0-9A-Za-z]{23}`},
	{agent: "claude-code", strength: Medium, re: `add-claude-github-actions-\d{13}`},
	{agent: "claude-code", strength: Weak, re: `claude/.+`},
	{agent: "copilot", strength: Medium, re: `copilot/fix-\d+`},
	{agent: "copilot", strength: Weak, re: `copilot/.+`},
	{agent: "cursor", strength: Medium, match: cursorBranch},
	{agent: "cursor", strength: Weak, match: cursorBranchHexWord},
	{agent: "devin", strength: Medium, re: `devin/\d{10}-.+`},
	{agent: "devin", strength: Medium, re: `devin/.+_\d{6}_\d{4}`},
	{agent: "devin", strength: Weak, re: `devin/.+`},
	{agent: "amazon-q", strength: Medium, re: `Q-DEV-issue-\d+-\d{10}`},
	{agent: "openhands", strength: Medium, re: `openhands-fix-(?:issue|pr)-\d+(?:-try\d+)?`},
	{agent: "openhands", strength: Weak, re: `openhands/.+`},
	{agent: "jules", strength: Weak, re: `jules-\d+-[0-9a-f]{8}`},
	{agent: "codex", strength: Weak, re: `codex/.+`},
	{agent: "sweep", strength: Weak, re: `sweep/.+`},
	{agent: "cline", strength: Weak, re: `cline/.+`},
	{automation: "dependabot", strength: Weak, re: `dependabot/.+`},
	{automation: "renovate", strength: Weak, re: `renovate/.+`},
	{automation: "pre-commit-ci", strength: Weak, re: `pre-commit-ci-update-config`},
}

// cursorBranch matches Cursor's cloud-agent shape cursor/<slug>-<4 hex>,
// where the hex (the tail of the bc- id) has at least one digit, so English
// words such as "beef" or "cafe" do not qualify.
func cursorBranch(b string) bool {
	hex, ok := cursorTail(b)
	return ok && hasDigit(hex)
}

// cursorBranchHexWord matches the Cursor shape with an all-letter hex tail
// ("cursor/fix-dead"): reported, but too word-like to decide.
func cursorBranchHexWord(b string) bool {
	hex, ok := cursorTail(b)
	return ok && !hasDigit(hex)
}

func cursorTail(b string) (string, bool) {
	const p = "cursor/"
	if len(b) < len(p)+6 || b[:len(p)] != p {
		return "", false
	}
	slug := b[len(p) : len(b)-5]
	if b[len(b)-5] != '-' || slug == "" {
		return "", false
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", false
		}
	}
	hex := b[len(b)-4:]
	for i := 0; i < 4; i++ {
		c := hex[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return hex, true
}

func hasDigit(x string) bool {
	for i := 0; i < len(x); i++ {
		if x[i] >= '0' && x[i] <= '9' {
			return true
		}
	}
	return false
}

// aiReviewers are the App bots of AI code-review products, by lower-case
// login, with the product name. They review; they are never the independent
// human a change needs (research notes 2026: Copilot code review can leave
// APPROVED reviews that GitHub counts toward required approvals when an admin
// opts in).
var aiReviewers = map[string]string{
	"copilot-pull-request-reviewer[bot]": "Copilot code review",
	"chatgpt-codex-connector[bot]":       "Codex review",
	"gemini-code-assist[bot]":            "Gemini Code Assist",
	"coderabbitai[bot]":                  "CodeRabbit",
	"cursor[bot]":                        "Cursor Bugbot",
	"windsurf-bot[bot]":                  "Windsurf review",
	"amazon-q-developer[bot]":            "Amazon Q Developer review",
	"sourcery-ai[bot]":                   "Sourcery",
	"greptile-apps[bot]":                 "Greptile",
	"qodo-merge-pro[bot]":                "Qodo Merge",
}

// AIReviewer reports whether a reviewer's login (with its user type, "Bot"
// or "User") is an AI code reviewer, and names the product. The Copilot
// reviewer is also shown as the login "Copilot" of type Bot.
func AIReviewer(login, userType string) (product string, ok bool) {
	l := lowerASCII(strings.TrimPrefix(strings.TrimSpace(login), "@"))
	if p, ok := aiReviewers[l]; ok {
		return p, true
	}
	if l == "copilot" && strings.EqualFold(userType, "Bot") {
		return "Copilot code review", true
	}
	return "", false
}

// agentApps maps the slug of every GitHub App of the built-in catalogue that
// is an AI agent or an AI reviewer to its name.
var agentApps = func() map[string]string {
	m := map[string]string{}
	for _, a := range builtinAgents {
		for _, l := range a.logins {
			if slug, ok := strings.CutSuffix(l.v, "[bot]"); ok {
				m[slug] = a.name
			}
		}
	}
	for login, product := range aiReviewers {
		m[strings.TrimSuffix(login, "[bot]")] = product
	}
	m["copilot-swe-agent"] = "GitHub Copilot"
	return m
}()

// AgentApp reports whether a GitHub App, by slug (such as
// "copilot-swe-agent" or "devin-ai-integration"), is an AI agent or AI
// reviewer of the built-in catalogue, and names it.
func AgentApp(slug string) (name string, ok bool) {
	name, ok = agentApps[lowerASCII(strings.TrimSpace(slug))]
	return name, ok
}
