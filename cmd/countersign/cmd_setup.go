package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/setup"
)

// runSetup runs 'countersign setup': register the GitHub App through
// GitHub's manifest flow and write its credentials.
func runSetup(ctx context.Context, args []string, s streams) int {
	return setupCmd(ctx, args, os.Getenv, s, nil)
}

// setupCmd is runSetup with the environment and, for tests, a hook told the
// local page's URL once it is served.
func setupCmd(ctx context.Context, args []string, getenv func(string) string, s streams, serving func(url string)) int {
	fs := newFlags(s, "setup",
		"setup --webhook-url URL [--org ORG] [--out FILE | --print] [flags]",
		"Registers Countersign as a GitHub App from app.yml: open the printed local page in a",
		"browser signed in to GitHub, confirm, and the app id, private key and webhook secret",
		"are written as COUNTERSIGN_* settings for 'countersign serve'.",
	)
	webhookURL := fs.String("webhook-url", "", "public URL GitHub delivers webhooks to, such as https://countersign.example.com/webhook (required)")
	org := fs.String("org", "", "register the app in this organization (default: your user account)")
	name := fs.String("name", "", "the app's name, unique on the GitHub host (default: app.yml's name)")
	githubURL := fs.String("github-url", "", "GitHub REST API base; GitHub Enterprise Server: https://HOST/api/v3/ (default $COUNTERSIGN_GITHUB_URL or https://api.github.com/)")
	out := fs.String("out", "countersign.env", "file the COUNTERSIGN_* settings are written to, mode 0600")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	printOnly := fs.Bool("print", false, "print the settings on standard output instead of writing a file")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address of the local registration page")
	timeout := fs.Duration("timeout", time.Hour, "give up when no app is registered within this time (GitHub's code lasts an hour)")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" || f.Name == "force" })
	if *printOnly && outSet {
		fmt.Fprintln(s.err, "countersign setup: --print writes the settings to standard output; it cannot be combined with --out or --force")
		return exitError
	}
	if *githubURL == "" {
		*githubURL = getenv("COUNTERSIGN_GITHUB_URL")
	}
	if !*printOnly && !*force {
		if _, err := os.Stat(*out); err == nil {
			fmt.Fprintf(s.err, "countersign setup: %s already exists; pass --force to overwrite it, --out another file, or --print\n", *out)
			return exitError
		}
	}
	flow, err := setup.New(setup.Options{Name: *name, WebhookURL: *webhookURL, Org: *org, GitHubURL: *githubURL, Listen: *listen})
	if err != nil {
		fmt.Fprintf(s.err, "countersign setup: %v\n", err)
		return exitError
	}
	defer flow.Close()
	fmt.Fprintf(s.err, "Open %s in a browser signed in to GitHub to register the app (Ctrl-C to stop).\n", flow.URL())
	if serving != nil {
		serving(flow.URL())
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	creds, err := flow.Wait(wctx)
	if err != nil {
		fmt.Fprintf(s.err, "countersign setup: %v\n", err)
		return exitError
	}
	env := setup.EnvFile(creds)
	if *printOnly {
		s.out.Write(env)
		setup.Summary(s.err, creds, "")
		return exitOK
	}
	if err := setup.WriteFile(*out, env, *force); err != nil {
		fmt.Fprintf(s.err, "countersign setup: the app %q (id %d) is registered, but its credentials could not be written: %v\n"+
			"Generate a new private key in the app's settings (%s) and set the settings by hand (docs/configuration.md).\n",
			creds.Slug, creds.AppID, err, creds.HTMLURL)
		return exitError
	}
	setup.Summary(s.err, creds, *out)
	fmt.Fprintf(s.err, "Then check it: set -a; . %s; set +a; countersign doctor --repo OWNER/NAME\n", shellPath(*out))
	return exitOK
}

// shellPath makes a relative file name sourceable by '.' (which searches
// PATH for names without a slash).
func shellPath(p string) string {
	if filepath.IsAbs(p) || strings.Contains(p, "/") {
		return p
	}
	return "./" + p
}
