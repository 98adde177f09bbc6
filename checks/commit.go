package checks

import (
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// Change is a path one commit changed against its first parent, and how:
// StatusAdded, StatusModified or StatusRemoved.
type Change struct {
	// Path is the file's path.
	Path string `json:"path"`
	// Status is StatusAdded, StatusModified or StatusRemoved.
	Status string `json:"status"`
}

// CommitJudgment is how one commit of a branch's history is judged on its
// own, as `countersign audit` reports it.
type CommitJudgment struct {
	// Detection says who wrote the commit; for a merge commit it may be a
	// merged commit's (see Via).
	Detection detect.Detection
	// Via is the merged commit whose detection decided, or "" when the
	// commit's own did.
	Via string
	// Rules names the protected-path rules that apply to the commit's
	// changes, in the order its changes first matched them; never nil.
	Rules []string
	// NeedsApproval is true when the policy asks such a change for an
	// approval: an agent's (review.agent) or anyone's (review.human), or a
	// protected path whose rule needs one.
	NeedsApproval bool
}

// CommitJudge judges commits one at a time against a compiled policy,
// without allocating per changed path. It is not safe for concurrent use;
// make one per goroutine.
type CommitJudge struct {
	c    *Compiled
	m    *RuleMatcher
	idx  []int
	seen []bool
}

// CommitJudge returns a judge of single commits under the policy.
func (c *Compiled) CommitJudge() *CommitJudge {
	return &CommitJudge{c: c, m: c.RuleMatcher(), seen: make([]bool, len(c.rules))}
}

// Judge judges one commit with the paths it changed. A merge commit stands
// for the commits it merged (merged, oldest first): it is an agent's when
// any of them is, and automation's when all of them are (a bot's pull
// request merged by a human).
func (j *CommitJudge) Judge(commit detect.Commit, merged []detect.Commit, changes []Change) CommitJudgment {
	d, via := j.classify(commit, merged)
	out := CommitJudgment{Detection: d, Via: via, Rules: []string{}}
	seen := j.seen
	clear(seen)
	pathNeeds := false
	for _, ch := range changes {
		j.idx = j.m.AppendMatches(j.idx[:0], ch.Path)
		for _, i := range j.idx {
			if seen[i] {
				continue
			}
			r := j.c.rules[i]
			if r.Scope() == config.AppliesToAgent && !d.IsAgent() {
				continue
			}
			seen[i] = true
			out.Rules = append(out.Rules, r.Name)
			extra := 0
			if ch.Status == StatusRemoved {
				extra = r.ExtraDeletionApprovals()
			}
			if r.NeededApprovals()+extra > 0 {
				pathNeeds = true
			}
		}
	}
	review := j.c.p.Review
	if d.Class == detect.ClassAgent {
		out.NeedsApproval = review.AgentApprovals() > 0 || pathNeeds
	} else {
		out.NeedsApproval = review.HumanApprovals() > 0 || pathNeeds
	}
	return out
}

// classify detects who wrote a commit; via names the merged commit that
// decided for a merge commit.
func (j *CommitJudge) classify(c detect.Commit, merged []detect.Commit) (d detect.Detection, via string) {
	det := j.c.det
	d = det.Commit(c)
	if d.IsAgent() || len(merged) == 0 {
		return d, ""
	}
	var firstBot *detect.Detection
	allBots := true
	botSHA := ""
	for i := len(merged) - 1; i >= 0; i-- { // newest first, as the walk goes
		m := merged[i]
		dm := det.Commit(m)
		if dm.IsAgent() {
			return dm, m.SHA
		}
		if dm.Class == detect.ClassAutomation {
			if firstBot == nil {
				firstBot, botSHA = &dm, m.SHA
			}
		} else {
			allBots = false
		}
	}
	if d.Class == detect.ClassHuman && allBots && firstBot != nil {
		return *firstBot, botSHA
	}
	return d, ""
}
