package githubsim

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

// TestMergeMethods: each merge method lands the pull request's change on the
// base branch in GitHub's commit shape, marks it merged, and
// commits/{sha}/pulls lists it for every commit the merge introduced.
func TestMergeMethods(t *testing.T) {
	for _, method := range []string{MergeMethodMerge, MergeMethodSquash, MergeMethodRebase} {
		t.Run(method, func(t *testing.T) {
			f := setup(t, Options{})
			before := f.sim.Head("acme/widgets", "main")
			c1 := f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "one\n\nCo-Authored-By: Claude <noreply@anthropic.com>", Files: map[string]string{"x.txt": "1\n"}})
			c2 := f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "two", Files: map[string]string{"y.txt": "2\n"}, Delete: []string{"c.txt"}})
			// The base moves on after the branch was cut: the merge keeps both.
			f.sim.Push("acme/widgets", "main", CommitSpec{Author: Identity{Login: "bob"}, Message: "base", Files: map[string]string{"z.txt": "3\n"}})
			n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "Add x and y"})
			after := f.sim.MergePR("acme/widgets", n, "carol", method)

			pr := f.sim.PR("acme/widgets", n)
			if !pr.GetMerged() || pr.GetState() != "closed" || pr.GetMergeCommitSHA() != after || pr.GetMergedBy().GetLogin() != "carol" {
				t.Fatalf("merged %v state %s merge_commit_sha %s merged_by %s; want merged, closed, %s, carol", pr.GetMerged(), pr.GetState(), pr.GetMergeCommitSHA(), pr.GetMergedBy().GetLogin(), after)
			}
			cmp, _, err := f.client.Repositories.CompareCommits(ctx(t), "acme", "widgets", before, after, nil)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]string{}
			for _, cf := range cmp.Files {
				files[cf.GetFilename()] = cf.GetStatus()
			}
			if files["x.txt"] != "added" || files["y.txt"] != "added" || files["z.txt"] != "added" || files["c.txt"] != "removed" {
				t.Fatalf("files landed: %v", files)
			}
			want := map[string]int{MergeMethodMerge: 4, MergeMethodSquash: 2, MergeMethodRebase: 3}[method]
			if len(cmp.Commits) != want {
				t.Fatalf("%d commits landed, want %d", len(cmp.Commits), want)
			}
			head := cmp.Commits[len(cmp.Commits)-1]
			switch method {
			case MergeMethodMerge:
				if len(head.Parents) != 2 || head.Parents[1].GetSHA() != c2 {
					t.Fatalf("merge commit parents %v", head.Parents)
				}
			case MergeMethodSquash:
				msg := head.GetCommit().GetMessage()
				if !strings.HasPrefix(msg, "Add x and y (#1)") || !strings.Contains(msg, "Co-Authored-By: Claude") || head.GetCommit().GetAuthor().GetName() != "alice" {
					t.Fatalf("squash commit by %s: %q", head.GetCommit().GetAuthor().GetName(), msg)
				}
			case MergeMethodRebase:
				if strings.TrimSpace(head.GetCommit().GetMessage()) != "two" || head.GetCommit().GetAuthor().GetEmail() != "alice@users.noreply.github.com" || head.GetCommit().GetCommitter().GetName() != "GitHub" {
					t.Fatalf("rebased commit %+v", head.GetCommit())
				}
			}
			for _, c := range append([]*github.RepositoryCommit{}, cmp.Commits...) {
				if strings.HasPrefix(c.GetCommit().GetMessage(), "base") {
					continue
				}
				prs, _, err := f.client.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", c.GetSHA(), nil)
				if err != nil || len(prs) != 1 || prs[0].GetNumber() != n {
					t.Errorf("commit %.7s: %d pull requests (%v), want #%d", c.GetSHA(), len(prs), err, n)
				}
			}
			// The merged pull request still lists the commits it merged.
			own, _, err := f.client.PullRequests.ListCommits(ctx(t), "acme", "widgets", n, nil)
			if err != nil || len(own) != 2 || own[0].GetSHA() != c1 || own[1].GetSHA() != c2 {
				t.Errorf("the merged pull request lists %d commits (%v), want its two", len(own), err)
			}
			for _, sha := range []string{c1, c2} {
				prs, _, err := f.client.PullRequests.ListPullRequestsWithCommit(ctx(t), "acme", "widgets", sha, nil)
				if err != nil || len(prs) != 1 {
					t.Errorf("the pull request's own commit %.7s: %d pull requests, %v", sha, len(prs), err)
				}
			}
		})
	}
}

