package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GroupMember is what was learned of one pull request of a merge group when
// it was evaluated again for the group.
type GroupMember struct {
	// Number is the pull request's number.
	Number int
	// Error, when not empty, says why the pull request could not be evaluated.
	Error string
	// State is the pull request's state ("open", "closed"); empty counts as open.
	State string
	// Verdict is its verdict now; nil unless it was evaluated.
	Verdict *Verdict
}

// GroupFacts are the facts of a merge group the decision needs.
type GroupFacts struct {
	// Ref is the group's head ref (gh-readonly-queue/{base}/pr-{N}-{sha}).
	Ref string
	// ListError, when not empty, says why the group's commits could not be listed.
	ListError string
	// Members are the pull requests evaluated for the group.
	Members []GroupMember
	// Unaccounted are the (short) SHAs of the group's commits that belong to
	// no evaluated pull request.
	Unaccounted []string
}

// GroupDecision is the verdict of a merge group: its check run's conclusion,
// title and summary.
type GroupDecision struct {
	// Conclusion is success only when every pull request is approved now.
	Conclusion Conclusion
	// Title is the check run's title, at most MaxTitleRunes runes.
	Title string
	// Summary is the check run's summary in Markdown, at most MaxSummary bytes.
	Summary string
}

// MergeGroup decides a merge group: success only when its commits could be
// listed, it holds at least one pull request, every commit belongs to an
// evaluated pull request, and every pull request is open and evaluates to
// success now; otherwise failure, naming what does not hold.
func MergeGroup(g GroupFacts) GroupDecision {
	members := slices.Clone(g.Members)
	slices.SortStableFunc(members, func(a, b GroupMember) int { return a.Number - b.Number })
	var bad, lines, names []string
	firstBad := ""
	for _, m := range members {
		ok, what := false, ""
		switch {
		case m.Error != "":
			what = "could not evaluate: " + m.Error
		case m.State != "" && m.State != "open":
			what = "the pull request is " + m.State
		case m.Verdict == nil:
			what = "could not evaluate: no verdict"
		default:
			ok, what = m.Verdict.Conclusion == Success, string(m.Verdict.Conclusion)+": "+m.Verdict.Title
		}
		mark := "✅"
		if !ok {
			mark = "❌"
			bad = append(bad, "#"+strconv.Itoa(m.Number))
			if firstBad == "" {
				firstBad = fmt.Sprintf(" (#%d %s)", m.Number, what)
			}
		}
		names = append(names, "#"+strconv.Itoa(m.Number))
		lines = append(lines, fmt.Sprintf("- %s #%d — %s", mark, m.Number, what))
	}
	d := GroupDecision{Conclusion: Failure}
	switch {
	case g.ListError != "":
		d.Title = "Could not list the merge group's pull requests: " + g.ListError
	case len(members) == 0:
		d.Title = "No pull request found in the merge group"
	case len(g.Unaccounted) > 0:
		d.Title = fmt.Sprintf("%d commits of the merge group belong to no evaluated pull request: %s", len(g.Unaccounted), strings.Join(g.Unaccounted, ", "))
		lines = append(lines, "- ❌ commits of no evaluated pull request: "+strings.Join(g.Unaccounted, ", "))
	case len(bad) > 0:
		d.Title = "Not approved: " + strings.Join(bad, ", ") + firstBad
	default:
		d.Conclusion = Success
		d.Title = "Every pull request in the merge group is approved: " + strings.Join(names, ", ")
	}
	d.Title = clipRunes(d.Title, MaxTitleRunes)
	d.Summary = clipBytes("### Merge group `"+strings.TrimPrefix(g.Ref, "refs/heads/")+"`\n\nEach pull request of the group was evaluated again at the time of this check.\n\n"+strings.Join(lines, "\n")+"\n", MaxSummary)
	return d
}

// clipRunes shortens s to at most n runes, the last an ellipsis when cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clipBytes shortens s to at most n bytes on a rune boundary, the last rune
// an ellipsis when cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
