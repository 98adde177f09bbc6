package main

import (
	"context"
	"fmt"
)

// runDetect runs 'countersign detect'. Not written yet.
func runDetect(ctx context.Context, args []string, s streams) int {
	fmt.Fprintln(s.err, "countersign detect: not implemented yet")
	return exitError
}
