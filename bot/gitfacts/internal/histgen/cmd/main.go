// Command histgen writes a synthetic history for the audit benchmark:
//
//	go run ./bot/gitfacts/internal/histgen/cmd -n 100000 -o /tmp/countersign-bench
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/countersign/countersign/bot/gitfacts/internal/histgen"
)

func main() {
	n := flag.Int("n", 100000, "first-parent commits")
	out := flag.String("o", "", "directory to create (must not exist)")
	merge := flag.Int("merge-every", 25, "merge a side branch every N commits (0: never)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "histgen: -o DIR is required")
		os.Exit(2)
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Fprintf(os.Stderr, "histgen: %s exists\n", *out)
		os.Exit(2)
	}
	if err := histgen.Generate(context.Background(), *out, histgen.Options{Commits: *n, MergeEvery: *merge, Seed: *seed}); err != nil {
		fmt.Fprintln(os.Stderr, "histgen:", err)
		os.Exit(1)
	}
}
