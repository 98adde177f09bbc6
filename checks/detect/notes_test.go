package detect

import "testing"

// Git notes in the real formats: git-ai's authorship log in refs/notes/ai
// (Git AI Standard v3.0.0, and the "sessions" form of git-ai 1.4.0,
// 2026-05-04) and whogitit's attribution in refs/notes/whogitit (version 3).
const (
	gitAINote = "src/main.rs\n  abcd1234abcd1234 1-10,15-20\n  efgh5678efgh5678 25,30-35\nsrc/lib.rs\n  abcd1234abcd1234 1-50\n---\n" +
		`{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.0.23",
  "base_commit_sha": "7734793b756b3921c88db5375a8c156e9532447b",
  "prompts": {
    "abcd1234abcd1234": {
      "agent_id": {
        "tool": "cursor",
        "id": "6ef2299e-a67f-432b-aa80-3d2fb4d28999",
        "model": "claude-4.5-opus"
      },
      "human_author": "Developer <dev@example.com>",
      "messages": [
        {"type": "user", "text": "Add error handling to the main function", "timestamp": "2025-12-05T01:22:13.211Z"}
      ],
      "total_additions": 25,
      "total_deletions": 5,
      "accepted_lines": 20,
      "overriden_lines": 0
    }
  }
}
`
	gitAISessionsNote = "src/main.rs\n  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10\n  s_c9883b05a2487d::t_a1b2c3d4e5f678 15-20\n---\n" +
		`{"schema_version":"authorship/3.0.0","prompts":{},"humans":{},"sessions":{"s_c9883b05a2487d":{"agent_id":{"tool":"claude","id":"session_123","model":"claude-opus-4-5"},"human_author":"alice@example.com"}}}` + "\n"
	// gitAIHumanNote attributes every line to a human (h_ keys only).
	gitAIHumanNote = "src/main.rs\n  h_a1b2c3d4e5f678 1-10\n---\n" +
		`{"schema_version":"authorship/3.0.0","base_commit_sha":"7734793b756b3921c88db5375a8c156e9532447b","prompts":{},"humans":{"h_a1b2c3d4e5f678":{"author":"Alice <alice@example.com>"}},"sessions":{}}` + "\n"
	// gitAIOverriddenNote keeps an agent's prompt record although no line of
	// the commit is attributed to it any more.
	gitAIOverriddenNote = "---\n" +
		`{"schema_version":"authorship/3.0.0","base_commit_sha":"7734793b756b3921c88db5375a8c156e9532447b","prompts":{"d9978a8723e02b52":{"agent_id":{"tool":"copilot","id":"x","model":"gpt-5"},"total_additions":3,"total_deletions":0,"accepted_lines":0,"overriden_lines":3}}}` + "\n"
	whogititNote = `{
  "version": 3,
  "session": {
    "session_id": "7f3a4b2c-9d1e-8a7b-c3d4-e5f6a7b8c9d0",
    "model": {"id": "claude-opus-4-5-20251101", "provider": "anthropic"},
    "started_at": "2026-01-30T14:23:17Z",
    "prompt_count": 2,
    "used_plan_mode": false,
    "subagent_count": 0
  },
  "prompts": [
    {"index": 0, "text": "Add user authentication with bcrypt...", "timestamp": "2026-01-30T14:23:45Z", "affected_files": ["src/auth.rs", "src/main.rs"]}
  ],
  "files": [
    {"path": "src/auth.rs",
     "lines": [{"line_number": 1, "content": "use anyhow::Result;", "source": {"type": "AI", "edit_id": "8f5c3d6a-4f95-4fa9-8d11-2d54f12e6f01"}, "edit_id": "8f5c3d6a-4f95-4fa9-8d11-2d54f12e6f01", "prompt_index": 0, "confidence": 1.0}],
     "summary": {"total_lines": 45, "ai_lines": 25, "ai_modified_lines": 3, "human_lines": 2, "original_lines": 15, "unknown_lines": 0}}
  ]
}
`
	// whogititV2Note is the older schema_version 2 form with no AI line left.
	whogititV2NoAI = `{"schema_version": 2, "session": {"session_id": "7f3a4b2c", "model": {"id": "claude-opus-4-5-20251101", "provider": "anthropic"}, "started_at": "2026-01-30T14:23:17Z", "cwd": "/p"}, "prompts": [], "files": [{"path": "a.rs", "lines": [], "summary": {"ai_lines": 0, "ai_modified_lines": 0, "human_lines": 4, "original_lines": 1}}]}` + "\n"
)

func noted(ref, text string) Commit {
	c := human("Jane Doe", "jane@example.org", "Add error handling\n")
	c.Notes = []Note{{Ref: ref, Text: text}}
	return c
}

