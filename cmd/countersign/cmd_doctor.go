package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/doctor"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/server"
)

// runDoctor runs 'countersign doctor': check, with serve's settings, that
// the app can do its job on a repository and that merges wait for it.
func runDoctor(ctx context.Context, args []string, s streams) int {
	return doctorCmd(ctx, args, os.Getenv, s)
}

// splitRepo takes --repo, --org (and -h) out of args; the rest are serve's settings.
func splitRepo(args []string) (repo, org string, help bool, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help" || a == "-help":
			help = true
		case a == "--org" || a == "-org":
			if i+1 >= len(args) {
				return "", "", false, nil, errors.New("--org needs ORG")
			}
			org = args[i+1]
			i++
		case strings.HasPrefix(a, "--org=") || strings.HasPrefix(a, "-org="):
			_, org, _ = strings.Cut(a, "=")
		case a == "--repo" || a == "-repo":
			if i+1 >= len(args) {
				return "", "", false, nil, errors.New("--repo needs OWNER/NAME")
			}
			repo = args[i+1]
			i++
		case strings.HasPrefix(a, "--repo=") || strings.HasPrefix(a, "-repo="):
			_, repo, _ = strings.Cut(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	if repo != "" && org != "" {
		return "", "", false, nil, errors.New("give --repo or --org, not both")
	}
	return repo, org, help, rest, nil
}

func doctorUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: countersign doctor [--repo OWNER/NAME | --org ORG] [serve's settings flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Checks, with the settings 'countersign serve' uses (COUNTERSIGN_* variables or flags):")
	fmt.Fprintln(w, "the app's credentials, the permissions and events GitHub granted against app.yml, and with")
	fmt.Fprintln(w, "--repo the installation, the policy file on the default branch, and whether the default")
	fmt.Fprintln(w, "branch's protection or rulesets require the countersign check from this app and pull requests,")
	fmt.Fprintln(w, "who may bypass them, force pushes and deletions, Copilot code review, and whether CODEOWNERS and")
	fmt.Fprintln(w, "the policy's protected paths guard the policy file. --org runs the same over every repository of")
	fmt.Fprintln(w, "the app's installation on ORG and prints a summary table.")
	fmt.Fprintln(w, "Exits 0 when everything holds, 1 otherwise.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  --repo OWNER/NAME          the repository to check the installation, policy and branch protection of")
	fmt.Fprintln(w, "  --org ORG                  check every repository of the app's installation on ORG, with a summary table")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Settings (as for 'countersign serve'; a flag wins over its variable):")
	fmt.Fprintln(w)
	server.SettingsFlags(w)
}

// doctorManifest is what the app should be granted; nil means app.yml.
// Tests against the simulator narrow it to what the simulator can grant.
var doctorManifest *appmanifest.Manifest

func doctorCmd(ctx context.Context, args []string, getenv func(string) string, s streams) int {
	repo, org, help, rest, err := splitRepo(args)
	if help {
		doctorUsage(s.out)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(s.err, "countersign doctor: %v\n", err)
		return exitError
	}
	set, err := server.LoadSettings(rest, getenv)
	if err != nil {
		fmt.Fprintf(s.out, "✗ settings: %s\n    fix them as docs/configuration.md says ('countersign doctor -h' lists them)\n",
			strings.ReplaceAll(err.Error(), "\n", "\n    "))
		return exitRequired
	}
	fmt.Fprintf(s.out, "✓ settings: app %d, GitHub %s\n", set.AppID, set.GitHubURL)
	app, err := ghapp.New(ghapp.Options{AppID: set.AppID, PrivateKeyPEM: set.PrivateKeyPEM, BaseURL: set.GitHubURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 2, MaxRateLimitWait: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(s.out, "✗ settings: %v\n", err)
		return exitRequired
	}
	timeout := 2 * time.Minute
	if org != "" {
		timeout = 15 * time.Minute // every repository of the installation
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := doctor.Run(cctx, doctor.Options{App: app, Repo: repo, Org: org, Manifest: doctorManifest})
	rep.Write(s.out)
	if !rep.OK() {
		return exitRequired
	}
	return exitOK
}
