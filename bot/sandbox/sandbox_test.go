package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/checks"
	"github.com/google/go-github/v62/github"
)

func start(t *testing.T) *Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sb, err := Start(ctx, Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return sb
}

// verdictOf returns the verdict the bot published for a PR's current head.
func verdictOf(t *testing.T, sb *Sandbox, n int) *checks.Verdict {
	t.Helper()
	head := sb.Sim.PR(seedRepo, n).GetHead().GetSHA()
	e, ok := sb.Store.Get("acme", "platform", n, head)
	if !ok {
		t.Fatalf("no verdict published for #%d at %.7s", n, head)
	}
	return e.Verdict
}

func checkOf(t *testing.T, sb *Sandbox, n int) (string, string) {
	t.Helper()
	head := sb.Sim.PR(seedRepo, n).GetHead().GetSHA()
	cr := sb.Sim.LatestCheckRun(seedRepo, head, checks.CheckName)
	if cr == nil {
		t.Fatalf("no check run on #%d", n)
	}
	if cr.GetStatus() != "completed" {
		t.Fatalf("#%d: check is %s", n, cr.GetStatus())
	}
	return cr.GetConclusion(), cr.GetDetailsURL()
}

func requirement(v *checks.Verdict, name string) *checks.Requirement {
	for i := range v.Requirements {
		if v.Requirements[i].Name == name {
			return &v.Requirements[i]
		}
	}
	return nil
}

func TestSeededPullRequestsGetTheirVerdicts(t *testing.T) {
	sb := start(t)
	if got := len(sb.pullRequests()); got != 4 {
		t.Fatalf("%d pull requests seeded, want 4", got)
	}

	// 1. Claude Code, run by dave, changed Terraform.
	v := verdictOf(t, sb, 1)
	if c, _ := checkOf(t, sb, 1); c != "action_required" || v.Conclusion != checks.ActionRequired {
		t.Errorf("#1: check %s, verdict %s", c, v.Conclusion)
	}
	if !v.AgentAuthored || strings.Join(v.Agents, ",") != "claude-code" {
		t.Errorf("#1: agents %v", v.Agents)
	}
	if len(v.Operators) != 1 || v.Operators[0].Login != "dave" {
		t.Errorf("#1: operators %+v, want dave", v.Operators)
	}
	tf := requirement(v, "path:terraform")
	if tf == nil || tf.Met || strings.Join(tf.Eligible.Teams, ",") != "acme/sre" {
		t.Errorf("#1: terraform requirement %+v", tf)
	}
	if r := requirement(v, "agent-review"); r == nil || r.Met {
		t.Errorf("#1: agent-review %+v", r)
	}
	if v.Policy.Path != ".github/countersign.yml" || v.Policy.SHA == "" {
		t.Errorf("#1: policy %+v", v.Policy)
	}

	// 2. Copilot, assigned by alice, touched only docs.
	v = verdictOf(t, sb, 2)
	if c, _ := checkOf(t, sb, 2); c != "action_required" || strings.Join(v.Agents, ",") != "copilot" {
		t.Errorf("#2: check %s, agents %v", c, v.Agents)
	}
	if len(v.ProtectedFiles) != 0 || requirement(v, "agent-review") == nil {
		t.Errorf("#2: protected %v, requirements %+v", v.ProtectedFiles, v.Requirements)
	}

	// 3. Alice, by hand, changed a workflow: the security team must approve.
	v = verdictOf(t, sb, 3)
	if c, _ := checkOf(t, sb, 3); c != "action_required" || v.AgentAuthored {
		t.Errorf("#3: check %s, agent-authored %v", c, v.AgentAuthored)
	}
	if r := requirement(v, "path:workflows"); r == nil || strings.Join(r.Eligible.Teams, ",") != "acme/security" {
		t.Errorf("#3: workflows requirement %+v", r)
	}

	// 4. Dependabot bumped a module: automation, nothing protected, passes.
	v = verdictOf(t, sb, 4)
	if c, _ := checkOf(t, sb, 4); c != "success" || v.AgentAuthored || v.PR == nil || v.PR.Automation != "dependabot" {
		t.Errorf("#4: check %s, verdict %+v", c, v.PR)
	}
}

// client posts the sandbox's forms as a browser would.
type client struct {
	t  *testing.T
	sb *Sandbox
	hc *http.Client
}

