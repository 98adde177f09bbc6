package detect

import (
	"encoding/json"
	"strconv"
	"strings"
)

// notes reads a commit's git notes. A note in git-ai's authorship-log
// format or whogitit's attribution format names the agent that wrote lines
// of the commit; any other note is read like a trailer block and footer
// lines (every "Key: value" line, every whole footer line), so an empty or
// non-AI note adds nothing. Every signal found has kind note and a match
// that starts with the ref.
func (d *Detector) notes(st *state, notes []Note) {
	for _, n := range notes {
		text := strings.TrimSpace(n.Text)
		if text == "" {
			continue
		}
		from := st.count()
		if !d.gitAINote(st, text) && !d.whogititNote(st, text) {
			for rest := text; rest != ""; {
				var ln string
				ln, rest = nextLine(rest)
				t := strings.TrimSpace(ln)
				if key, value, ok := splitTrailer(t); ok {
					d.trailer(st, SignalNote, key, value, t)
				}
			}
			d.scanLines(st, text, SignalNote)
		}
		for i := from; i < st.count(); i++ {
			f := st.at(i)
			f.Kind = SignalNote
			f.Match = n.Ref + ": " + f.Match
		}
	}
}

// gitAIAgent is a git-ai prompt or session record.
type gitAIAgent struct {
	AgentID struct {
		Tool  string `json:"tool"`
		Model string `json:"model"`
	} `json:"agent_id"`
}

// gitAINote reads git-ai's authorship log (Git AI Standard v3.0.0): an
// attestation section of file paths and "  <key> <line ranges>" lines, a
// "---" line, and JSON metadata whose prompts (bare keys) and sessions
// ("s_" keys, "s_…::t_…" in attestations) name the agent tool. An agent
// whose key an attestation line names wrote lines of the commit (medium);
// one whose record stays without any line is weak; human ("h_") lines are
// nothing. It reports whether the note is in that format.
func (d *Detector) gitAINote(st *state, text string) bool {
	att, meta, ok := strings.Cut(text, "\n---\n")
	if !ok {
		if rest, cut := strings.CutPrefix(text, "---\n"); cut {
			att, meta, ok = "", rest, true
		}
	}
	if !ok || !strings.Contains(meta, `"authorship/`) {
		return false
	}
	var m struct {
		Schema   string                `json:"schema_version"`
		Prompts  map[string]gitAIAgent `json:"prompts"`
		Sessions map[string]gitAIAgent `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(meta), &m); err != nil || !strings.HasPrefix(m.Schema, "authorship/") {
		if d.agents[OtherAgent].Builtin {
			// Shaped like git-ai's log but unreadable: reported, never deciding.
			st.add(found{Signal: Signal{Kind: SignalNote, Match: "unreadable git-ai authorship log", Agent: OtherAgent, Strength: Weak}, name: "git-ai"})
		}
		return true
	}
	used := map[string]bool{}
	for rest := att; rest != ""; {
		var ln string
		ln, rest = nextLine(rest)
		if !strings.HasPrefix(ln, "  ") {
			continue
		}
		key, _, _ := strings.Cut(strings.TrimSpace(ln), " ")
		key, _, _ = strings.Cut(key, "::")
		used[key] = true
	}
	for _, recs := range [...]map[string]gitAIAgent{m.Prompts, m.Sessions} {
		for key, rec := range recs {
			tool := strings.TrimSpace(rec.AgentID.Tool)
			if tool == "" {
				tool = "unnamed tool"
			}
			id, name, ok := d.declared(tool)
			if !ok {
				continue
			}
			match := "git-ai authorship log: " + tool
			if model := strings.TrimSpace(rec.AgentID.Model); model != "" {
				match += " (" + model + ")"
			}
			s := Weak
			if used[key] {
				s = Medium
			}
			st.add(found{Signal: Signal{Kind: SignalNote, Match: match, Agent: id, Strength: s}, name: name})
		}
	}
	return true
}

// whogititNote reads whogitit's attribution (JSON with "version" 3 or the
// older "schema_version" 2, a session with its model, per-file summaries).
// whogitit captures Claude Code sessions only, so the agent is claude-code:
// medium when a file keeps AI or AI-modified lines, weak when none is left.
// It reports whether the note is in that format.
func (d *Detector) whogititNote(st *state, text string) bool {
	if text[0] != '{' || !strings.Contains(text, `"session"`) {
		return false
	}
	var w struct {
		Version       int `json:"version"`
		SchemaVersion int `json:"schema_version"`
		Session       *struct {
			ID    string `json:"session_id"`
			Model struct {
				ID string `json:"id"`
			} `json:"model"`
		} `json:"session"`
		Files []struct {
			Summary struct {
				AI         int `json:"ai_lines"`
				AIModified int `json:"ai_modified_lines"`
			} `json:"summary"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(text), &w); err != nil || w.Session == nil || w.Version == 0 && w.SchemaVersion == 0 {
		return false
	}
	if !d.agents["claude-code"].Builtin {
		return true
	}
	ai, mod := 0, 0
	for _, f := range w.Files {
		ai += f.Summary.AI
		mod += f.Summary.AIModified
	}
	model := strings.TrimSpace(w.Session.Model.ID)
	if model == "" {
		model = "unknown model"
	}
	s := Weak
	if ai+mod > 0 {
		s = Medium
	}
	st.addRule(SignalNote, "whogitit attribution: "+model+", "+strconv.Itoa(ai)+" AI lines, "+strconv.Itoa(mod)+" AI-modified", rule{agent: "claude-code"}, s)
	return true
}
