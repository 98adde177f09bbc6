package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/countersign/countersign/config"
	"go.yaml.in/yaml/v3"
)

// runConfig runs 'countersign config': validate or print the policy file,
// or list the built-in presets.
func runConfig(ctx context.Context, args []string, s streams) int {
	if len(args) == 0 {
		configUsage(s.err)
		return exitError
	}
	switch args[0] {
	case "-h", "--help", "help":
		configUsage(s.out)
		return exitOK
	case "validate":
		return configValidate(args[1:], s)
	case "print":
		return configPrint(args[1:], s)
	case "presets":
		return configPresets(args[1:], s)
	}
	fmt.Fprintf(s.err, "countersign config: unknown subcommand %q\n\n", args[0])
	configUsage(s.err)
	return exitError
}

func configUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage:
  countersign config validate [FILE]    check a policy file (default %[1]s)
  countersign config print [FILE]       print the effective policy, every default filled in
  countersign config presets [--format text|json]
                                        list the built-in protected-path presets

validate exits 0 when the file is valid, 1 when it is not (every problem is
printed, one per line, as file:line:column: key.path: message) and 2 when the
file cannot be read. The policy file is documented in docs/policy.md.
`, config.FileName)
}

// configFileArgs parses the flags of validate and print: none but -h, and
// at most one file.
func configFileArgs(name string, args []string, s streams) (file string, code int, ok bool) {
	fset := flag.NewFlagSet("config "+name, flag.ContinueOnError)
	fset.SetOutput(s.err)
	fset.Usage = func() {
		fmt.Fprintf(s.err, "Usage: countersign config %s [FILE]   (default FILE: %s)\n", name, config.FileName)
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", exitOK, false
		}
		return "", exitError, false
	}
	switch fset.NArg() {
	case 0:
		return config.FileName, 0, true
	case 1:
		return fset.Arg(0), 0, true
	}
	fmt.Fprintf(s.err, "countersign config %s: one file at most, got %d arguments\n", name, fset.NArg())
	fset.Usage()
	return "", exitError, false
}

// loadPolicyFile reads and parses file. A missing file is reported with
// missing set and no error.
func loadPolicyFile(file string) (p *config.Policy, missing bool, err error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, err
	}
	if err != nil {
		return nil, false, err
	}
	p, err = config.Parse(file, data)
	return p, false, err
}

// printPolicyErrors prints a Parse error one problem per line.
func printPolicyErrors(w io.Writer, err error) {
	var es config.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, err)
}

func configValidate(args []string, s streams) int {
	file, code, ok := configFileArgs("validate", args, s)
	if !ok {
		return code
	}
	_, _, err := loadPolicyFile(file)
	var es config.Errors
	switch {
	case err == nil:
		fmt.Fprintf(s.out, "%s: valid\n", file)
		return exitOK
	case errors.As(err, &es):
		printPolicyErrors(s.out, err)
		return exitRequired
	}
	fmt.Fprintf(s.err, "countersign config validate: cannot read %s: %v\n", file, unwrapPathError(err))
	return exitError
}

func configPrint(args []string, s streams) int {
	file, code, ok := configFileArgs("print", args, s)
	if !ok {
		return code
	}
	p, missing, err := loadPolicyFile(file)
	var es config.Errors
	var header string
	switch {
	case missing:
		p = config.Default()
		header = fmt.Sprintf("# %s does not exist: this is Countersign's built-in default policy.\n", file)
	case errors.As(err, &es):
		printPolicyErrors(s.err, err)
		return exitRequired
	case err != nil:
		fmt.Fprintf(s.err, "countersign config print: cannot read %s: %v\n", file, unwrapPathError(err))
		return exitError
	default:
		header = fmt.Sprintf("# The effective policy of %s, with every default filled in.\n", file)
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p.Effective()); err != nil {
		fmt.Fprintf(s.err, "countersign config print: %v\n", err)
		return exitError
	}
	if err := enc.Close(); err != nil {
		fmt.Fprintf(s.err, "countersign config print: %v\n", err)
		return exitError
	}
	fmt.Fprint(s.out, header+b.String())
	return exitOK
}

func configPresets(args []string, s streams) int {
	fset := flag.NewFlagSet("config presets", flag.ContinueOnError)
	fset.SetOutput(s.err)
	format := fset.String("format", "text", "output format: text or json")
	fset.Usage = func() {
		fmt.Fprintln(s.err, "Usage: countersign config presets [--format text|json]")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(s.err, "countersign config presets: unexpected argument %q\n", fset.Arg(0))
		return exitError
	}
	presets := config.Presets()
	switch *format {
	case "json":
		enc := json.NewEncoder(s.out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(presets); err != nil {
			fmt.Fprintf(s.err, "countersign config presets: %v\n", err)
			return exitError
		}
	case "text":
		for i, pr := range presets {
			if i > 0 {
				fmt.Fprintln(s.out)
			}
			fmt.Fprintf(s.out, "%s: %s\n", pr.Name, pr.Description)
			for _, g := range pr.Paths {
				fmt.Fprintf(s.out, "  %s\n", g)
			}
			for _, g := range pr.Ignore {
				fmt.Fprintf(s.out, "  ignore %s\n", g)
			}
		}
	default:
		fmt.Fprintf(s.err, "countersign config presets: --format must be text or json, not %q\n", *format)
		return exitError
	}
	return exitOK
}

// unwrapPathError drops the *fs.PathError wrapper, whose path the message
// already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
