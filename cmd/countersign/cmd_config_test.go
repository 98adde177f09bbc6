package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign/config"
)

// runConfigCmd runs 'countersign config ARGS...' in-process.
func runConfigCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"config"}, args...), streams{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func writePolicy(t *testing.T, dir, src string) string {
	t.Helper()
	path := filepath.Join(dir, ".github", "countersign.yml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const cmdPolicy = `review:
  agent:
    approvals: 2
protected_paths:
  presets: [terraform]
  rules:
    - name: workflows
      presets: [github-actions]
      approvers:
        teams: [acme/security]
`

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := writePolicy(t, dir, cmdPolicy)
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("review:\n  agnet: {}\nprotected_paths:\n  presets: [k8s]\n"), 0o644)

	code, out, _ := runConfigCmd(t, "validate", good)
	if code != exitOK || out != good+": valid\n" {
		t.Errorf("valid file: exit %d, output %q", code, out)
	}

	code, out, _ = runConfigCmd(t, "validate", bad)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitRequired || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], bad+":2:3: review.agnet: unknown key \"agnet\"; did you mean \"agent\"?") ||
		!strings.HasPrefix(lines[1], bad+":4:13: protected_paths.presets[0]: unknown preset \"k8s\" (did you mean \"kubernetes\"?)") {
		t.Errorf("invalid file: exit %d, output:\n%s", code, out)
	}

	code, _, errOut := runConfigCmd(t, "validate", filepath.Join(dir, "missing.yml"))
	if code != exitError || !strings.Contains(errOut, "cannot read") || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}

	// Without FILE, .github/countersign.yml in the current directory.
	t.Chdir(dir)
	code, out, _ = runConfigCmd(t, "validate")
	if code != exitOK || out != config.FileName+": valid\n" {
		t.Errorf("default file: exit %d, output %q", code, out)
	}
}

func TestConfigPrint(t *testing.T) {
	dir := t.TempDir()
	file := writePolicy(t, dir, cmdPolicy)
	code, out, errOut := runConfigCmd(t, "print", file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "# The effective policy of "+file) {
		t.Errorf("no header comment:\n%s", out)
	}
	printed, err := config.Parse("printed.yml", []byte(out))
	if err != nil {
		t.Fatalf("printed policy does not parse: %v\n%s", err, out)
	}
	orig, _ := config.Parse(file, []byte(cmdPolicy))
	want, got := orig.Effective(), printed.Effective()
	want.Source, got.Source = config.Source{}, config.Source{}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("printed policy differs from the file's effective policy:\n%s", out)
	}
	for _, s := range []string{"approvals: 2", "permission: write", "dismiss_stale: true", "applies_to: all", "- acme/security"} {
		if !strings.Contains(out, s) {
			t.Errorf("print does not show %q:\n%s", s, out)
		}
	}

	// No file: the built-in default, said so.
	t.Chdir(t.TempDir())
	code, out, _ = runConfigCmd(t, "print")
	if code != exitOK || !strings.HasPrefix(out, "# .github/countersign.yml does not exist: this is Countersign's built-in default policy.\n") {
		t.Fatalf("missing file: exit %d\n%s", code, out)
	}
	def, err := config.Parse("default.yml", []byte(out))
	if err != nil || def.Review.AgentApprovals() != 1 || len(def.ProtectedPaths.EnabledPresets()) != len(config.Presets()) || len(def.ProtectedPaths.Rules) != 0 {
		t.Errorf("printed default is not the default (%v):\n%s", err, out)
	}

	// An invalid file: its errors, exit 1.
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("review: 3\n"), 0o644)
	code, out, errOut = runConfigCmd(t, "print", bad)
	if code != exitRequired || out != "" || !strings.Contains(errOut, bad+":1:9: review: expected a mapping") {
		t.Errorf("invalid file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestConfigPresets(t *testing.T) {
	code, out, _ := runConfigCmd(t, "presets")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, pr := range config.Presets() {
		if !strings.Contains(out, pr.Name+": "+pr.Description+"\n") || !strings.Contains(out, "  "+pr.Paths[0]+"\n") {
			t.Errorf("text output lacks preset %s", pr.Name)
		}
	}
	code, out, _ = runConfigCmd(t, "presets", "--format", "json")
	var got []config.Preset
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitOK {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if !reflect.DeepEqual(got, config.Presets()) {
		t.Errorf("json presets differ from config.Presets()")
	}
	if code, _, errOut := runConfigCmd(t, "presets", "--format", "xml"); code != exitError || !strings.Contains(errOut, "--format must be text or json") {
		t.Errorf("bad format: exit %d, %q", code, errOut)
	}
}

func TestConfigUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"validate", "a.yml", "b.yml"}, {"print", "--nope"}, {"presets", "extra"}} {
		if code, _, errOut := runConfigCmd(t, args...); code != exitError || errOut == "" {
			t.Errorf("config %v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	if code, out, _ := runConfigCmd(t, "help"); code != exitOK || !strings.Contains(out, "config validate [FILE]") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}
