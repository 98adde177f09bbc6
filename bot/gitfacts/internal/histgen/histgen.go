// Package histgen generates large synthetic git histories with git
// fast-import, for the audit benchmark: a first-parent line of commits by
// humans, AI agents (with their real fingerprints) and automation bots,
// touching source, infrastructure and workflow paths, with a merge of a short
// side branch every so often.
package histgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Options shapes a generated history.
type Options struct {
	// Commits is the number of commits on the first-parent line.
	Commits int
	// MergeEvery puts a merge of a two-commit side branch every so many
	// first-parent commits; 0 means never.
	MergeEvery int
	// Seed makes the history reproducible.
	Seed uint64
}

type author struct{ name, email, trailer string }

var authors = []author{
	{"Ada Lovelace", "ada@example.com", ""},
	{"Grace Hopper", "grace@example.com", ""},
	{"Linus Example", "linus@example.org", ""},
	{"Margaret Hamilton", "margaret@example.com", ""},
	{"Ada Lovelace", "ada@example.com", "Co-Authored-By: Claude <noreply@anthropic.com>"},
	{"Copilot", "198982749+Copilot@users.noreply.github.com", "Co-authored-by: Grace Hopper <grace@example.com>"},
	{"dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", ""},
	{"Grace Hopper", "grace@example.com", "Co-authored-by: aider (openai/gpt-4o) <aider@aider.chat>"},
}

// paths returns the file layout: about 1,600 files over three levels.
func paths() []string {
	var ps []string
	for a := 0; a < 8; a++ {
		for b := 0; b < 10; b++ {
			for f := 0; f < 18; f++ {
				ps = append(ps, fmt.Sprintf("src/mod%d/pkg%d/file%02d.go", a, b, f))
			}
		}
	}
	for i := 0; i < 24; i++ {
		ps = append(ps, fmt.Sprintf("infra/terraform/env%d/main.tf", i))
	}
	for i := 0; i < 6; i++ {
		ps = append(ps, fmt.Sprintf(".github/workflows/ci%d.yml", i))
	}
	for i := 0; i < 20; i++ {
		ps = append(ps, fmt.Sprintf("docs/page%02d.md", i))
	}
	ps = append(ps, "go.mod", "go.sum", "Dockerfile", "README.md")
	return ps
}

// Write writes a fast-import stream of the history to w, for refs/heads/main.
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	all := paths()
	when := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	mark := 0
	recording := false
	var msg bytes.Buffer
	commit := func(ref string, a author, from, merge int, files func()) int {
		mark++
		when += int64(60 + rng.IntN(3600))
		msg.Reset()
		fmt.Fprintf(&msg, "change %d: update things\n\nSome explanation of commit %d.\n", mark, mark)
		if a.trailer != "" {
			fmt.Fprintf(&msg, "\n%s\n", a.trailer)
		}
		fmt.Fprintf(bw, "commit %s\nmark :%d\nauthor %s <%s> %d +0000\ncommitter %s <%s> %d +0000\ndata %d\n%s",
			ref, mark, a.name, a.email, when, a.name, a.email, when, msg.Len(), msg.Bytes())
		if from > 0 {
			fmt.Fprintf(bw, "from :%d\n", from)
		}
		if merge > 0 {
			fmt.Fprintf(bw, "merge :%d\n", merge)
		}
		files()
		bw.WriteString("\n")
		return mark
	}
	// written collects the file operations of a side branch, which its merge
	// replays so that the merge brings them onto main.
	var written []string
	emit := func(op string) {
		bw.WriteString(op)
		if recording {
			written = append(written, op)
		}
	}
	blob := func(path string) {
		body := fmt.Sprintf("// %s\n// revision %d\npackage x\n\nvar v = %d\n", path, mark, rng.Int())
		emit(fmt.Sprintf("M 100644 inline %s\ndata %d\n%s\n", path, len(body), body))
	}
	touch := func() {
		k := 1 + rng.IntN(3)
		for i := 0; i < k; i++ {
			blob(all[rng.IntN(len(all))])
		}
		if rng.IntN(50) == 0 { // now and then a new file, and a deletion
			blob(fmt.Sprintf("src/new/f%d.go", mark))
		}
		if rng.IntN(80) == 0 && mark > 100 {
			emit(fmt.Sprintf("D src/new/f%d.go\n", rng.IntN(mark)))
		}
	}
	main := commit("refs/heads/main", authors[0], 0, 0, func() {
		for _, p := range all {
			blob(p)
		}
	})
	for n := 1; n < o.Commits; n++ {
		a := authors[rng.IntN(len(authors))]
		if o.MergeEvery > 0 && n%o.MergeEvery == 0 && n+1 < o.Commits {
			written, recording = written[:0], true
			s1 := commit("refs/heads/side", a, main, 0, touch)
			s2 := commit("refs/heads/side", a, s1, 0, touch)
			recording = false
			main = commit("refs/heads/main", authors[rng.IntN(4)], main, s2, func() {
				for _, op := range written {
					bw.WriteString(op)
				}
			})
			continue
		}
		main = commit("refs/heads/main", a, main, 0, touch)
	}
	fmt.Fprintf(bw, "reset refs/heads/side\nfrom 0000000000000000000000000000000000000000\n\n")
	return bw.Flush()
}

// Generate creates a repository in dir holding the history on main.
func Generate(ctx context.Context, dir string, o Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := run(ctx, dir, nil, "git", "init", "-q", "-b", "main"); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(Write(pw, o)) }()
	if err := run(ctx, dir, pr, "git", "fast-import", "--quiet", "--depth=50"); err != nil {
		return err
	}
	if err := run(ctx, dir, nil, "git", "checkout", "-q", "main"); err != nil {
		return err
	}
	return nil
}

func run(ctx context.Context, dir string, stdin io.Reader, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+filepath.Join(dir, ".."))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, out)
	}
	return nil
}
