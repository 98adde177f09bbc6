package main

import (
	"strings"
	"testing"

	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
)

// An unknown --branch is named as such, not reported as a policy problem.
func TestAuditUnknownBranchIsNamed(t *testing.T) {
	g := auditRepo(t)
	code, _, errs := runCmd(t, "audit", "--repo", g.Dir, "--branch", "nosuch")
	if code != exitError || !strings.Contains(errs, `--branch "nosuch"`) || !strings.Contains(errs, "unknown branch") || strings.Contains(errs, "invalid policy") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming --branch \"nosuch\" as unknown, not an invalid policy", code, errs)
	}
}

// A head with no commits beyond the base has nothing to check: the command
// says so rather than reporting a human change.
func TestCheckEmptyRangeSaysNothingToCheck(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("same", "main", gt.Commit{Author: gt.Bob, Message: "x\n", Change: gt.Change{Write: map[string]string{"a.txt": "a\n"}}})
	g.Checkout("main")
	code, out, errs := runCmd(t, "check", "--repo", g.Dir, "--base", "same")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "nothing to check") || strings.Contains(out, "human") || strings.Contains(out, "success") {
		t.Errorf("empty range output:\n%s", out)
	}
	code, out, errs = runCmd(t, "check", "--repo", g.Dir, "--base", "same", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"nothing_to_check": true`) {
		t.Errorf("empty range JSON: exit %d\n%s%s", code, out, errs)
	}
}