func newClient(t *testing.T, sb *Sandbox) *client {
	return &client{t: t, sb: sb, hc: &http.Client{Timeout: 60 * time.Second}}
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	resp, err := c.hc.PostForm(strings.TrimSuffix(c.sb.URL(), "/")+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) get(u string) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Get(u)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// newDeliveries returns the deliveries after the first n.
func newDeliveries(sb *Sandbox, n int) []githubsim.Delivery {
	return sb.Sim.Deliveries()[n:]
}

func find(ds []githubsim.Delivery, event, action, sender string) *githubsim.Delivery {
	for i, d := range ds {
		var p struct {
			Sender struct {
				Login string `json:"login"`
			} `json:"sender"`
		}
		json.Unmarshal(d.Body, &p)
		if d.Event == event && d.Action == action && (sender == "" || p.Sender.Login == sender) {
			return &ds[i]
		}
	}
	return nil
}

func TestActionsGoThroughWebhooks(t *testing.T) {
	sb := start(t)
	c := newClient(t, sb)

	// bob is not in acme/sre: his approval counts for the agent review only.
	before := len(sb.Sim.Deliveries())
	if code, body := c.post("/sandbox/acme/platform/pull/1/review", url.Values{"as": {"bob"}, "event": {"APPROVE"}, "body": {"lgtm"}}); code != http.StatusOK {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	d := find(newDeliveries(sb, before), "pull_request_review", "submitted", "bob")
	if d == nil || d.Status != http.StatusAccepted {
		t.Fatalf("bob's approval was not delivered to the bot as a webhook: %+v", d)
	}
	if d.Body == nil || !strings.Contains(string(d.Body), `"state":"approved"`) {
		t.Errorf("the delivery is not an approval: %.200s", d.Body)
	}
	if c, _ := checkOf(t, sb, 1); c != "action_required" {
		t.Errorf("after bob: %s", c)
	}
	if r := requirement(verdictOf(t, sb, 1), "agent-review"); r == nil || !r.Met || strings.Join(r.SatisfiedBy, ",") != "bob" {
		t.Errorf("bob's approval did not satisfy the agent review: %+v", r)
	}

	// alice is in acme/sre: the check turns green.
	before = len(sb.Sim.Deliveries())
	c.post("/sandbox/acme/platform/pull/1/review", url.Values{"as": {"alice"}, "event": {"APPROVE"}})
	if find(newDeliveries(sb, before), "pull_request_review", "submitted", "alice") == nil {
		t.Fatal("alice's approval was not delivered")
	}
	conclusion, detailsURL := checkOf(t, sb, 1)
	if conclusion != "success" {
		t.Fatalf("after alice: %s", conclusion)
	}
	// The check's details link opens the page, which names the approver.
	if code, body := c.get(detailsURL); code != http.StatusOK || !strings.Contains(body, `<dd class="satisfied">@alice</dd>`) {
		t.Errorf("details page: %d, names alice: %v", code, strings.Contains(body, "@alice"))
	}
	u, _ := url.Parse(detailsURL)
	q := u.Query()
	tok, swap := q.Get("token"), "x"
	if tok[10] == 'x' { // tampering must change the token
		swap = "y"
	}
	q.Set("token", tok[:10]+swap+tok[11:])
	u.RawQuery = q.Encode()
	if code, _ := c.get(u.String()); code != http.StatusNotFound {
		t.Errorf("a tampered details link answered %d", code)
	}

	// A comment is an issue_comment webhook.
	before = len(sb.Sim.Deliveries())
	c.post("/sandbox/acme/platform/pull/2/comment", url.Values{"as": {"carol"}, "body": {"/countersign explain"}})
	if d := find(newDeliveries(sb, before), "issue_comment", "created", "carol"); d == nil || !strings.Contains(string(d.Body), "/countersign explain") {
		t.Errorf("the comment was not delivered: %+v", d)
	}

	// A push by Claude Code is a push and a synchronize; the new head is judged again.
	before = len(sb.Sim.Deliveries())
	c.post("/sandbox/acme/platform/pull/1/push", url.Values{"as": {"dave"}, "writer": {"claude"}, "path": {"infra/terraform/gke.tf"},
		"content": {gkeTF(6, "e2-standard-8")}, "message": {"One more node"}})
	ds := newDeliveries(sb, before)
	if find(ds, "push", "", "") == nil || find(ds, "pull_request", "synchronize", "") == nil {
		t.Errorf("the push was not delivered as push + pull_request.synchronize")
	}
	if c, _ := checkOf(t, sb, 1); c != "action_required" {
		t.Errorf("after a new agent push the check is %s; the approvals were of the old head", c)
	}

	// Opening a pull request as an agent: pull_request.opened, then a verdict.
	before = len(sb.Sim.Deliveries())
	code, body := c.post("/sandbox/acme/platform/pulls", url.Values{"as": {"bob"}, "writer": {"copilot"}, "title": {"Scale the API"},
		"path": {"deploy/k8s/api/deployment.yaml"}, "content": {"replicas: 10\n"}, "body": {"For the launch."}})
	if code != http.StatusOK || !strings.Contains(body, "Scale the API") {
		t.Fatalf("open: %d\n%.300s", code, body)
	}
	if d := find(newDeliveries(sb, before), "pull_request", "opened", "Copilot"); d == nil || d.Status != http.StatusAccepted {
		t.Fatalf("pull_request.opened not delivered: %+v", d)
	}
	v := verdictOf(t, sb, 5)
	if strings.Join(v.Agents, ",") != "copilot" || requirement(v, "path:kubernetes") == nil || len(v.Operators) == 0 || v.Operators[0].Login != "bob" {
		t.Errorf("#5: agents %v, requirements %+v, operators %+v", v.Agents, v.Requirements, v.Operators)
	}
}

func TestBadActionsAreRefused(t *testing.T) {
	sb := start(t)
	c := newClient(t, sb)
	before := len(sb.Sim.Deliveries())
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/sandbox/acme/platform/pull/99/review", url.Values{"event": {"APPROVE"}}},
		{"/sandbox/acme/platform/pull/1/review", url.Values{"event": {"MERGE"}}},
		{"/sandbox/acme/platform/pull/1/push", url.Values{"writer": {"robot"}, "path": {"x"}, "message": {"m"}}},
		{"/sandbox/acme/platform/pull/1/requested-action", url.Values{"check_run_id": {"1"}, "identifier": {"approve"}}},
		{"/sandbox/acme/other/pulls", url.Values{"writer": {"human"}, "title": {"t"}, "path": {"p"}}},
		{"/sandbox/acme/platform/pull/1/comment", url.Values{"as": {"mallory"}, "body": {"  "}}},
	} {
		if code, _ := c.post(tc.path, tc.form); code != http.StatusBadRequest {
			t.Errorf("%s %v: %d, want 400", tc.path, tc.form, code)
		}
	}
	if got := len(sb.Sim.Deliveries()); got != before {
		t.Errorf("refused actions caused %d webhooks", got-before)
	}
	// An open redirect is not possible through the user switch.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(sb.URL()+"sandbox/as", url.Values{"as": {"alice"}, "back": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("switch redirected to %q", loc)
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// The check run's buttons (requested actions) are shown and clicking one is
// a check_run.requested_action webhook from the acting user.
func TestCheckRunButtonsAreWebhooks(t *testing.T) {
	sb := start(t)
	app, err := ghapp.New(ghapp.Options{AppID: sb.Sim.AppID(), PrivateKeyPEM: sb.Sim.PrivateKeyPEM(), BaseURL: sb.Sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := app.Client(sb.installation)
	if err != nil {
		t.Fatal(err)
	}
	head := sb.Sim.PR(seedRepo, 1).GetHead().GetSHA()
	cr := sb.Sim.LatestCheckRun(seedRepo, head, checks.CheckName)
	ctx := context.Background()
	// As the bot would: offer a button on the check run.
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "platform", cr.GetID(), github.UpdateCheckRunOptions{
		Name: checks.CheckName, Actions: []*github.CheckRunAction{{Label: "Request review", Description: "Ask @acme/sre", Identifier: "request-review"}},
	}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, sb)
	if code, body := c.get(sb.URL() + "sandbox/acme/platform/pull/1"); code != http.StatusOK || !strings.Contains(body, `name="identifier" value="request-review"`) || !strings.Contains(body, ">Request review</button>") {
		t.Fatalf("the page does not offer the check's button: %d", code)
	}
	before := len(sb.Sim.Deliveries())
	if code, _ := c.post("/sandbox/acme/platform/pull/1/requested-action", url.Values{"as": {"dave"}, "check_run_id": {strconv.FormatInt(cr.GetID(), 10)}, "identifier": {"request-review"}}); code != http.StatusOK {
		t.Fatalf("click: %d", code)
	}
	d := find(newDeliveries(sb, before), "check_run", "requested_action", "dave")
	if d == nil || !strings.Contains(string(d.Body), `"identifier":"request-review"`) || d.Status == 0 {
		t.Fatalf("the click was not delivered as check_run.requested_action: %+v", d)
	}
}

// A /countersign command is answered by the bot on the pull request, and the page shows the conversation.
func TestCommandsAreAnsweredOnThePage(t *testing.T) {
	sb := start(t)
	c := newClient(t, sb)
	code, body := c.post("/sandbox/acme/platform/pull/1/comment", url.Values{"as": {"bob"}, "body": {"/countersign explain"}})
	if code != http.StatusOK {
		t.Fatalf("comment: %d", code)
	}
	if !strings.Contains(body, "<pre>/countersign explain</pre>") {
		t.Errorf("the page does not show bob's comment")
	}
	var bot bool
	for _, cm := range sb.Sim.Comments(seedRepo, 1) {
		if cm.GetUser().GetLogin() == "countersign[bot]" {
			bot = true
			if !strings.Contains(body, "@countersign[bot]") {
				t.Errorf("the page does not show the bot's answer")
			}
		}
	}
	if !bot {
		t.Error("the bot did not answer /countersign explain")
	}
}

// TestRefusesWhatGitHubWould: a read-only user cannot push, open a pull
// request from a branch of the repository or re-run a check, and a file path
// git and GitHub refuse is refused, each with GitHub's message and nothing
// sent to the bot.
func TestRefusesWhatGitHubWould(t *testing.T) {
	sb := start(t)
	c := newClient(t, sb)
	cr := sb.Sim.LatestCheckRun(seedRepo, sb.Sim.PR(seedRepo, 1).GetHead().GetSHA(), checks.CheckName)
	if cr == nil {
		t.Fatal("no check run on #1")
	}
	before := len(sb.Sim.Deliveries())
	denied := "Permission to acme/platform.git denied to carol."
	for _, tc := range []struct {
		path string
		form url.Values
		code int
		msg  string
	}{
		{"/sandbox/acme/platform/pull/1/push", url.Values{"as": {"carol"}, "writer": {"human"}, "path": {"README.md"}, "message": {"m"}}, http.StatusForbidden, denied},
		{"/sandbox/acme/platform/pulls", url.Values{"as": {"carol"}, "writer": {"claude"}, "title": {"t"}, "path": {"x.md"}}, http.StatusForbidden, denied},
		{"/sandbox/acme/platform/pull/1/rerun", url.Values{"as": {"carol"}, "check_run_id": {strconv.FormatInt(cr.GetID(), 10)}}, http.StatusForbidden, "Must have push access to repository"},
		{"/sandbox/acme/platform/pull/1/push", url.Values{"as": {"dave"}, "writer": {"human"}, "path": {"../etc/passwd"}, "message": {"m"}}, http.StatusUnprocessableEntity, "path contains a malformed path component"},
		{"/sandbox/acme/platform/pulls", url.Values{"as": {"dave"}, "writer": {"human"}, "title": {"t"}, "path": {"/etc/passwd"}}, http.StatusUnprocessableEntity, "path contains a malformed path component"},
		{"/sandbox/acme/platform/pulls", url.Values{"as": {"dave"}, "writer": {"human"}, "title": {"t"}, "path": {"docs/.git/config"}}, http.StatusUnprocessableEntity, "path contains a malformed path component"},
		{"/sandbox/acme/platform/pulls", url.Values{"as": {"dave"}, "writer": {"human"}, "title": {"t"}, "path": {"docs//x.md"}}, http.StatusUnprocessableEntity, "path contains a malformed path component"},
	} {
		code, body := c.post(tc.path, tc.form)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %v: %d, want %d with %q:\n%s", tc.path, tc.form, code, tc.code, tc.msg, body)
		}
	}
	if got := len(sb.Sim.Deliveries()); got != before {
		t.Errorf("refused actions caused %d webhooks", got-before)
	}
	// Writers still can.
	if code, body := c.post("/sandbox/acme/platform/pull/1/rerun", url.Values{"as": {"bob"}, "check_run_id": {strconv.FormatInt(cr.GetID(), 10)}}); code != http.StatusOK {
		t.Errorf("bob's re-run: %d\n%s", code, body)
	}
}
