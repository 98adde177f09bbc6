package checks

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/hmarr/codeowners"
)

// Real fingerprints: the Copilot coding agent opens pull requests as the bot
// account "Copilot" (id 198982749); Claude Code authors commits as
// "Claude <noreply@anthropic.com>" or adds a Co-Authored-By trailer.
const (
	head    = "5d6e7f8a9b0c1d2e3f405162738495a6b7c8d9e0"
	oldHead = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
)

func ptr[T any](v T) *T { return &v }

func copilotPR() PullRequest {
	return PullRequest{
		PullRequest: detect.PullRequest{Number: 7, AuthorLogin: "Copilot", AuthorType: "Bot", AuthorID: 198982749,
			HeadRef: "copilot/fix-login", Title: "Fix login", Body: "Fixes the login form."},
		HeadSHA: head, BaseRef: "main", BaseSHA: oldHead,
	}
}

func humanPR(author string) PullRequest {
	return PullRequest{
		PullRequest: detect.PullRequest{Number: 8, AuthorLogin: author, AuthorType: "User", AuthorID: 1001, HeadRef: "feature", Title: "Feature", Body: "A change."},
		HeadSHA:     head, BaseRef: "main", BaseSHA: oldHead,
	}
}

func humanCommit(sha, login string) detect.Commit {
	return detect.Commit{SHA: sha, AuthorName: strings.ToUpper(login[:1]) + login[1:], AuthorEmail: login + "@example.com", AuthorLogin: login,
		CommitterName: login, CommitterEmail: login + "@example.com", CommitterLogin: login, Message: "Change things\n\nBecause.", Parents: 1}
}

func claudeCommit(sha string) detect.Commit {
	return detect.Commit{SHA: sha, AuthorName: "Claude", AuthorEmail: "noreply@anthropic.com",
		CommitterName: "Claude", CommitterEmail: "noreply@anthropic.com", Message: "Refactor the parser\n\nDetails.", Parents: 1}
}

// trailerCommit is a human's commit with a Claude co-author trailer: the human ran the agent.
func trailerCommit(sha, login string) detect.Commit {
	c := humanCommit(sha, login)
	c.Message = "Add retries\n\nRetry on 502.\n\nCo-Authored-By: Claude <noreply@anthropic.com>"
	return c
}

func review(id int64, login, state, sha string) Review {
	return Review{ID: id, Login: login, UserType: "User", State: state, CommitSHA: sha, Source: SourceReview,
		SubmittedAt: time.Date(2026, 1, 1, 0, int(id), 0, 0, time.UTC)}
}

func commentApproval(id int64, login, sha string) Review {
	r := review(id, login, ReviewApproved, sha)
	r.Source = SourceComment
	return r
}

// editedApproval is a comment approval whose comment was edited after it was written.
func editedApproval(id int64, login, sha string) Review {
	r := commentApproval(id, login, sha)
	r.EditedAt = r.SubmittedAt.Add(time.Minute)
	return r
}

func writer(login string, teams ...string) Reviewer {
	return Reviewer{Login: login, Permission: config.PermissionWrite, Teams: teams, Type: "User"}
}

func reviewers(rs ...Reviewer) map[string]Reviewer {
	m := map[string]Reviewer{}
	for _, r := range rs {
		m[strings.ToLower(r.Login)] = r
	}
	return m
}

func files(paths ...string) []File {
	out := make([]File, len(paths))
	for i, p := range paths {
		out[i] = File{Path: p, Status: StatusModified, Additions: 1, Deletions: 1}
	}
	return out
}

// policy returns a policy with no presets and the given rules.
func policy(rules ...config.PathRule) *config.Policy {
	return &config.Policy{
		ProtectedPaths: config.ProtectedPaths{Presets: []string{}, Rules: rules},
		Source:         config.Source{Repo: "acme/web", Path: config.FileName, Ref: "main"},
	}
}

func sreRule() config.PathRule {
	return config.PathRule{Name: "infra", Paths: []string{"infra/**", "*.tf"}, Approvers: config.Approvers{Teams: []string{"acme/sre"}}}
}

func excl(v *Verdict) []string {
	out := []string{}
	for _, x := range v.Excluded {
		out = append(out, x.Login+":"+x.Reason)
	}
	return out
}

func reqByName(v *Verdict, name string) *Requirement {
	for i := range v.Requirements {
		if v.Requirements[i].Name == name {
			return &v.Requirements[i]
		}
	}
	return nil
}

type engineCase struct {
	name      string
	policy    *config.Policy
	facts     Facts
	want      Conclusion
	title     string   // exact title, when set
	titleHas  string   // substring of the title, when set
	excluded  []string // "login:reason" in order; nil means none
	satisfied map[string][]string
	check     func(t *testing.T, v *Verdict)
}

