// Command countersign is Countersign's one binary: the GitHub App server and
// the commands that run the same policy engine on a local clone.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// streams are the standard streams a command reads and writes, so tests can
// run commands in-process.
type streams struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, s streams) int
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{"serve", "run the GitHub App server", runServe},
		{"check", "evaluate a branch of a local clone as a merge would be judged", runCheck},
		{"audit", "backtest the policy over a branch's history", runAudit},
		{"detect", "classify GitHub REST pull-request or commit JSON read on stdin", runDetect},
		{"config", "validate or print the policy file, list presets", runConfig},
		{"setup", "register the GitHub App from app.yml (GitHub's manifest flow)", runSetup},
		{"loadtest", "drive the server against the GitHub simulator at a target rate, with faults", runLoadtest},
		{"doctor", "check the app's credentials, grants, policy and branch protection", runDoctor},
		{"report", "list every landed change from the countersign/landing records, for auditors", runReport},
		{"version", "print the version, source commit and Go version of this binary", runVersion},
	}
}

// Exit codes shared by the commands.
const (
	exitOK       = 0 // nothing required, or the command succeeded
	exitRequired = 1 // approval required, or the input is invalid
	exitError    = 2 // the command could not do its work
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, s streams) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(s.out)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		writeVersion(s.out)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], s)
		}
	}
	fmt.Fprintf(s.err, "countersign: unknown command %q\n\n", args[0])
	usage(s.err)
	return exitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Countersign: a second, independent human signature on agent-written and infrastructure changes.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: countersign <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'countersign <command> -h' for a command's flags.")
}

// newFlags returns the flag set of subcommand name, writing to s.err; its
// usage prints "Usage: countersign <synopsis>", the about lines, and the flags.
func newFlags(s streams, name, synopsis string, about ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(s.err)
	fs.Usage = func() {
		fmt.Fprintln(s.err, "Usage: countersign "+synopsis)
		fmt.Fprintln(s.err)
		for _, l := range about {
			fmt.Fprintln(s.err, l)
		}
		if len(about) > 0 {
			fmt.Fprintln(s.err)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args for a subcommand that takes no positional
// arguments. When the command should stop it returns false and the exit
// code: exitOK after -h, exitError for a bad flag or a stray argument.
func parseFlags(fs *flag.FlagSet, args []string, s streams) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitError, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.err, "countersign %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitError, false
	}
	return exitOK, true
}
