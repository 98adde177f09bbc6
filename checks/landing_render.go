package checks

import (
	"encoding/json"
	"fmt"
	"strings"
)

// LandingRecordMarker opens the machine-readable copy of a landing record in
// its check run's output text; `countersign report` reads what follows it.
const LandingRecordMarker = "<!-- countersign:landing-record -->"

// Markdown renders the landing record as a check-run summary of at most
// MaxSummary characters.
func (l *Landing) Markdown() string {
	for _, n := range []int{500, 100, 20, 0} {
		if s := l.markdown(n); len(s) <= MaxSummary {
			return s
		}
	}
	return clip(l.markdown(0), MaxSummary-1)
}

func (l *Landing) markdown(limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s %s\n\n", conclusionIcon(l.Conclusion), md(l.Title))
	fmt.Fprintf(&b, "Push to %s (%s", code(l.Branch), code(shortSHA(l.Before)))
	fmt.Fprintf(&b, " → %s)", code(shortSHA(l.After)))
	if l.Pusher != "" {
		fmt.Fprintf(&b, " pushed by %s", md(l.Pusher))
	}
	if l.Sender != "" && !strings.EqualFold(l.Sender, l.Pusher) {
		fmt.Fprintf(&b, ", sent by @%s", md(l.Sender))
	}
	b.WriteString(".\n\n")
	if len(l.Errors) > 0 {
		b.WriteString("#### Errors\n\n")
		for _, e := range l.Errors {
			fmt.Fprintf(&b, "- %s\n", md(e))
		}
		b.WriteString("\n")
	}
	if len(l.Unaccounted) > 0 {
		b.WriteString("#### Landed without countersignature\n\n")
		b.WriteString("| commit | author | agent | operator | protected files | why |\n|---|---|---|---|---|---|\n")
		for i, u := range l.Unaccounted {
			if limit > 0 && i == limit {
				fmt.Fprintf(&b, "| … and %d more | | | | | |\n", len(l.Unaccounted)-limit)
				break
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s |\n", code(shortSHA(u.SHA)), md(clip(u.Subject, 80)), md(u.Author),
				md(orDash(u.Agent)), md(orDash(u.Operator)), md(orDash(strings.Join(u.ProtectedFiles, ", "))), md(u.Why))
		}
		fmt.Fprintf(&b, "\nPushed by %s", md(orDash(l.Pusher)))
		if l.Sender != "" {
			fmt.Fprintf(&b, " (sender @%s)", md(l.Sender))
		}
		b.WriteString(".\n\n")
	}
	if len(l.Changes) > 0 {
		b.WriteString("#### Landed changes\n\n")
		for i, c := range l.Changes {
			if limit > 0 && i == limit {
				fmt.Fprintf(&b, "- … and %d more\n", len(l.Changes)-limit)
				break
			}
			fmt.Fprintf(&b, "- %s\n", md(c.Phrase()))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Policy: %s", md(l.Policy.String()))
	if l.Policy.SHA != "" {
		fmt.Fprintf(&b, " (%s)", code(shortSHA(l.Policy.SHA)))
	}
	b.WriteString(".\n")
	return b.String()
}

// Text is the landing record's check-run output text: the marker and the
// record as JSON, which `countersign report` reads back.
func (l *Landing) Text() (string, error) {
	j, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	s := LandingRecordMarker + "\n```json\n" + string(j) + "\n```\n"
	if len(s) > MaxSummary {
		return "", fmt.Errorf("the landing record is %d bytes, over GitHub's %d", len(s), MaxSummary)
	}
	return s, nil
}

// ParseLandingText reads the landing record back from a check run's output text.
func ParseLandingText(text string) (*Landing, error) {
	_, rest, ok := strings.Cut(text, LandingRecordMarker)
	if !ok {
		return nil, fmt.Errorf("no landing record in the check run's text")
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimPrefix(rest, "```json")
	rest = strings.TrimSuffix(strings.TrimSpace(rest), "```")
	var l Landing
	if err := json.Unmarshal([]byte(rest), &l); err != nil {
		return nil, fmt.Errorf("landing record: %w", err)
	}
	if l.Conclusion != Success && l.Conclusion != Failure {
		return nil, fmt.Errorf("landing record: conclusion %q is neither success nor failure", l.Conclusion)
	}
	return &l, nil
}

// BypassTitle is the title of the bypass issue of a push: the branch and
// the short SHA of the pushed head, which also identify it when it is
// looked up again.
func (l *Landing) BypassTitle() string {
	return fmt.Sprintf("Landed without countersignature on %s at %s", l.Branch, shortSHA(l.After))
}

// BypassBody is the body of the bypass issue: who pushed, who may override,
// what landed and a link to the record.
func (l *Landing) BypassBody(recordURL string, overrideTeams, overrideUsers []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s landed on %s without countersignature in the push to %s.\n\n",
		len(l.Unaccounted), plural(len(l.Unaccounted), "commit", "commits"), code(l.Branch), code(shortSHA(l.After)))
	who := "Pushed by "
	if l.Pusher != "" {
		who += "@" + strings.TrimPrefix(l.Pusher, "@")
	} else {
		who += "an unknown pusher"
	}
	if l.Sender != "" && !strings.EqualFold(l.Sender, l.Pusher) {
		who += " (sent by @" + l.Sender + ")"
	}
	b.WriteString(who + ".\n\n")
	var names []string
	for _, t := range overrideTeams {
		names = append(names, "@"+t)
	}
	for _, u := range overrideUsers {
		names = append(names, "@"+u)
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "Override team and users: %s.\n\n", strings.Join(names, ", "))
	} else {
		b.WriteString("The policy names nobody who may override.\n\n")
	}
	for _, u := range l.Unaccounted {
		line := fmt.Sprintf("- `%s` %s, by %s", shortSHA(u.SHA), md(clip(u.Subject, 80)), md(u.Author))
		if u.Agent != "" {
			line += ", agent " + md(u.Agent)
		}
		if u.Operator != "" {
			line += " for " + md(u.Operator)
		}
		if len(u.ProtectedFiles) > 0 {
			line += ", protected files: " + md(strings.Join(u.ProtectedFiles, ", "))
		}
		b.WriteString(line + ": " + md(u.Why) + "\n")
	}
	if recordURL != "" {
		fmt.Fprintf(&b, "\nThe landing record: %s\n", recordURL)
	}
	b.WriteString("\nReview what landed, and revert it or record why it may stay.\n")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
