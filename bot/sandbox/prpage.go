package sandbox

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/checks"
)

// entryView is one review or comment of a pull request's conversation, with
// what the bot's verdict on the head made of it.
type entryView struct {
	// Anchor is "review-ID" or "comment-ID".
	Anchor, Login, At, What, Body string
	// Counted is "yes", "no", "blocks", "in-force", "pending" or "" (nothing to count).
	Counted string
	// Verdict says it in words; Reasons are the engine's, for one not counted.
	Verdict   string
	Reasons   []reasonView
	Reactions []reactionView
	at        time.Time
}

type reasonView struct{ Reason, Detail string }

type reactionView struct{ Content, Emoji, Login string }

// reactionEmoji are GitHub's reaction contents as the page shows them.
var reactionEmoji = map[string]string{
	"+1": "👍", "-1": "👎", "laugh": "😄", "confused": "😕", "heart": "❤️", "hooray": "🎉", "rocket": "🚀", "eyes": "👀",
}

// conversation lists a pull request's reviews and comments, oldest first,
// each marked from the verdict published for the head (nil when none yet):
// an approval the verdict excluded is "not counted" with the engine's reason,
// one whose reviewer satisfies a requirement is "counted" for those
// requirements. Nothing is judged here; it is only read off the verdict.
func (sb *Sandbox) conversation(repo string, n int, v *checks.Verdict) []entryView {
	var out []entryView
	for _, r := range sb.Sim.Reviews(repo, n) {
		e := entryView{
			Anchor: "review-" + itoa64(r.GetID()), Login: r.GetUser().GetLogin(), Body: r.GetBody(),
			at: r.GetSubmittedAt().Time,
		}
		state := strings.ToUpper(r.GetState())
		switch state {
		case checks.ReviewApproved:
			e.What = "approved"
		case checks.ReviewChangesRequested:
			e.What = "requested changes"
		case checks.ReviewDismissed:
			e.What = "review dismissed"
		default:
			e.What = "reviewed (comment)"
		}
		e.At = e.at.Local().Format("15:04:05")
		if v != nil {
			e.Reasons = excludedFor(v, r.GetID(), true)
		}
		switch {
		case v == nil && (state == checks.ReviewApproved || state == checks.ReviewChangesRequested):
			e.Counted, e.Verdict = "pending", "not judged yet at this head"
		case len(e.Reasons) > 0:
			e.Counted, e.Verdict = "no", "not counted"
		case state == checks.ReviewApproved:
			e.Counted, e.Verdict = approvalCounted(v, e.Login)
		case state == checks.ReviewChangesRequested && blocks(v, r.GetID()):
			e.Counted, e.Verdict = "blocks", "blocks the check until dismissed or replaced by an approval"
		case state == checks.ReviewChangesRequested:
			e.Counted, e.Verdict = "pending", "not judged yet at this head"
		}
		out = append(out, e)
	}
	for _, c := range sb.Sim.Comments(repo, n) {
		e := entryView{
			Anchor: "comment-" + itoa64(c.GetID()), Login: c.GetUser().GetLogin(), Body: c.GetBody(),
			at: c.GetCreatedAt().Time, What: "commented",
		}
		e.At = e.at.Local().Format("15:04:05")
		var approve, override bool
		for _, cmd := range checks.ParseCommands(c.GetBody()) {
			if cmd.Err != nil {
				continue
			}
			approve = approve || cmd.Verb == checks.VerbApprove
			override = override || cmd.Verb == checks.VerbOverride
		}
		if approve || override {
			if v != nil {
				e.Reasons = excludedFor(v, c.GetID(), false)
			}
			switch {
			case v == nil:
				e.Counted, e.Verdict = "pending", "not judged yet at this head"
			case override && v.Override != nil && v.Override.ID == c.GetID():
				e.Counted, e.Verdict = "in-force", "the override in force"
			case len(e.Reasons) > 0:
				e.Counted, e.Verdict = "no", "not counted"
			case approve:
				e.Counted, e.Verdict = approvalCounted(v, e.Login)
			default:
				e.Counted, e.Verdict = "pending", "not judged yet at this head"
			}
		}
		for _, r := range sb.Sim.Reactions(repo, c.GetID()) {
			emoji := reactionEmoji[r.GetContent()]
			if emoji == "" {
				emoji = r.GetContent()
			}
			e.Reactions = append(e.Reactions, reactionView{Content: r.GetContent(), Emoji: emoji, Login: r.GetUser().GetLogin()})
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// excludedFor returns the verdict's exclusions of one review (review=true)
// or one comment (as an approval or an override).
func excludedFor(v *checks.Verdict, id int64, review bool) []reasonView {
	var out []reasonView
	for _, x := range v.Excluded {
		if x.ID != id || (x.Source == checks.SourceReview) != review {
			continue
		}
		out = append(out, reasonView{Reason: x.Reason, Detail: x.Detail})
	}
	return out
}

// approvalCounted reads off the verdict which requirements an approval
// that was not excluded counted for.
func approvalCounted(v *checks.Verdict, login string) (string, string) {
	var names []string
	for _, r := range v.Requirements {
		if slices.ContainsFunc(r.SatisfiedBy, func(s string) bool { return strings.EqualFold(s, login) }) {
			names = append(names, r.Name)
		}
	}
	switch {
	case len(names) > 0:
		return "yes", "counted for " + strings.Join(names, ", ")
	case len(v.Requirements) == 0:
		return "", "no approval is required"
	}
	return "pending", "not judged yet at this head"
}

func blocks(v *checks.Verdict, id int64) bool {
	for _, b := range v.Blocking {
		if b.ReviewID == id {
			return true
		}
	}
	return false
}

// runView is one write of the countersign check run on the head.
type runView struct {
	At, Write, Status, Conclusion, Display, Title string
	ID                                            int64
}

// checkHistory lists every write of the countersign check run on a head,
// from the simulator's record, newest first.
func (sb *Sandbox) checkHistory(repo, head string) []runView {
	var out []runView
	for _, w := range sb.Sim.CheckRunWrites() {
		if !strings.EqualFold(w.Repo, repo) || w.HeadSHA != head || w.Name != checks.CheckName {
			continue
		}
		r := runView{At: w.At.Local().Format("15:04:05"), ID: w.ID, Status: w.Status, Conclusion: w.Conclusion, Title: w.Title, Write: "created"}
		if w.Method != "POST" {
			r.Write = "updated"
		}
		r.Display = r.Status
		if r.Status == "completed" {
			r.Display = r.Conclusion
		}
		out = append(out, r)
	}
	slices.Reverse(out)
	return out
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
