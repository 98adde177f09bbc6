package main

import (
	"context"
	"fmt"
)

// runAudit runs 'countersign audit'. Not written yet.
func runAudit(ctx context.Context, args []string, s streams) int {
	fmt.Fprintln(s.err, "countersign audit: not implemented yet")
	return exitError
}