// TestMergeAndPushEvents: a merge's push names the merger as pusher and
// sender, and PushBy names the pusher rather than the author.
func TestMergeAndPushEvents(t *testing.T) {
	f := setup(t, Options{})
	hs := httptest.NewServer(nil)
	defer hs.Close()
	var got []github.PushEvent
	f.sim.SetWebhook(hs.URL, "")
	f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "x", Files: map[string]string{"x": "1\n"}})
	n := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t"})
	f.sim.MergePR("acme/widgets", n, "root", MergeMethodSquash)
	f.sim.PushBy("acme/widgets", "main", "root", CommitSpec{Author: Identity{Login: "alice"}, Message: "direct", Files: map[string]string{"d": "1\n"}})
	if err := f.sim.WaitDeliveries(ctx(t)); err != nil {
		t.Fatal(err)
	}
	closed := false
	for _, d := range f.sim.Deliveries() {
		switch {
		case d.Event == "push":
			ev, err := github.ParseWebHook("push", d.Body)
			if err != nil {
				t.Fatal(err)
			}
			if e := ev.(*github.PushEvent); e.GetRef() == "refs/heads/main" {
				got = append(got, *e)
			}
		case d.Event == "pull_request" && d.Action == "closed":
			ev, _ := github.ParseWebHook("pull_request", d.Body)
			closed = ev.(*github.PullRequestEvent).GetPullRequest().GetMerged()
		}
	}
	if len(got) != 2 || !closed {
		t.Fatalf("%d pushes to main, closed-merged %v", len(got), closed)
	}
	for _, e := range got {
		if e.GetPusher().GetName() != "root" || e.GetSender().GetLogin() != "root" {
			t.Errorf("push %.7s: pusher %s sender %s, want root", e.GetAfter(), e.GetPusher().GetName(), e.GetSender().GetLogin())
		}
	}
	if a := got[1].GetHeadCommit().GetAuthor().GetLogin(); a != "alice" {
		t.Errorf("direct push's head commit author %q, want alice", a)
	}
}

// TestIssuesWithLabels: the app opens labelled issues; the listing filters by
// label and state and also lists pull requests, as GitHub's does.
func TestIssuesWithLabels(t *testing.T) {
	f := setup(t, Options{})
	f.sim.Push("acme/widgets", "feature", CommitSpec{Author: Identity{Login: "alice"}, Message: "x", Files: map[string]string{"x": "1\n"}})
	pr := f.sim.OpenPR("acme/widgets", PRSpec{Author: "alice", Head: "feature", Title: "t", Labels: []string{"bug"}})
	is, _, err := f.client.Issues.Create(ctx(t), "acme", "widgets", &github.IssueRequest{Title: github.String("alarm"), Labels: &[]string{"countersign:bypass"}})
	if err != nil || is.GetNumber() != pr+1 || is.GetUser().GetLogin() != "countersign[bot]" {
		t.Fatalf("created #%d by %s, %v; want #%d by the app", is.GetNumber(), is.GetUser().GetLogin(), err, pr+1)
	}
	if _, _, err := f.client.Issues.Create(ctx(t), "acme", "widgets", &github.IssueRequest{}); err == nil {
		t.Fatal("an issue without a title was accepted")
	}
	list, _, err := f.client.Issues.ListByRepo(ctx(t), "acme", "widgets", &github.IssueListByRepoOptions{Labels: []string{"countersign:bypass"}, State: "all"})
	if err != nil || len(list) != 1 || list[0].GetTitle() != "alarm" || list[0].Labels[0].GetName() != "countersign:bypass" {
		t.Fatalf("labelled listing: %d, %v", len(list), err)
	}
	all, _, _ := f.client.Issues.ListByRepo(ctx(t), "acme", "widgets", nil)
	if len(all) != 2 || !all[1].IsPullRequest() {
		t.Fatalf("open listing has %d items; want the issue and the pull request", len(all))
	}
	if got := f.sim.Issues("acme/widgets"); len(got) != 1 {
		t.Fatalf("Issues: %d", len(got))
	}
}

// TestDeploymentCallback: the callback takes one answer per run and
// environment, and refuses a bad state.
func TestDeploymentCallback(t *testing.T) {
	f := setup(t, Options{})
	run := f.sim.RequestDeployment("acme/widgets", "production", "main", "alice")
	post := func(body map[string]string) error {
		req, err := f.client.NewRequest("POST", f.base+"repos/acme/widgets/actions/runs/"+strconv.FormatInt(run, 10)+"/deployment_protection_rule", body)
		if err != nil {
			return err
		}
		_, err = f.client.Do(context.Background(), req, nil)
		return err
	}
	if err := post(map[string]string{"environment_name": "production", "state": "maybe"}); err == nil {
		t.Fatal("state maybe accepted")
	}
	if err := post(map[string]string{"environment_name": "staging", "state": "approved"}); err == nil {
		t.Fatal("an environment with nothing waiting accepted")
	}
	if err := post(map[string]string{"environment_name": "production", "state": "rejected", "comment": "no"}); err != nil {
		t.Fatal(err)
	}
	if err := post(map[string]string{"environment_name": "production", "state": "approved"}); err == nil {
		t.Fatal("a second answer accepted")
	}
	rv := f.sim.DeploymentReviews("acme/widgets")
	if len(rv) != 1 || rv[0].State != "rejected" || rv[0].Comment != "no" || rv[0].SHA != f.sim.Head("acme/widgets", "main") {
		t.Fatalf("reviews %+v", rv)
	}
}
