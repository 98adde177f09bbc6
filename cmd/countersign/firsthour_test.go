package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	gt "github.com/countersign/countersign/bot/gitfacts/gitfactstest"
)

// TestJSONOutputKeepsAngleBrackets: scripts read `check`, `audit` and
// `config presets` JSON; a trailer like "Claude <noreply@anthropic.com>"
// must come out as written, not as \u003c...\u003e.
func TestJSONOutputKeepsAngleBrackets(t *testing.T) {
	g := baseRepo(t, nil)
	g.Commit("claude/x", "main", gt.Commit{Author: gt.Alice, Message: gt.Msg("Add x", gt.ClaudeTrailer),
		Change: gt.Change{Write: map[string]string{"src/x.go": "package app\n"}}})
	g.Checkout("claude/x")
	for _, args := range [][]string{
		{"check", "--repo", g.Dir, "--base", "main", "--format", "json"},
		{"audit", "--repo", g.Dir, "--format", "json"},
		{"config", "presets", "--format", "json"},
	} {
		_, out, errs := runCmd(t, args...)
		if out == "" {
			t.Fatalf("%v printed nothing: %s", args, errs)
		}
		if strings.Contains(out, `\u003c`) || strings.Contains(out, `\u003e`) || strings.Contains(out, `\u0026`) {
			t.Errorf("%v escapes < > & in its JSON:\n%s", args, out)
		}
	}
	_, out, _ := runCmd(t, "check", "--repo", g.Dir, "--base", "main", "--format", "json")
	if !strings.Contains(out, "<noreply@anthropic.com>") {
		t.Errorf("check JSON does not show the trailer as written:\n%s", out)
	}
}

func TestSetupRefusesPrintWithOut(t *testing.T) {
	code, _, errs := runCmd(t, "setup", "--webhook-url", "https://x.example/webhook", "--print", "--out", filepath.Join(t.TempDir(), "c.env"))
	if code != exitError || !strings.Contains(errs, "--print") || !strings.Contains(errs, "--out") {
		t.Fatalf("setup --print --out: exit %d, stderr %q; want exit 2 naming both flags", code, errs)
	}
}

func TestDoctorHelpHasOneUsageHeader(t *testing.T) {
	code, out, errs := runCmd(t, "doctor", "-h")
	all := out + errs
	if code != exitOK || strings.Count(all, "Usage:") != 1 {
		t.Fatalf("doctor -h: exit %d, %d usage headers:\n%s", code, strings.Count(all, "Usage:"), all)
	}
	if !strings.Contains(all, "--repo") {
		t.Errorf("doctor -h does not list --repo:\n%s", all)
	}
}

func TestServeHelpNamesSandbox(t *testing.T) {
	code, out, errs := runCmd(t, "serve", "-h")
	if code != exitOK || !strings.Contains(out+errs, "--sandbox") {
		t.Fatalf("serve -h: exit %d, no --sandbox:\n%s%s", code, out, errs)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errs := runCmd(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if !strings.HasPrefix(out, "countersign ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v printed %q; want 'countersign VERSION' and the Go version %s", args, out, runtime.Version())
		}
	}
	code, _, errs := runCmd(t, "version", "extra")
	if code != exitError {
		t.Errorf("version extra: exit %d (%s), want 2", code, errs)
	}
}

// docInvocation is "countersign WORDS... [--flags]" as README.md and docs/ show it.
var docInvocation = regexp.MustCompile("(?m)(?:^|`|\\$ |bin/|\\| |-- |&& )countersign((?: [a-z][a-z-]*)*)((?: [^`\\n|]*)?)")

// pendingCommands are commands the docs already describe while the change
// that adds them is in progress, each with that change.
var pendingCommands = map[string]string{
	"report": "countersign report, from the landing check (issue 12)",
}

