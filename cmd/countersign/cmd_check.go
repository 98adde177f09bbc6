package main

import (
	"context"
	"fmt"
)

// runCheck runs 'countersign check'. Not written yet.
func runCheck(ctx context.Context, args []string, s streams) int {
	fmt.Fprintln(s.err, "countersign check: not implemented yet")
	return exitError
}
