package checks

import "fmt"

// SharedPR is another open pull request whose head is the same commit, with
// its own verdict.
type SharedPR struct {
	// Number is the pull request's number.
	Number int
	// Verdict is its verdict at the shared head.
	Verdict *Verdict
}

// Severity orders conclusions from best to worst: success 0,
// action_required 1, anything else (failure) 2.
func Severity(c Conclusion) int {
	switch c {
	case Success:
		return 0
	case ActionRequired:
		return 1
	}
	return 2
}

// SharedHead combines the verdict of pull request number with the verdicts
// of the other open pull requests at the same head. A check run belongs to
// the commit, so every one of them reads it: it shows the worst verdict (the
// first of equally bad ones), titled to say which pull request it is. It
// returns own when no other is worse. A nil verdict counts as a failure.
func SharedHead(number int, own *Verdict, others []SharedPR) *Verdict {
	worst, blocker := own, 0
	for _, o := range others {
		if o.Number == number {
			continue
		}
		if o.Verdict == nil {
			return incomplete(own.Policy, &Facts{Repo: own.Repo, PR: PullRequest{HeadSHA: own.HeadSHA}},
				fmt.Sprintf("no verdict for #%d, which shares this head", o.Number))
		}
		if Severity(o.Verdict.Conclusion) > Severity(worst.Conclusion) {
			worst, blocker = o.Verdict, o.Number
		}
	}
	if blocker == 0 {
		return own
	}
	out := *worst
	out.Title = clipTitle(fmt.Sprintf("PR #%d: %s (head shared with #%d)", blocker, worst.Title, number))
	return &out
}
