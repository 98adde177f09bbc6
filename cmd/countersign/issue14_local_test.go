package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// audit's JSON and CSV give the same commit date, in UTC RFC 3339, whatever
// zone the committer was in.
func TestAuditDatesAreUTCInJSONAndCSV(t *testing.T) {
	g := gt.New(t)
	zone := time.FixedZone("CEST", 2*60*60)
	g.Commit("main", "", gt.Commit{Author: gt.Alice, Message: "initial\n", Change: gt.Change{Write: map[string]string{"a.txt": "a\n"}},
		When: time.Date(2025, 3, 4, 1, 30, 0, 0, zone)})
	g.Checkout("main")
	const want = "2025-03-03T23:30:00Z"
	code, out, errs := runCmd(t, "audit", "--repo", g.Dir, "--format", "json")
	if code != exitOK || !strings.Contains(out, `"date":"`+want+`"`) {
		t.Errorf("JSON: exit %d, want date %s\n%s%s", code, want, out, errs)
	}
	code, out, errs = runCmd(t, "audit", "--repo", g.Dir, "--format", "csv")
	if code != exitOK || !strings.Contains(out, ","+want+",") {
		t.Errorf("CSV: exit %d, want date %s\n%s%s", code, want, out, errs)
	}
}

// check names an agent for a protected file only when that agent's commit
// changed it, reading the commits' trees (issue 14 item 10).
func TestCheckBlamesProtectedFileOnItsCommits(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("mixed", "main", gt.Commit{Author: gt.Alice, Message: gt.Msg("Add a feature", gt.ClaudeTrailer),
		Change: gt.Change{Write: map[string]string{"src/feature.go": "package app\n"}}})
	g.Commit("mixed", "", gt.Commit{Author: gt.Bob, Message: "Bump the instance\n", Change: gt.Change{Write: map[string]string{"infra/main.tf": "resource \"a\" \"c\" {}\n"}}})
	g.Checkout("mixed")
	code, out, errs := runCmd(t, "check", "--repo", g.Dir)
	if code != exitRequired {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitRequired, out, errs)
	}
	if !strings.Contains(out, "infra/main.tf changed") || strings.Contains(out, "infra/main.tf changed by") || strings.Contains(out, "in a change agent-authored") {
		t.Errorf("the Terraform file Bob changed is blamed on the agent, or its blame is unknown:\n%s", out)
	}
}

// check on a partial clone (git clone --filter=blob:none) works where git
// does: missing blobs are fetched from the promisor remote, not exit 2.
func TestCheckOnPartialClone(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("fix", "main", gt.Commit{Author: gt.Bob, Message: "Fix the app\n", Change: gt.Change{Write: map[string]string{"src/app.go": "package app\n\n// fixed\n"}}})
	dst := filepath.Join(t.TempDir(), "partial")
	for _, args := range [][]string{
		{"-C", g.Dir, "config", "uploadpack.allowFilter", "true"},
		{"clone", "-q", "--no-checkout", "--filter=blob:none", "file://" + g.Dir, dst},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	code, out, errs := runCmd(t, "check", "--repo", dst, "--base", "origin/main", "--head", "origin/fix")
	if code != exitOK || !strings.Contains(out, "1 commit, 1 changed file") {
		t.Fatalf("check on a partial clone: exit %d, want 0\n%s%s", code, out, errs)
	}
}

// audit on a partial clone reads the policy and each commit's files like
// check does: missing blobs are fetched, and the rows match the full clone's.
func TestAuditOnPartialClone(t *testing.T) {
	g := auditRepo(t)
	dst := filepath.Join(t.TempDir(), "partial")
	for _, args := range [][]string{
		{"-C", g.Dir, "config", "uploadpack.allowFilter", "true"},
		{"clone", "-q", "--no-checkout", "--filter=blob:none", "file://" + g.Dir, dst},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	code, full, errs := runCmd(t, "audit", "--repo", g.Dir, "--branch", "main", "--format", "csv")
	if code != exitOK {
		t.Fatalf("audit on the full clone: exit %d\n%s%s", code, full, errs)
	}
	code, partial, errs := runCmd(t, "audit", "--repo", dst, "--branch", "origin/main", "--format", "csv")
	if code != exitOK {
		t.Fatalf("audit on a partial clone: exit %d, want 0\n%s%s", code, partial, errs)
	}
	if partial != full {
		t.Errorf("audit on a partial clone differs from the full clone's:\n--- full\n%s--- partial\n%s", full, partial)
	}
}
