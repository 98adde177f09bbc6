package checks

import (
	"testing"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// TestInvolved: the one answer to "who is not independent of this change",
// which the engine, Request review and the reviewer lookups all use.
func TestInvolved(t *testing.T) {
	amended := humanCommit("c1", "alice")
	amended.CommitterName, amended.CommitterLogin, amended.CommitterEmail = "Bob", "bob", "bob@acme.test"
	bump := detect.Commit{SHA: "c2", Message: "Bump x", AuthorName: "dependabot[bot]", AuthorLogin: "dependabot[bot]",
		AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com", CommitterName: "Carol", CommitterLogin: "carol", CommitterEmail: "carol@acme.test"}
	web := humanCommit("c3", "frank")
	web.CommitterName, web.CommitterLogin, web.CommitterEmail = "GitHub", "web-flow", "noreply@github.com"
	noreply := humanCommit("c4", "grace")
	noreply.AuthorLogin, noreply.CommitterLogin = "", ""
	noreply.AuthorEmail, noreply.CommitterEmail = "123+grace@users.noreply.github.com", "123+grace@users.noreply.github.com"
	c := compiled(t, config.Default())
	f := &Facts{Repo: "acme/web", PR: humanPR("dave"), Commits: []detect.Commit{amended, bump, web, noreply, trailerCommit("c5", "olga")}}
	in := c.Involved(f)
	for login, want := range map[string]string{
		"dave":     ExcludedAuthor,
		"DAVE":     ExcludedAuthor,
		"olga":     ExcludedOperator, // ran Claude Code (a Co-authored-by trailer on her commit)
		"alice":    ExcludedCommitter,
		"bob":      ExcludedCommitter, // committed Alice's commit
		"carol":    ExcludedCommitter, // committed Dependabot's
		"frank":    ExcludedCommitter,
		"grace":    ExcludedCommitter, // by her noreply address
		"web-flow": "",                // GitHub's committer of web edits is nobody
		"erin":     "",
		"":         "",
	} {
		if got := in.Reason(login); got != want {
			t.Errorf("Reason(%q) = %q, want %q", login, got, want)
		}
		if in.Has(login) != (want != "") {
			t.Errorf("Has(%q) = %v", login, in.Has(login))
		}
	}
	// The engine excludes exactly them: an approval from each is refused with the same reason.
	f.Reviewers = reviewers(writer("dave"), writer("olga"), writer("alice"), writer("bob"), writer("carol"), writer("grace"), writer("erin"))
	for i, login := range []string{"dave", "olga", "alice", "bob", "carol", "grace", "erin"} {
		f.Reviews = append(f.Reviews, review(int64(i+1), login, ReviewApproved, head))
	}
	v := c.Evaluate(f)
	got := map[string]string{}
	for _, x := range v.Excluded {
		got[x.Login] = x.Reason
	}
	for _, login := range []string{"dave", "olga", "alice", "bob", "carol", "grace", "erin"} {
		if got[login] != in.Reason(login) {
			t.Errorf("engine excluded @%s for %q, Involved says %q", login, got[login], in.Reason(login))
		}
	}
}
