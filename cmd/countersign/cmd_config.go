package main

import (
	"context"
	"fmt"
)

// runConfig runs 'countersign config'. Not written yet.
func runConfig(ctx context.Context, args []string, s streams) int {
	fmt.Fprintln(s.err, "countersign config: not implemented yet")
	return exitError
}
