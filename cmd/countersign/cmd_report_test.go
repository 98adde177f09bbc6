package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/report"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
	"github.com/google/go-github/v62/github"
)

type reportClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reportClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *reportClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestReportReadsLandingRecords: report lists each landed change from the
// countersign/landing records the app wrote, with totals, in each format,
// within --since/--until, through the app's credentials or GITHUB_TOKEN.
func TestReportReadsLandingRecords(t *testing.T) {
	// Commits are dated by the simulator's clock, set back for each push; the
	// app's tokens need it at the present.
	now := time.Now().UTC()
	day1, day2 := now.AddDate(0, 0, -20), now.AddDate(0, 0, -10)
	clk := &reportClock{t: now}
	sim := githubsim.New(githubsim.Options{Now: clk.Now})
	t.Cleanup(sim.Close)
	base := sim.Start()
	sim.AddOrg("acme")
	sim.AddRepo("acme/infra", map[string]string{"README.md": "x\n", "infra/main.tf": "a\n"})
	inst := sim.Install("acme", "acme/infra")
	app, err := ghapp.New(ghapp.Options{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), BaseURL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Client(inst)
	if err != nil {
		t.Fatal(err)
	}
	policy := config.Default()
	record := func(before, sha string, c detect.Commit, files []checks.File) {
		c.SHA = sha
		l := checks.Account(policy, &checks.Push{Repo: "acme/infra", Branch: "main", Before: before, After: sha, Pusher: "root", Sender: "root",
			Commits: []checks.LandedCommit{{Commit: c, Files: files}}})
		text, err := l.Text()
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = client.Checks.CreateCheckRun(context.Background(), "acme", "infra", github.CreateCheckRunOptions{
			Name: checks.LandingCheckName, HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String(string(l.Conclusion)),
			Output: &github.CheckRunOutput{Title: github.String(l.Title), Summary: github.String(l.Markdown()), Text: github.String(text)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	first := sim.Head("acme/infra", "main")
	dave := githubsim.Identity{Name: "Dave", Email: "dave@acme.test", Login: "dave"}
	clk.Set(day1)
	docs := sim.Push("acme/infra", "main", githubsim.CommitSpec{Author: dave, Message: "Docs", Files: map[string]string{"README.md": "y\n"}})
	clk.Set(now)
	record(first, docs, detect.Commit{AuthorName: "Dave", AuthorEmail: "dave@acme.test", AuthorLogin: "dave", Message: "Docs\n", Parents: 1},
		[]checks.File{{Path: "README.md", Status: checks.StatusModified}})
	clk.Set(day2)
	alice := githubsim.Identity{Name: "Alice", Email: "alice@acme.test", Login: "alice"}
	msg := "Bucket\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
	agent := sim.Push("acme/infra", "main", githubsim.CommitSpec{Author: alice, Message: msg, Files: map[string]string{"infra/main.tf": "b\n"}})
	clk.Set(now)
	record(docs, agent, detect.Commit{AuthorName: "Alice", AuthorEmail: "alice@acme.test", AuthorLogin: "alice", Message: msg, Parents: 1},
		[]checks.File{{Path: "infra/main.tf", Status: checks.StatusModified}})

	appEnv := map[string]string{"COUNTERSIGN_APP_ID": "1", "COUNTERSIGN_PRIVATE_KEY": string(sim.PrivateKeyPEM()), "COUNTERSIGN_GITHUB_URL": base}
	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := reportCmd(context.Background(), args, func(k string) string { return env[k] }, streams{out: &out, err: &errb})
		return code, out.String(), errb.String()
	}

	code, out, errs := run(appEnv, "--repo", "acme/infra", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Commit != agent || rep.Rows[0].Verdict != report.VerdictUnsigned || rep.Rows[0].Agents[0] != "Claude Code" ||
		rep.Rows[1].Commit != docs || rep.Rows[1].Verdict != report.VerdictNothingNeeded || rep.Records != 2 || rep.Commits != 3 {
		t.Fatalf("report %+v", rep)
	}
	if rep.ByVerdict[report.VerdictUnsigned] != 1 || rep.ByAgent["Claude Code"] != 1 || rep.ByAgent["human"] != 1 {
		t.Fatalf("totals %v %v", rep.ByAgent, rep.ByVerdict)
	}

	code, out, _ = run(appEnv, "--repo", "acme/infra", "--since", now.AddDate(0, 0, -15).Format(time.DateOnly), "--format", "csv")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 || !strings.HasPrefix(lines[0], "repo,branch,commit,date") || !strings.Contains(lines[1], agent) {
		t.Fatalf("csv since: exit %d\n%s", code, out)
	}
	code, out, _ = run(appEnv, "--repo", "acme/infra", "--until", now.AddDate(0, 0, -15).Format(time.DateOnly))
	if code != exitOK || !strings.Contains(out, docs[:7]) || strings.Contains(out, agent[:7]) || !contains(out, "**By agent**", "| no approval needed | 1 |") {
		t.Fatalf("markdown until: exit %d\n%s", code, out)
	}
	code, out, _ = run(appEnv, "--org", "acme", "--format", "json")
	if code != exitOK || !strings.Contains(out, agent) {
		t.Fatalf("--org: exit %d\n%s", code, out)
	}

	tok, err := app.Token(context.Background(), inst)
	if err != nil {
		t.Fatal(err)
	}
	tokEnv := map[string]string{"GITHUB_TOKEN": tok, "COUNTERSIGN_GITHUB_URL": base}
	code, out, errs = run(tokEnv, "--repo", "acme/infra", "--format", "json")
	if code != exitOK || !strings.Contains(out, agent) {
		t.Fatalf("GITHUB_TOKEN: exit %d %s\n%s", code, errs, out)
	}
	for _, bad := range [][]string{{"--repo", "acme/infra", "--org", "acme"}, {}, {"--repo", "acme/infra", "--format", "xml"}, {"--repo", "acme/infra", "--since", "last week"}, {"--repo", "infra"}} {
		if code, _, errs := run(appEnv, bad...); code != exitError || errs == "" {
			t.Errorf("%v: exit %d %q", bad, code, errs)
		}
	}
	if code, _, errs := run(tokEnv, "--org", "acme"); code != exitError || !strings.Contains(errs, "app's credentials") {
		t.Errorf("--org with a token: exit %d %q", code, errs)
	}
	if code, _, errs := run(map[string]string{}, "--repo", "acme/infra"); code != exitError || !strings.Contains(errs, "no credentials") {
		t.Errorf("no credentials: exit %d %q", code, errs)
	}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