var noteCases = []struct {
	name string
	c    Commit
	w    want
}{
	{"note/git-ai-cursor", noted("refs/notes/ai", gitAINote),
		want{class: ClassAgent, agent: "cursor", signal: "refs/notes/ai: git-ai authorship log: cursor (claude-4.5-opus)", strength: Medium, opName: "Jane Doe", opEmail: "jane@example.org"}},
	{"note/git-ai-sessions-claude", noted("refs/notes/ai", gitAISessionsNote),
		want{class: ClassAgent, agent: "claude-code", signal: "refs/notes/ai: git-ai authorship log: claude (claude-opus-4-5)", strength: Medium}},
	{"note/git-ai-prompt-without-lines-is-weak", noted("refs/notes/ai", gitAIOverriddenNote),
		want{class: ClassHuman, signal: "refs/notes/ai: git-ai authorship log: copilot (gpt-5)", strength: Weak}},
	{"note/whogitit-claude-code", noted("refs/notes/whogitit", whogititNote),
		want{class: ClassAgent, agent: "claude-code", signal: "refs/notes/whogitit: whogitit attribution: claude-opus-4-5-20251101, 25 AI lines, 3 AI-modified", strength: Medium}},
	{"note/whogitit-without-ai-lines-is-weak", noted("refs/notes/whogitit", whogititV2NoAI),
		want{class: ClassHuman, signal: "refs/notes/whogitit: whogitit attribution: claude-opus-4-5-20251101, 0 AI lines, 0 AI-modified", strength: Weak}},
	{"note/plain-trailer-in-note-strong-identity", noted("refs/notes/ai", "Co-Authored-By: Claude <noreply@anthropic.com>\n"),
		want{class: ClassAgent, agent: "claude-code", signal: "refs/notes/ai: Co-Authored-By: Claude <noreply@anthropic.com>", strength: Strong}},
	{"note/plain-assisted-by", noted("refs/notes/ai", "Assisted-by: Claude Sonnet 4.5 via Crush\n"),
		want{class: ClassAgent, agent: "crush", signal: "refs/notes/ai: Assisted-by: Claude Sonnet 4.5 via Crush", strength: Medium}},
	{"note/plain-footer", noted("refs/notes/whogitit", claudeFooterNew+"\n"),
		want{class: ClassAgent, agent: "claude-code", signal: "refs/notes/whogitit: " + claudeFooterNew}},
	{"note/trap-empty-note", noted("refs/notes/ai", "\n"), want{class: ClassHuman, noSignals: true}},
	{"note/trap-human-only-git-ai-note", noted("refs/notes/ai", gitAIHumanNote), want{class: ClassHuman, noSignals: true}},
	{"note/trap-non-ai-note", noted("refs/notes/ai", "Reviewed-by: Jane Doe <jane@example.org>\nTested on staging 2026-05-01.\n"),
		want{class: ClassHuman, noSignals: true}},
	{"note/trap-agent-named-in-prose", noted("refs/notes/ai", "We decided not to use Claude Code or Copilot for this change.\n"),
		want{class: ClassHuman, noSignals: true}},
}

func TestCommitNotes(t *testing.T) {
	d := mustNew(t, Options{})
	for _, tc := range noteCases {
		t.Run(tc.name, func(t *testing.T) {
			got := d.Commit(tc.c)
			check(t, got, tc.w)
			for _, s := range got.Signals {
				if s.Kind != SignalNote {
					t.Errorf("signal %+v: kind %q, want %q", s, s.Kind, SignalNote)
				}
			}
		})
	}
}

// A commit without notes is judged exactly as before: the notes field adds
// nothing.
func TestCommitWithoutNotesUnchanged(t *testing.T) {
	d := mustNew(t, Options{})
	c := human("Jane Doe", "jane@example.org", "Fix\n\n"+claudeTrailer)
	a := d.Commit(c)
	c.Notes = []Note{}
	if b := d.Commit(c); len(a.Signals) != len(b.Signals) || a.Class != b.Class {
		t.Fatalf("empty notes changed the verdict: %+v vs %+v", a, b)
	}
}

// FuzzNotes checks the classification invariants on arbitrary note text.
func FuzzNotes(f *testing.F) {
	for _, tc := range noteCases {
		f.Add(tc.c.Notes[0].Ref, tc.c.Notes[0].Text)
	}
	f.Fuzz(func(t *testing.T, ref, text string) {
		c := human("Jane", "jane@example.org", "x")
		c.Notes = []Note{{Ref: ref, Text: text}}
		if err := invariants(fuzzDetector.Commit(c)); err != "" {
			t.Fatal(err)
		}
	})
}