func TestEvaluate(t *testing.T) {
	copilot := func(reviews []Review, rv map[string]Reviewer) Facts {
		return Facts{Repo: "acme/web", PR: copilotPR(), Commits: []detect.Commit{claudeCommit("c1")},
			Files: files("web/login.go"), Reviews: reviews, Reviewers: rv}
	}
	// A human PR by carol whose commit Claude wrote.
	carolClaude := func(fs []File, reviews []Review, rv map[string]Reviewer) Facts {
		return Facts{Repo: "acme/web", PR: humanPR("carol"), Commits: []detect.Commit{claudeCommit("c1")}, Files: fs, Reviews: reviews, Reviewers: rv}
	}
	human := func(fs []File, reviews []Review, rv map[string]Reviewer) Facts {
		return Facts{Repo: "acme/web", PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")}, Files: fs, Reviews: reviews, Reviewers: rv}
	}
	dismissOff := policy()
	dismissOff.Review.DismissStale = ptr(false)
	commentsOn := policy()
	commentsOn.Commands.Approve = ptr(true)
	overridable := policy()
	overridable.Overrides = config.Overrides{Users: []string{"lead"}, Teams: []string{"acme/release"}}
	humanTwo := policy()
	humanTwo.Review.Human.Approvals = ptr(1)
	adminOnly := policy()
	adminOnly.Review.Agent.Approvers.Permission = config.PermissionMaintain
	usersOnly := policy()
	usersOnly.Review.Agent.Approvers.Users = []string{"@Alice"}

	cases := []engineCase{
		{
			name: "human change without protected paths needs nothing", policy: policy(),
			facts: human(files("web/a.go"), nil, nil), want: Success,
			title: "No approval needed: human change, no protected paths",
			check: func(t *testing.T, v *Verdict) {
				if v.AgentAuthored || len(v.Requirements) != 0 || v.Commits[0].Agent != nil {
					t.Errorf("human change judged agent-authored or given requirements: %+v", v)
				}
			},
		},
		{
			name: "dependabot PR without protected paths is named as automation, not a human change", policy: policy(),
			facts: Facts{
				PR: PullRequest{
					PullRequest: detect.PullRequest{Number: 9, AuthorLogin: "dependabot[bot]", AuthorType: "Bot", AuthorID: 49699333, HeadRef: "dependabot/go_modules/golang.org/x/net-0.38.0", Title: "Bump golang.org/x/net from 0.36.0 to 0.38.0"},
					HeadSHA:     head, BaseRef: "main", BaseSHA: oldHead,
				},
				Commits: []detect.Commit{{SHA: head, AuthorName: "dependabot[bot]", AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com",
					CommitterName: "GitHub", CommitterEmail: "noreply@github.com", Message: "Bump golang.org/x/net from 0.36.0 to 0.38.0\n\nSigned-off-by: dependabot[bot] <support@github.com>", Parents: 1}},
				Files: files("go.mod", "go.sum"),
			},
			want: Success, title: "No approval needed: automation (dependabot), no protected paths",
		},
		{
			name: "copilot PR without reviews needs an independent approval", policy: policy(),
			facts: copilot(nil, nil), want: ActionRequired,
			title: "Needs 1 independent approval: agent-authored by Claude Code and GitHub Copilot",
			check: func(t *testing.T, v *Verdict) {
				if !slices.Equal(v.Agents, []string{"claude-code", "copilot"}) {
					t.Errorf("agents = %v", v.Agents)
				}
				if v.Commits[0].Agent == nil || *v.Commits[0].Agent != "claude-code" || v.Commits[0].Subject != "Refactor the parser" {
					t.Errorf("commit verdict = %+v", v.Commits[0])
				}
			},
		},
		{
			name: "copilot PR approved at head succeeds", policy: policy(),
			facts: copilot([]Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  Success, title: "Approved by @alice",
			satisfied: map[string][]string{ReqAgentReview: {"alice"}},
		},
		{
			name: "bot approval does not count", policy: policy(),
			facts: copilot([]Review{
				{ID: 1, Login: "dependabot[bot]", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
				{ID: 2, Login: "helper", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
			}, reviewers(Reviewer{Login: "dependabot[bot]", Permission: "write", Type: "Bot"}, Reviewer{Login: "helper", Permission: "admin", Type: "Bot"})),
			want: ActionRequired, excluded: []string{"dependabot[bot]:bot", "helper:bot"},
		},
		{
			// Copilot code review can leave APPROVED reviews that GitHub counts
			// when an admin opts in (2026-09-01); AI reviewers are named as such.
			name: "AI reviewer approvals never count and are named AI review", policy: policy(),
			facts: copilot([]Review{
				{ID: 1, Login: "copilot-pull-request-reviewer[bot]", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
				{ID: 2, Login: "Copilot", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
				{ID: 3, Login: "chatgpt-codex-connector[bot]", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
				{ID: 4, Login: "gemini-code-assist[bot]", UserType: "Bot", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
				// Even if the reviewer facts wrongly say "User" with write permission.
				{ID: 5, Login: "coderabbitai[bot]", UserType: "User", State: ReviewApproved, CommitSHA: head, Source: SourceReview},
			}, reviewers(Reviewer{Login: "coderabbitai[bot]", Permission: "write", Type: "User"})),
			want: ActionRequired,
			excluded: []string{"copilot-pull-request-reviewer[bot]:ai_review", "Copilot:ai_review", "chatgpt-codex-connector[bot]:ai_review",
				"gemini-code-assist[bot]:ai_review", "coderabbitai[bot]:ai_review"},
			check: func(t *testing.T, v *Verdict) {
				for _, x := range v.Excluded {
					if !strings.HasPrefix(x.Detail, "AI review, not counted") {
						t.Errorf("exclusion of @%s says %q, want it to start with \"AI review, not counted\"", x.Login, x.Detail)
					}
				}
				if md := v.Markdown(); !strings.Contains(md, `AI review, not counted: @copilot-pull-request-reviewer\[bot\] is Copilot code review`) {
					t.Errorf("check text does not name the AI reviewer:\n%s", md)
				}
			},
		},
		{
			name: "PR author cannot approve their own PR", policy: policy(),
			facts: carolClaude(files("a.go"), []Review{review(1, "Carol", ReviewApproved, head)}, reviewers(writer("carol"))),
			want:  ActionRequired, excluded: []string{"Carol:pr_author"},
			check: func(t *testing.T, v *Verdict) {
				if len(v.Operators) != 1 || v.Operators[0].Login != "carol" {
					t.Errorf("the human who opened an agent-written PR is its operator; operators = %+v", v.Operators)
				}
			},
		},
		{
			name: "human commit author cannot approve", policy: policy(),
			facts: Facts{PR: copilotPR(), Commits: []detect.Commit{claudeCommit("c1"), humanCommit("c2", "erin")}, Files: files("a.go"),
				Reviews: []Review{review(1, "ERIN", ReviewApproved, head)}, Reviewers: reviews2(writer("erin"))},
			want: ActionRequired, excluded: []string{"ERIN:commit_author"},
		},
		{
			name: "operator approval is rejected", policy: policy(),
			facts: Facts{PR: copilotPR(), Commits: []detect.Commit{trailerCommit("c1", "dave")}, Files: files("a.go"),
				Reviews: []Review{review(1, "dave", ReviewApproved, head), review(2, "alice", ReviewApproved, head)}, Reviewers: reviewers(writer("dave"), writer("alice"))},
			want: Success, excluded: []string{"dave:operator"}, satisfied: map[string][]string{ReqAgentReview: {"alice"}},
		},
		{
			name: "operator known only by a noreply address is rejected by login", policy: policy(),
			facts: Facts{PR: copilotPR(), Commits: []detect.Commit{func() detect.Commit {
				c := trailerCommit("c1", "dave")
				c.AuthorLogin, c.CommitterLogin = "", ""
				c.AuthorEmail, c.CommitterEmail = "123+dave@users.noreply.github.com", "123+dave@users.noreply.github.com"
				return c
			}()}, Files: files("a.go"), Reviews: []Review{review(1, "Dave", ReviewApproved, head)}, Reviewers: reviewers(writer("dave"))},
			want: ActionRequired, excluded: []string{"Dave:operator"},
		},
		{
			name: "stale approval does not count when dismiss_stale is on (the default)", policy: policy(),
			facts: copilot([]Review{review(1, "alice", ReviewApproved, oldHead)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:stale"},
			check: func(t *testing.T, v *Verdict) {
				if d := v.Excluded[0].Detail; d != "approved 1a2b3c4, head is 5d6e7f8" {
					t.Errorf("detail = %q", d)
				}
			},
		},
		{
			name: "stale approval counts when dismiss_stale is off", policy: dismissOff,
			facts: copilot([]Review{review(1, "alice", ReviewApproved, oldHead)}, reviewers(writer("alice"))),
			want:  Success, title: "Approved by @alice",
		},
		{
			name: "permission below the minimum does not count", policy: policy(),
			facts: copilot([]Review{review(1, "rita", ReviewApproved, head)}, reviewers(Reviewer{Login: "rita", Permission: "read"})),
			want:  ActionRequired, excluded: []string{"rita:insufficient_permission"},
		},
		{
			name: "a raised minimum permission excludes writers", policy: adminOnly,
			facts: copilot([]Review{review(1, "alice", ReviewApproved, head), review(2, "mo", ReviewApproved, head)},
				reviewers(writer("alice"), Reviewer{Login: "mo", Permission: "maintain"})),
			want: Success, excluded: []string{"alice:insufficient_permission"}, satisfied: map[string][]string{ReqAgentReview: {"mo"}},
		},
		{
			name: "approvers restricted to users", policy: usersOnly,
			facts: copilot([]Review{review(1, "bob", ReviewApproved, head), review(2, "alice", ReviewApproved, head)}, reviewers(writer("bob"), writer("alice"))),
			want:  Success, excluded: []string{"bob:not_eligible"}, satisfied: map[string][]string{ReqAgentReview: {"alice"}},
		},
		{
			name: "unknown reviewer never counts", policy: policy(),
			facts: copilot([]Review{review(1, "ghost", ReviewApproved, head)}, nil),
			want:  ActionRequired, excluded: []string{"ghost:unknown_reviewer"},
		},
		{
			name: "a later changes-requested supersedes an approval and blocks", policy: policy(),
			facts: copilot([]Review{review(1, "bob", ReviewApproved, head), review(2, "bob", ReviewChangesRequested, head), review(3, "alice", ReviewApproved, head)},
				reviewers(writer("bob"), writer("alice"))),
			want: ActionRequired, title: "Changes requested by @bob", excluded: []string{"bob:superseded"},
			check: func(t *testing.T, v *Verdict) {
				if len(v.Blocking) != 1 || v.Blocking[0].ReviewID != 2 {
					t.Errorf("blocking = %+v", v.Blocking)
				}
			},
		},
		{
			name: "changes requested withdrawn by a later approval", policy: policy(),
			facts: copilot([]Review{review(1, "bob", ReviewChangesRequested, oldHead), review(2, "bob", ReviewCommented, head), review(3, "bob", ReviewApproved, head)},
				reviewers(writer("bob"))),
			want: Success, title: "Approved by @bob", excluded: []string{"bob:superseded"},
		},
		{
			name: "a dismissed changes request does not block", policy: policy(),
			facts: copilot([]Review{review(1, "bob", ReviewDismissed, head), review(2, "alice", ReviewApproved, head)}, reviewers(writer("bob"), writer("alice"))),
			want:  Success, excluded: []string{"bob:dismissed"},
		},
		{
			name: "a comment after an approval leaves it standing", policy: policy(),
			facts: copilot([]Review{review(1, "alice", ReviewApproved, head), review(2, "alice", ReviewCommented, head)}, reviewers(writer("alice"))),
			want:  Success,
		},
		{
			name: "changes requested by someone who could not approve does not block", policy: policy(),
			facts: copilot([]Review{review(1, "rita", ReviewChangesRequested, head)}, reviewers(Reviewer{Login: "rita", Permission: "triage"})),
			want:  ActionRequired, title: "Needs 1 independent approval: agent-authored by Claude Code and GitHub Copilot",
			excluded: []string{"rita:insufficient_permission"},
		},
		{
			name: "comment approvals are off by default", policy: policy(),
			facts: copilot([]Review{commentApproval(1, "alice", head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:comment_approvals_off"},
		},
		{
			name: "comment approvals count when on, with the same eligibility", policy: commentsOn,
			facts: copilot([]Review{commentApproval(1, "alice", head), commentApproval(2, "rita", head), commentApproval(3, "old", oldHead)},
				reviewers(writer("alice"), Reviewer{Login: "rita", Permission: "read"}, writer("old"))),
			want: Success, excluded: []string{"rita:insufficient_permission", "old:stale"}, satisfied: map[string][]string{ReqAgentReview: {"alice"}},
		},
		{
			name: "an edited comment approval is void", policy: commentsOn,
			facts: copilot([]Review{editedApproval(1, "alice", head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:edited"},
			title: "Needs 1 independent approval: agent-authored by Claude Code and GitHub Copilot",
		},
		{
			name: "an edited comment approval does not replace the reviewer's earlier review", policy: commentsOn,
			facts: copilot([]Review{review(1, "alice", ReviewApproved, head), editedApproval(2, "alice", head)}, reviewers(writer("alice"))),
			want:  Success, title: "Approved by @alice", excluded: []string{"alice:edited"},
		},
		{
			name: "an edited comment approval is void even when comment approvals are off", policy: policy(),
			facts: copilot([]Review{editedApproval(1, "alice", head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:edited"},
		},
		{
			name: "an edited override is not in force", policy: overridable,
			facts: func() Facts {
				f := copilot(nil, reviewers(writer("lead")))
				f.Overrides = []Override{{ID: 9, Login: "lead", UserType: "User", Reason: "prod is down", CommitSHA: head,
					EditedAt: time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)}}
				return f
			}(),
			want: ActionRequired, excluded: []string{"lead:edited"},
		},
		{
			name: "valid override", policy: overridable,
			facts: func() Facts {
				f := copilot(nil, reviewers(writer("lead")))
				f.Overrides = []Override{{ID: 9, Login: "lead", UserType: "User", Reason: "  prod is down  ", CommitSHA: head}}
				return f
			}(),
			want: Success, title: "Overridden by @lead: prod is down",
			check: func(t *testing.T, v *Verdict) {
				if v.Override == nil || v.Override.ID != 9 {
					t.Errorf("override = %+v", v.Override)
				}
			},
		},
		{
			name: "override by a member of an override team", policy: overridable,
			facts: func() Facts {
				f := copilot(nil, reviewers(writer("rel", "acme/release")))
				f.Overrides = []Override{{ID: 9, Login: "rel", UserType: "User", Reason: "release", CommitSHA: head}}
				return f
			}(),
			want: Success, title: "Overridden by @rel: release",
		},
		{
			name: "invalid overrides are excluded with their reasons", policy: overridable,
			facts: func() Facts {
				f := copilot(nil, reviewers(writer("lead"), writer("mallory")))
				f.Overrides = []Override{
					{ID: 1, Login: "lead", UserType: "User", Reason: "", CommitSHA: head},
					{ID: 2, Login: "mallory", UserType: "User", Reason: "trust me", CommitSHA: head},
					{ID: 3, Login: "lead", UserType: "User", Reason: "hotfix", CommitSHA: oldHead},
					{ID: 4, Login: "lead[bot]", UserType: "Bot", Reason: "auto", CommitSHA: head},
				}
				return f
			}(),
			want: ActionRequired, excluded: []string{"lead:override_without_reason", "mallory:override_not_allowed", "lead:stale", "lead[bot]:bot"},
		},
		{
			name: "override is not allowed when the policy names nobody", policy: policy(),
			facts: func() Facts {
				f := copilot(nil, reviewers(writer("lead")))
				f.Overrides = []Override{{ID: 1, Login: "lead", UserType: "User", Reason: "please", CommitSHA: head}}
				return f
			}(),
			want: ActionRequired, excluded: []string{"lead:override_not_allowed"},
		},
		{
			name: "incomplete facts fail closed", policy: policy(),
			facts: func() Facts {
				f := copilot([]Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice")))
				f.Incomplete = "listing reviews: 502 Bad Gateway"
				return f
			}(),
			want: Failure, title: "Could not evaluate: listing reviews: 502 Bad Gateway",
		},
		{
			name: "local mode reports what a merge would need", policy: policy(sreRule()),
			facts: func() Facts {
				f := copilot([]Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice", "acme/sre")))
				f.Files = files("infra/main.tf")
				f.Local = true
				return f
			}(),
			want: ActionRequired, titleHas: "Merge needs 1 independent approval",
			check: func(t *testing.T, v *Verdict) {
				if !v.Local || len(v.Requirements) != 2 || v.Requirements[1].Have != 0 || len(v.Excluded) != 0 {
					t.Errorf("local verdict counted reviews: %+v", v.Requirements)
				}
			},
		},
		{
			name: "local human change without protected paths passes", policy: policy(sreRule()),
			facts: Facts{PR: humanPR("carol"), Commits: []detect.Commit{humanCommit("c1", "carol")}, Files: files("web/a.go"), Local: true},
			want:  Success,
		},
		{
			name: "protected path needs the owning team", policy: policy(sreRule()),
			facts: carolClaude(files("infra/main.tf", "web/a.go"), []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  ActionRequired, title: "Needs 1 approval from @acme/sre: infra/main.tf changed by Claude Code",
			check: func(t *testing.T, v *Verdict) {
				if len(v.ProtectedFiles) != 1 || v.ProtectedFiles[0].Path != "infra/main.tf" || v.ProtectedFiles[0].Rule != "infra" {
					t.Errorf("protected files = %+v", v.ProtectedFiles)
				}
				if r := reqByName(v, ReqAgentReview); r == nil || !r.Met {
					t.Errorf("alice should satisfy the agent review: %+v", r)
				}
			},
		},
		{
			name: "one approver satisfies several requirements", policy: policy(sreRule()),
			facts: carolClaude(files("infra/main.tf", "modules/net.tf"), []Review{review(1, "sam", ReviewApproved, head)}, reviewers(writer("sam", "acme/sre"))),
			want:  Success, title: "Approved by @sam",
			satisfied: map[string][]string{ReqAgentReview: {"sam"}, "path:infra": {"sam"}},
		},
		{
			name: "approver outside the team is not eligible for the path rule", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Approvers: config.Approvers{Teams: []string{"acme/sre"}}}),
			facts: human(files("infra/main.tf"), []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice", "acme/web"))),
			want:  ActionRequired, excluded: []string{"alice:not_eligible"},
			title: "Needs 1 approval from @acme/sre: infra/main.tf changed",
		},
		{
			name: "path rule restricted to a user", policy: policy(config.PathRule{Name: "ci", Paths: []string{".github/workflows/**"}, Approvers: config.Approvers{Users: []string{"octo"}}}),
			facts: human(files(".github/workflows/ci.yml"), []Review{review(1, "Octo", ReviewApproved, head)}, reviewers(writer("octo"))),
			want:  Success, title: "Approved by @octo",
		},
		{
			name: "path rule with a permission minimum", policy: policy(config.PathRule{Name: "release", Paths: []string{"release/**"}, Approvers: config.Approvers{Permission: "admin"}}),
			facts: human(files("release/v1.txt"), []Review{review(1, "alice", ReviewApproved, head), review(2, "root", ReviewApproved, head)},
				reviewers(writer("alice"), Reviewer{Login: "root", Permission: "admin"})),
			want: Success, excluded: []string{"alice:insufficient_permission"}, satisfied: map[string][]string{"path:release": {"root"}},
		},
		{
			name: "applies_to agent leaves human changes alone", policy: policy(config.PathRule{Name: "deps", Paths: []string{"go.mod"}, AppliesTo: config.AppliesToAgent}),
			facts: human(files("go.mod"), nil, nil), want: Success, title: "No approval needed: human change, no protected paths",
		},
		{
			name: "applies_to agent catches agent changes", policy: policy(config.PathRule{Name: "deps", Paths: []string{"go.mod"}, AppliesTo: config.AppliesToAgent}),
			facts: carolClaude(files("go.mod"), nil, nil), want: ActionRequired,
			check: func(t *testing.T, v *Verdict) {
				if reqByName(v, "path:deps") == nil {
					t.Errorf("no deps requirement: %+v", v.Requirements)
				}
			},
		},
		{
			name: "applies_to all catches human changes", policy: policy(sreRule()),
			facts: human(files("infra/main.tf"), nil, nil), want: ActionRequired,
			title: "Needs 1 approval from @acme/sre: infra/main.tf changed",
		},
		{
			name: "rename out of a protected path counts as a deletion", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, DeletionApprovals: ptr(1)}),
			facts: human([]File{{Path: "attic/main.tf", PreviousPath: "infra/main.tf", Status: StatusRenamed}}, []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  ActionRequired, titleHas: "Needs 1 more independent approval: attic/main.tf renamed out of infra",
			check: func(t *testing.T, v *Verdict) {
				if len(v.ProtectedFiles) != 1 || !v.ProtectedFiles[0].Deleted {
					t.Errorf("rename out not marked deleted: %+v", v.ProtectedFiles)
				}
				if r := reqByName(v, "path:infra"); r == nil || r.Needed != 2 || r.Have != 1 {
					t.Errorf("requirement = %+v", r)
				}
			},
		},
		{
			name: "rename into a protected path matches without deletion", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, DeletionApprovals: ptr(1)}),
			facts: human([]File{{Path: "infra/main.tf", PreviousPath: "attic/main.tf", Status: StatusRenamed}}, nil, nil),
			want:  ActionRequired,
			check: func(t *testing.T, v *Verdict) {
				if r := reqByName(v, "path:infra"); r == nil || r.Needed != 1 || v.ProtectedFiles[0].Deleted {
					t.Errorf("requirement = %+v files = %+v", r, v.ProtectedFiles)
				}
			},
		},
		{
			name: "deleting a protected file needs the extra approvals", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, DeletionApprovals: ptr(2)}),
			facts: human([]File{{Path: "infra/old.tf", Status: StatusRemoved}, {Path: "infra/new.tf", Status: StatusAdded}},
				[]Review{review(1, "a1", ReviewApproved, head), review(2, "a2", ReviewApproved, head), review(3, "a3", ReviewApproved, head)},
				reviewers(writer("a1"), writer("a2"), writer("a3"))),
			want: Success, satisfied: map[string][]string{"path:infra": {"a1", "a2", "a3"}},
			check: func(t *testing.T, v *Verdict) {
				if r := reqByName(v, "path:infra"); r.Needed != 3 {
					t.Errorf("needed = %d, want 1 + 2 for the deletion", r.Needed)
				}
			},
		},
		{
			name: "ignore globs leave files unprotected", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Ignore: []string{"infra/docs/**"}}),
			facts: human(files("infra/docs/readme.md"), nil, nil), want: Success,
		},
		{
			name: "human review required by policy", policy: humanTwo,
			facts: human(files("a.go"), nil, nil), want: ActionRequired, title: "Needs 1 independent approval: policy asks every change for review",
		},
		{
			name: "code owners: each matched file needs one of its owners", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Approvers: config.Approvers{CodeOwners: true}}),
			facts: func() Facts {
				f := human(files("infra/net/a.tf", "infra/db/b.tf"), []Review{review(1, "nina", ReviewApproved, head), review(2, "alice", ReviewApproved, head)},
					reviewers(writer("nina", "acme/net"), writer("alice")))
				f.CodeOwners = mustOwners(t, "/infra/net/ @acme/net\n/infra/db/ @dbadmin\n")
				return f
			}(),
			want: ActionRequired, titleHas: "Needs approval from code owners of infra/db/b.tf", excluded: []string{"alice:not_eligible"},
			check: func(t *testing.T, v *Verdict) {
				r := reqByName(v, "path:infra")
				if r.Have != 1 || !slices.Equal(r.Uncovered, []string{"infra/db/b.tf"}) || !slices.Equal(r.Eligible.CodeOwners, []string{"@acme/net", "@dbadmin"}) {
					t.Errorf("requirement = %+v", r)
				}
			},
		},
		{
			name: "code owners: all owners approved", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Approvers: config.Approvers{CodeOwners: true}}),
			facts: func() Facts {
				f := human(files("infra/net/a.tf", "infra/db/b.tf"), []Review{review(1, "nina", ReviewApproved, head), review(2, "DBAdmin", ReviewApproved, head)},
					reviewers(writer("nina", "acme/net"), writer("dbadmin")))
				f.CodeOwners = mustOwners(t, "/infra/net/ @acme/net\n/infra/db/ @dbadmin\n")
				return f
			}(),
			want: Success,
		},
		{
			name: "code owners: no owner at all cannot be satisfied", policy: policy(config.PathRule{Name: "infra", Paths: []string{"infra/**"}, Approvers: config.Approvers{CodeOwners: true}}),
			facts: human(files("infra/a.tf"), []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice"))),
			want:  ActionRequired, excluded: []string{"alice:not_eligible"},
		},
		{
			name: "a human-opened PR whose body an agent wrote makes its opener the operator", policy: policy(),
			facts: func() Facts {
				f := human(files("a.go"), []Review{review(1, "alice", ReviewApproved, head)}, reviewers(writer("alice")))
				f.PR.Body = "Adds retries.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"
				f.Commits = []detect.Commit{humanCommit("c1", "erin")}
				return f
			}(),
			want: Success, title: "Approved by @alice",
			check: func(t *testing.T, v *Verdict) {
				if !v.AgentAuthored || v.Commits[0].Agent != nil || len(v.Operators) != 1 || v.Operators[0].Login != "carol" {
					t.Errorf("agent %v, commit %+v, operators %+v", v.AgentAuthored, v.Commits[0], v.Operators)
				}
			},
		},
		{
			name: "code owners on the agent review cover the whole change", policy: func() *config.Policy {
				p := policy()
				p.Review.Agent.Approvers.CodeOwners = true
				return p
			}(),
			facts: func() Facts {
				f := copilot([]Review{review(1, "webby", ReviewApproved, head), review(2, "alice", ReviewApproved, head)},
					reviewers(writer("webby", "acme/web"), writer("alice")))
				f.CodeOwners = mustOwners(t, "*.go @acme/web\n")
				f.CodeOwnersBlob = "0123456789abcdef0123456789abcdef01234567"
				return f
			}(),
			want: Success, excluded: []string{"alice:not_eligible"}, satisfied: map[string][]string{ReqAgentReview: {"webby"}},
			check: func(t *testing.T, v *Verdict) {
				if v.CodeOwners != "0123456789abcdef0123456789abcdef01234567" {
					t.Errorf("the verdict does not say which CODEOWNERS it read: %q", v.CodeOwners)
				}
			},
		},
		{
			name: "code owners used, but which CODEOWNERS file was read is not known", policy: func() *config.Policy {
				p := policy()
				p.Review.Agent.Approvers.CodeOwners = true
				return p
			}(),
			facts: func() Facts {
				f := copilot([]Review{review(1, "webby", ReviewApproved, head)}, reviewers(writer("webby", "acme/web")))
				f.CodeOwners = mustOwners(t, "*.go @acme/web\n")
				return f
			}(),
			want: Success, satisfied: map[string][]string{ReqAgentReview: {"webby"}},
			check: func(t *testing.T, v *Verdict) {
				if v.CodeOwners != UnknownCodeOwners {
					t.Errorf("CodeOwners = %q, want %q (a sweep then judges it again)", v.CodeOwners, UnknownCodeOwners)
				}
			},
		},
		{
			name: "automation commits are neither agents nor commit authors", policy: policy(),
			facts: Facts{PR: humanPR("carol"), Commits: []detect.Commit{{SHA: "d1", AuthorName: "dependabot[bot]", AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com", Message: "Bump x"}},
				Files: files("go.mod")},
			want: Success,
			check: func(t *testing.T, v *Verdict) {
				if v.AgentAuthored || v.Commits[0].Automation != "dependabot" {
					t.Errorf("commit = %+v", v.Commits[0])
				}
				if v.CodeOwners != "" {
					t.Errorf("a policy without code owners records CODEOWNERS %q", v.CodeOwners)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.facts
			if f.Repo == "" {
				f.Repo = "acme/web"
			}
			v := Evaluate(tc.policy, &f)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s, want %s (title %q, excluded %v)", v.Conclusion, tc.want, v.Title, excl(v))
			}
			if tc.title != "" && v.Title != tc.title {
				t.Errorf("title = %q, want %q", v.Title, tc.title)
			}
			if tc.titleHas != "" && !strings.Contains(v.Title, tc.titleHas) {
				t.Errorf("title = %q, want it to contain %q", v.Title, tc.titleHas)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); !slices.Equal(got, want) {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for name, by := range tc.satisfied {
				r := reqByName(v, name)
				if r == nil {
					t.Errorf("no requirement %s in %+v", name, v.Requirements)
					continue
				}
				if !slices.Equal(r.SatisfiedBy, by) {
					t.Errorf("%s satisfied by %v, want %v", name, r.SatisfiedBy, by)
				}
			}
			for _, x := range v.Excluded {
				if x.Detail == "" {
					t.Errorf("exclusion %+v has no detail", x)
				}
			}
			if utf8.RuneCountInString(v.Title) > MaxTitleRunes || strings.ContainsAny(v.Title, "\r\n") {
				t.Errorf("title is not one short line: %q", v.Title)
			}
			if tc.check != nil {
				tc.check(t, v)
			}
			// Pure and deterministic: the same input gives the same verdict.
			a, _ := v.JSON()
			b, _ := Evaluate(tc.policy, &f).JSON()
			if string(a) != string(b) {
				t.Errorf("second evaluation differs")
			}
		})
	}
}

func reviews2(rs ...Reviewer) map[string]Reviewer { return reviewers(rs...) }

func mustOwners(t *testing.T, text string) codeowners.Ruleset {
	t.Helper()
	rs, err := codeowners.ParseFile(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestEvaluateFailsClosed(t *testing.T) {
	f := &Facts{Repo: "acme/web", PR: copilotPR(), Reviews: []Review{review(1, "alice", ReviewApproved, head)}, Reviewers: reviewers(writer("alice"))}
	if v := Evaluate(nil, f); v.Conclusion != Failure {
		t.Errorf("nil policy: %s", v.Conclusion)
	}
	if v := Evaluate(policy(), nil); v.Conclusion != Failure {
		t.Errorf("nil facts: %s", v.Conclusion)
	}
	noHead := *f
	noHead.PR.HeadSHA = ""
	if v := Evaluate(policy(), &noHead); v.Conclusion != Failure {
		t.Errorf("unknown head: %s", v.Conclusion)
	}
}

func TestInvalid(t *testing.T) {
	err := errors.Join(
		errors.New(".github/countersign.yml:4:3: review.agent.approvals: must be a number, not \"one\""),
		errors.New(".github/countersign.yml:9:5: protected_paths.rules[0]: name is required"),
	)
	src := config.Source{Repo: "acme/web", Path: config.FileName, Ref: "main"}
	v := Invalid(err, src, &Facts{Repo: "acme/web", PR: copilotPR()})
	if v.Conclusion != Failure {
		t.Errorf("conclusion = %s", v.Conclusion)
	}
	if want := `Invalid policy: .github/countersign.yml:4:3: review.agent.approvals: must be a number, not "one" (and 1 more error)`; v.Title != want {
		t.Errorf("title = %q, want %q", v.Title, want)
	}
	if len(v.Errors) != 2 || !strings.HasPrefix(v.Errors[1], ".github/countersign.yml:9:5") {
		t.Errorf("errors = %q", v.Errors)
	}
	if v.Policy != src || v.HeadSHA != head || v.Number != 7 {
		t.Errorf("verdict does not identify what was judged: %+v", v)
	}
	if md := v.Markdown(); !strings.Contains(md, "9:5") {
		t.Errorf("markdown lacks the second error:\n%s", md)
	}
}

func TestTitleIsClipped(t *testing.T) {
	p := policy()
	p.Overrides.Users = []string{"lead"}
	f := &Facts{PR: copilotPR(), Reviewers: reviewers(writer("lead")),
		Overrides: []Override{{ID: 1, Login: "lead", UserType: "User", Reason: strings.Repeat("é", 3000) + "\nsecond line", CommitSHA: head}}}
	v := Evaluate(p, f)
	if n := utf8.RuneCountInString(v.Title); n != MaxTitleRunes || !strings.HasSuffix(v.Title, "…") {
		t.Errorf("title has %d runes", n)
	}
}

func TestLoginFromEmail(t *testing.T) {
	for in, want := range map[string]string{
		"123+dave@users.noreply.github.com": "dave",
		"dave@users.noreply.github.com":     "dave",
		"dave@USERS.NOREPLY.GITHUB.COM":     "dave",
		"dave@example.com":                  "",
		"noreply@anthropic.com":             "",
		"@users.noreply.github.com":         "",
	} {
		if got := LoginFromEmail(in); got != want {
			t.Errorf("LoginFromEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEvaluateParsedPolicy(t *testing.T) {
	p, err := config.Parse(config.FileName, []byte(`
review:
  agent:
    approvals: 2
    approvers:
      teams: [acme/maintainers]
protected_paths:
  presets: []
  rules:
    - name: infra
      paths: ["infra/**"]
      approvers:
        teams: [acme/sre]
commands:
  approve: true
`))
	if err != nil {
		t.Fatal(err)
	}
	f := &Facts{Repo: "acme/web", PR: copilotPR(), Files: files("infra/main.tf"),
		Reviews:   []Review{review(1, "max", ReviewApproved, head), commentApproval(2, "sam", head)},
		Reviewers: reviewers(writer("max", "acme/maintainers"), writer("sam", "acme/sre", "acme/maintainers"))}
	v := Evaluate(p, f)
	if v.Conclusion != Success || v.Title != "Approved by @max and @sam" {
		t.Errorf("verdict %s %q: %+v", v.Conclusion, v.Title, v.Requirements)
	}
	f.Reviews = f.Reviews[:1]
	v = Evaluate(p, f)
	if want := "Needs 1 more approval from @acme/maintainers: agent-authored by GitHub Copilot; needs 1 approval from @acme/sre: infra/main.tf changed, in a change agent-authored by GitHub Copilot"; v.Title != want {
		t.Errorf("title = %q, want %q", v.Title, want)
	}
}

func TestEvaluateBadCustomAgentFailsClosed(t *testing.T) {
	p := policy()
	p.Agents.Custom = []config.AgentDef{{ID: "acme-agent", Trailers: []string{"(unclosed"}}}
	if _, err := Compile(p); err == nil {
		t.Fatal("fixture: the detector should reject an invalid trailer pattern")
	}
	v := Evaluate(p, &Facts{PR: copilotPR()})
	if v.Conclusion != Failure || !strings.HasPrefix(v.Title, "Could not evaluate: agent detection is unavailable") {
		t.Errorf("a policy whose detector cannot be built must fail, got %s %q", v.Conclusion, v.Title)
	}
}

// TestCommittersAndOverridersAreNotIndependent: the committer of a human
// commit (Bob amending Alice's commit) and the PR's author, operators and
// commit authors overriding their own pull request do not count.
func TestCommittersAndOverridersAreNotIndependent(t *testing.T) {
	amended := func(committerLogin, committerEmail string) detect.Commit {
		c := humanCommit("c1", "alice")
		c.CommitterName, c.CommitterLogin, c.CommitterEmail = "Committer", committerLogin, committerEmail
		return c
	}
	infra := policy(sreRule())
	overridable := policy()
	overridable.Overrides = config.Overrides{Users: []string{"carol", "alice", "bob", "lead"}, Teams: []string{"acme/release"}}
	copilotWith := func(commits []detect.Commit, o Override) Facts {
		return Facts{Repo: "acme/web", PR: copilotPR(), Commits: commits, Files: files("web/a.go"),
			Reviewers: reviewers(writer("carol"), writer("alice"), writer("bob"), writer("lead"), writer("rel", "acme/release")),
			Overrides: []Override{o}}
	}
	ov := func(login string) Override {
		return Override{ID: 5, Login: login, UserType: "User", Reason: "hotfix", CommitSHA: head}
	}
	cases := []struct {
		name     string
		policy   *config.Policy
		facts    Facts
		want     Conclusion
		excluded []string
	}{
		{
			name: "the committer of an amended human commit cannot approve it", policy: infra,
			facts: Facts{Repo: "acme/web", PR: humanPR("alice"), Commits: []detect.Commit{amended("bob", "bob@example.com")},
				Files: files("infra/main.tf"), Reviews: []Review{review(1, "bob", ReviewApproved, head)}, Reviewers: reviewers(writer("bob", "acme/sre"))},
			want: ActionRequired, excluded: []string{"bob:commit_author"},
		},
		{
			name: "a committer known only by a noreply email is excluded", policy: infra,
			facts: Facts{Repo: "acme/web", PR: humanPR("alice"), Commits: []detect.Commit{amended("", "123+bob@users.noreply.github.com")},
				Files: files("infra/main.tf"), Reviews: []Review{review(1, "bob", ReviewApproved, head)}, Reviewers: reviewers(writer("bob", "acme/sre"))},
			want: ActionRequired, excluded: []string{"bob:commit_author"},
		},
		{
			name: "a commit under a bot's address still excludes the human who committed it", policy: infra,
			facts: Facts{Repo: "acme/web", PR: humanPR("alice"), Commits: []detect.Commit{{SHA: "c1",
				AuthorName: "dependabot[bot]", AuthorEmail: "49699333+dependabot[bot]@users.noreply.github.com",
				CommitterName: "Bob", CommitterEmail: "bob@example.com", CommitterLogin: "bob",
				Message: "Bump x from 1 to 2", Parents: 1}},
				Files: files("infra/main.tf"), Reviews: []Review{review(1, "bob", ReviewApproved, head)}, Reviewers: reviewers(writer("bob", "acme/sre"))},
			want: ActionRequired, excluded: []string{"bob:commit_author"},
		},
		{
			name: "GitHub's web-flow committer excludes nobody", policy: infra,
			facts: Facts{Repo: "acme/web", PR: humanPR("alice"), Commits: []detect.Commit{amended("web-flow", "noreply@github.com")},
				Files: files("infra/main.tf"), Reviews: []Review{review(1, "bob", ReviewApproved, head)}, Reviewers: reviewers(writer("bob", "acme/sre"))},
			want: Success,
		},
		{
			name: "the PR author cannot override", policy: overridable,
			facts: func() Facts {
				f := copilotWith([]detect.Commit{claudeCommit("c1")}, ov("carol"))
				f.PR = humanPR("carol")
				return f
			}(),
			want: ActionRequired, excluded: []string{"carol:pr_author"},
		},
		{
			name: "an operator cannot override", policy: overridable,
			facts: copilotWith([]detect.Commit{trailerCommit("c1", "alice")}, ov("alice")),
			want:  ActionRequired, excluded: []string{"alice:operator"},
		},
		{
			name: "a commit author cannot override", policy: overridable,
			facts: copilotWith([]detect.Commit{claudeCommit("c1"), humanCommit("c2", "bob")}, ov("bob")),
			want:  ActionRequired, excluded: []string{"bob:commit_author"},
		},
		{
			name: "an independent override by user counts", policy: overridable,
			facts: copilotWith([]detect.Commit{claudeCommit("c1")}, ov("lead")),
			want:  Success,
		},
		{
			name: "an independent override by team member counts", policy: overridable,
			facts: copilotWith([]detect.Commit{claudeCommit("c1")}, ov("rel")),
			want:  Success,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.policy, &tc.facts)
			if v.Conclusion != tc.want {
				t.Errorf("conclusion = %s (%s), want %s", v.Conclusion, v.Title, tc.want)
			}
			want := tc.excluded
			if want == nil {
				want = []string{}
			}
			if got := excl(v); !slices.Equal(got, want) {
				t.Errorf("excluded = %v, want %v", got, want)
			}
			for _, x := range v.Excluded {
				if x.Source == SourceOverride && !strings.Contains(x.Detail, "cannot override") {
					t.Errorf("override exclusion detail %q does not say why", x.Detail)
				}
			}
		})
	}
}
