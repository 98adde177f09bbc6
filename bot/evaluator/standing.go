package evaluator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/countersign/countersign/bot/pull"
	"github.com/countersign/countersign/bot/server"
)

var _ server.StandingFilter = (*Evaluator)(nil)

// readStanding lists the (lower-case) logins whose permission and team
// membership an evaluation read: every team the policy or the code owners
// name is read only for these logins.
func readStanding(g *pull.Gathered) []string {
	if g == nil || g.Facts == nil {
		return nil
	}
	out := make([]string, 0, len(g.Facts.Reviewers))
	for login := range g.Facts.Reviewers {
		out = append(out, strings.ToLower(login))
	}
	slices.Sort(out)
	return out
}

// ReadsStanding reports whether the job's pull request must be evaluated
// again after a change of standing: its last published verdict, at the
// job's head, read the standing of someone the change names (or, for a
// change of anyone's, of anyone at all). Without such a record (lost, never
// written, another head, an evaluation under way) the answer is yes.
func (e *Evaluator) ReadsStanding(ctx context.Context, job server.Job, change server.Standing) (bool, error) {
	r, ok, err := e.stores.Reliances.Reliance(ctx, job.Owner+"/"+job.Repo, job.Number)
	if err != nil {
		return true, fmt.Errorf("reading the reliance record: %w", err)
	}
	if !ok || r.Pending || job.HeadSHA == "" || r.Head != job.HeadSHA {
		return true, nil
	}
	if change.Anyone {
		return len(r.Logins) > 0, nil
	}
	for _, l := range change.Logins {
		if slices.Contains(r.Logins, strings.ToLower(l)) {
			return true, nil
		}
	}
	return false, nil
}
