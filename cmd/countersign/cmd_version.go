package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// runVersion runs 'countersign version': the module version, the commit it
// was built from and the Go version, as the build recorded them.
func runVersion(_ context.Context, args []string, s streams) int {
	fs := newFlags(s, "version", "version", "Prints the version of this binary: module version, source commit and Go version.")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	writeVersion(s.out)
	return exitOK
}

// writeVersion writes one line, such as
// "countersign v1.2.0 (commit 6981523abcde, 2026-12-02T14:47:58Z) go1.26.8 linux/amd64".
func writeVersion(w io.Writer) {
	version, commit, when, modified := "(devel)", "", "", false
	goVersion, platform := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			version = v
		}
		var goos, goarch string
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				commit = st.Value
			case "vcs.time":
				when = st.Value
			case "vcs.modified":
				modified = st.Value == "true"
			case "GOOS":
				goos = st.Value
			case "GOARCH":
				goarch = st.Value
			}
		}
		if goos != "" {
			platform = " " + goos + "/" + goarch
		}
	}
	src := "commit unknown"
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		src = "commit " + commit
		if when != "" {
			src += ", " + when
		}
		if modified {
			src += ", with uncommitted changes"
		}
	}
	fmt.Fprintf(w, "countersign %s (%s) %s%s\n", version, src, goVersion, platform)
}
