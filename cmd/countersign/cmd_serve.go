package main

import (
	"context"
	"fmt"
)

// runServe runs 'countersign serve'. Not written yet.
func runServe(ctx context.Context, args []string, s streams) int {
	fmt.Fprintln(s.err, "countersign serve: not implemented yet")
	return exitError
}
