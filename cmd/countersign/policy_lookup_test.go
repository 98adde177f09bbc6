package main

import (
	"strings"
	"testing"

	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
	"github.com/countersign/countersign/config"
)

// A lone .github/countersign.yaml is a mistake the server fails the check
// on, naming the file; the local commands must not quietly apply the
// built-in default instead.
func TestLocalCommandsRefuseALoneYamlPolicy(t *testing.T) {
	const alt = ".github/countersign.yaml"
	g := baseRepo(t, map[string]string{alt: "review:\n  agent:\n    approvals: 2\n"})
	g.Commit("b", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/app.go": "x\n"}}})
	g.Checkout("b")

	code, out, errs := runCmd(t, "check", "--repo", g.Dir, "--base", "main")
	if code != exitError {
		t.Fatalf("check: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(errs, alt) || !strings.Contains(errs, config.FileName) || !strings.Contains(out, alt) {
		t.Errorf("check does not name %s (and what to rename it to)\nstdout:\n%s\nstderr:\n%s", alt, out, errs)
	}
	code, v, _ := checkJSON(t, "--repo", g.Dir, "--base", "main")
	if code != exitError || v["conclusion"] != "failure" {
		t.Errorf("check JSON: exit %d, conclusion %v", code, v["conclusion"])
	}
	if src, _ := v["policy"].(map[string]any); src["path"] != alt || src["builtin"] == true {
		t.Errorf("check JSON policy source = %v, want the .yaml file", v["policy"])
	}

	code, out, errs = runCmd(t, "audit", "--repo", g.Dir, "--branch", "main")
	if code != exitError || !strings.Contains(errs, alt) {
		t.Errorf("audit: exit %d, want 2 naming %s\nstdout:\n%s\nstderr:\n%s", code, alt, out, errs)
	}

	// Both present: the .yml applies, as on the server.
	g2 := baseRepo(t, map[string]string{alt: "nonsense: 1\n", config.FileName: "review:\n  agent:\n    approvals: 1\n"})
	g2.Commit("b", "main", gt.Commit{Author: gt.Bob, Change: gt.Change{Write: map[string]string{"src/app.go": "x\n"}}})
	g2.Checkout("b")
	if code, out, errs := runCmd(t, "check", "--repo", g2.Dir, "--base", "main"); code != exitOK {
		t.Errorf("with both files: exit %d, want 0\n%s%s", code, out, errs)
	}
}
