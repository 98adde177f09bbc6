package gitfacts_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/gitfacts"
	"github.com/countersign/countersign/checks/detect"
)

// gitAISessionNote is a git-ai authorship log in the "sessions" form of
// git-ai 1.4.0 (2026-05-04).
const gitAISessionNote = "main.go\n  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-3\n---\n" +
	`{"schema_version":"authorship/3.0.0","prompts":{},"humans":{},"sessions":{"s_c9883b05a2487d":{"agent_id":{"tool":"cursor","id":"session_123","model":"gpt-5"},"human_author":"alice@example.com"}}}`

const whogititNoteV3 = `{"version":3,"session":{"session_id":"7f3a4b2c-9d1e-8a7b-c3d4-e5f6a7b8c9d0","model":{"id":"claude-opus-4-5-20251101","provider":"anthropic"},"started_at":"2026-01-30T14:23:17Z","prompt_count":1,"used_plan_mode":false,"subagent_count":0},"prompts":[],"files":[{"path":"b.go","lines":[],"summary":{"total_lines":3,"ai_lines":3,"ai_modified_lines":0,"human_lines":0,"original_lines":0,"unknown_lines":0}}]}`

func gitCmd(t *testing.T, dir string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=Jane Doe", "GIT_AUTHOR_EMAIL=jane@example.org",
		"GIT_COMMITTER_NAME=Jane Doe", "GIT_COMMITTER_EMAIL=jane@example.org", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// notesRepo builds main (one human commit) and a feature branch of three
// commits: one with a git-ai note added by `git notes --ref=ai add`, one
// whose whogitit note sits in a fan-out directory ("ab/cdef…"), one with
// none.
func notesRepo(t *testing.T) (dir, aiSHA, whoSHA, plainSHA string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	gitCmd(t, dir, "", "init", "-q", "-b", "main")
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "root")
	gitCmd(t, dir, "", "checkout", "-q", "-b", "feature")
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "Add error handling")
	aiSHA = gitCmd(t, dir, "", "rev-parse", "HEAD")
	gitCmd(t, dir, "", "notes", "--ref=ai", "add", "-m", gitAISessionNote, aiSHA)
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "Add auth")
	whoSHA = gitCmd(t, dir, "", "rev-parse", "HEAD")
	// A fanned-out notes tree, as git writes it for many notes.
	blob := gitCmd(t, dir, whogititNoteV3, "hash-object", "-w", "--stdin")
	sub := gitCmd(t, dir, "100644 blob "+blob+"\t"+whoSHA[2:]+"\n", "mktree")
	top := gitCmd(t, dir, "040000 tree "+sub+"\t"+whoSHA[:2]+"\n", "mktree")
	nc := gitCmd(t, dir, "", "commit-tree", top, "-m", "Notes added by whogitit")
	gitCmd(t, dir, "", "update-ref", "refs/notes/whogitit", nc)
	if got := gitCmd(t, dir, "", "notes", "--ref=whogitit", "show", whoSHA); got != whogititNoteV3 {
		t.Fatalf("git does not read the fanned-out note: %q", got)
	}
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "Tidy")
	plainSHA = gitCmd(t, dir, "", "rev-parse", "HEAD")
	return dir, aiSHA, whoSHA, plainSHA
}

// check (Facts) and audit (Walk) both see the agents the notes name, and a
// commit without a note stays human.
func TestNotesReachDetection(t *testing.T) {
	dir, aiSHA, whoSHA, plainSHA := notesRepo(t)
	r, err := gitfacts.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := detect.New(detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{aiSHA: "cursor", whoSHA: "claude-code", plainSHA: ""}
	judge := func(how string, c detect.Commit) {
		w, ok := want[c.SHA]
		if !ok {
			return
		}
		det := d.Commit(c)
		if det.Agent != w {
			t.Errorf("%s: commit %s: agent %q, want %q; notes %+v, signals %+v", how, c.SHA[:7], det.Agent, w, c.Notes, det.Signals)
		}
		if w != "" {
			if s, _ := det.Deciding(); s.Kind != detect.SignalNote {
				t.Errorf("%s: commit %s decided by %+v, want a note", how, c.SHA[:7], s)
			}
		}
	}
	facts, err := r.Facts(context.Background(), "main", "feature")
	if err != nil {
		t.Fatal(err)
	}
	if len(facts.Commits) != 3 {
		t.Fatalf("check: %d commits, want 3", len(facts.Commits))
	}
	for _, c := range facts.Commits {
		judge("check", c)
	}
	seen := 0
	err = r.Walk(context.Background(), "feature", time.Time{}, func(c gitfacts.AuditCommit) error {
		seen++
		judge("audit", c.Commit)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 4 {
		t.Fatalf("audit walked %d commits, want 4", seen)
	}
}

// A repository without notes refs reads as before: no notes, no error.
func TestNoNotesRefs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	gitCmd(t, dir, "", "init", "-q", "-b", "main")
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "root")
	gitCmd(t, dir, "", "commit", "-q", "--allow-empty", "-m", "second")
	r, err := gitfacts.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	facts, err := r.Facts(context.Background(), "HEAD~1", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if len(facts.Commits) != 1 || facts.Commits[0].Notes != nil {
		t.Fatalf("commits %+v, want one without notes", facts.Commits)
	}
}