// TestDocumentedCommandsAndFlagsExist runs every command README.md and
// docs/ name with -h, and fails on an unknown command or a flag its usage
// does not list.
func TestDocumentedCommandsAndFlagsExist(t *testing.T) {
	files := []string{"../../README.md"}
	docs, _ := filepath.Glob("../../docs/*.md")
	files = append(files, docs...)
	known := map[string]bool{}
	for _, c := range commands() {
		known[c.name] = true
	}
	known["version"] = true
	// Words after "countersign" that are prose, not a command.
	prose := map[string]bool{"is": true, "and": true, "the": true, "app": true, "check": false, "runs": true, "has": true,
		"publishes": true, "itself": true, "needs": true, "can": true, "does": true, "reads": true, "writes": true,
		"only": true, "on": true, "in": true, "as": true, "with": true, "for": true, "of": true, "or": true, "to": true,
		"a": true, "an": true, "was": true, "will": true, "would": true, "never": true, "sees": true, "gives": true}
	usages := map[string]string{}
	usage := func(cmd []string) string {
		key := strings.Join(cmd, " ")
		if u, ok := usages[key]; ok {
			return u
		}
		_, out, errs := runCmd(t, append(append([]string{}, cmd...), "-h")...)
		usages[key] = out + errs
		return usages[key]
	}
	flagRe := regexp.MustCompile(`(?:^| )(--[a-z][a-z0-9-]*)`)
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docInvocation.FindAllStringSubmatch(string(b), -1) {
			words := strings.Fields(m[1])
			if len(words) == 0 || prose[words[0]] || !regexp.MustCompile(`^[a-z]+$`).MatchString(words[0]) {
				continue
			}
			if !known[words[0]] && pendingCommands[words[0]] != "" {
				continue
			}
			if !known[words[0]] {
				if seen[f+words[0]] {
					continue
				}
				seen[f+words[0]] = true
				// A word right after "countersign" in code is a command.
				if strings.Contains(m[0], "countersign "+words[0]) && isCodeLike(m[0]) {
					t.Errorf("%s: %q names the unknown command %q", f, strings.TrimSpace(m[0]), words[0])
				}
				continue
			}
			cmd := []string{words[0]}
			if words[0] == "config" && len(words) > 1 {
				cmd = append(cmd, words[1])
			}
			u := usage(cmd)
			if strings.Contains(u, "unknown command") || strings.Contains(u, "flag provided but not defined") {
				t.Errorf("%s: countersign %s -h fails:\n%s", f, strings.Join(cmd, " "), u)
				continue
			}
			for _, fm := range flagRe.FindAllStringSubmatch(m[2], -1) {
				fl := fm[1]
				if fl == "--help" || fl == "--version" {
					continue
				}
				if !regexp.MustCompile(`(^|[\s\[|])` + regexp.QuoteMeta(fl) + `\b|(^|\s)-` + regexp.QuoteMeta(strings.TrimPrefix(fl, "--")) + `\b`).MatchString(u) {
					t.Errorf("%s: %q uses %s, which 'countersign %s -h' does not list", f, strings.TrimSpace(m[0]), fl, strings.Join(cmd, " "))
				}
			}
		}
	}
	t.Logf("commands checked: %d", len(usages))
	if len(usages) < 5 {
		keys := []string{}
		for k := range usages {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Errorf("only %v found in the docs; the pattern misses invocations", keys)
	}
}

func isCodeLike(s string) bool {
	return strings.Contains(s, "`") || strings.Contains(s, "bin/") || strings.HasPrefix(strings.TrimSpace(s), "countersign")
}

// TestCLIDocCoversEveryCommand: docs/cli.md has a real section for every
// command the binary has, and no doc is left with a placeholder.
func TestCLIDocCoversEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range commands() {
		head := "## `countersign " + c.name + "`"
		i := strings.Index(doc, head)
		if i < 0 {
			if c.name != "serve" { // serve's settings are docs/configuration.md
				t.Errorf("docs/cli.md has no %q section", head)
			}
			continue
		}
		sec := doc[i+len(head):]
		if j := strings.Index(sec, "\n## "); j >= 0 {
			sec = sec[:j]
		}
		if strings.Count(strings.TrimSpace(sec), "\n") < 4 {
			t.Errorf("docs/cli.md: the %s section is a stub:\n%s", c.name, sec)
		}
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(docs, "../../README.md") {
		b, _ := os.ReadFile(f)
		for _, stub := range []string{"*Documented by", "being finished by", "until its documentation lands", "TODO"} {
			if strings.Contains(string(b), stub) {
				t.Errorf("%s still has placeholder text %q", f, stub)
			}
		}
	}
}
