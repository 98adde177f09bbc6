package doctor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/doctor"
	"github.com/countersign/countersign/bot/ghapp"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

const repo = "acme/infra"

type env struct {
	inst     int64
	sim      *githubsim.Sim
	base     string
	manifest *appmanifest.Manifest
}

func newEnv(t *testing.T, files map[string]string) *env {
	t.Helper()
	sim := githubsim.New(githubsim.Options{})
	t.Cleanup(sim.Close)
	base := sim.Start()
	sim.AddOrg("acme")
	if files == nil {
		files = map[string]string{".github/countersign.yml": "review:\n  agent:\n    approvals: 1\n"}
	}
	files["README.md"] = "# infra\n"
	sim.AddRepo(repo, files)
	sim.AddRepo("acme/other", map[string]string{"README.md": "x\n"})
	e := &env{sim: sim, base: base, inst: sim.Install("acme", repo)}
	e.manifest = e.grantable(t)
	return e
}

// grantable is app.yml without what the simulator cannot grant: its apps
// have a fixed set of permissions and events (bot/githubsim appPermissions),
// which lacks merge_queues. Grant comparison is tested through a proxy in
// TestDoctorReportsPermissionsNotAccepted.
func (e *env) grantable(t *testing.T) *appmanifest.Manifest {
	t.Helper()
	m, err := appmanifest.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := e.app(t, e.base, nil).AppClient()
	req, _ := c.NewRequest("GET", "app", nil)
	var app struct {
		Permissions map[string]string `json:"permissions"`
		Events      []string          `json:"events"`
	}
	if _, err := c.Do(context.Background(), req, &app); err != nil {
		t.Fatal(err)
	}
	s := m.Compare(app.Permissions, app.Events)
	for _, p := range s.MissingPermissions {
		name, _, _ := strings.Cut(p, ":")
		delete(m.DefaultPermissions, name)
	}
	m.DefaultEvents = slices.DeleteFunc(m.DefaultEvents, func(ev string) bool { return slices.Contains(s.MissingEvents, ev) })
	return m
}

func (e *env) app(t *testing.T, base string, key []byte) *ghapp.App {
	t.Helper()
	if key == nil {
		key = e.sim.PrivateKeyPEM()
	}
	a, err := ghapp.New(ghapp.Options{AppID: e.sim.AppID(), PrivateKeyPEM: key, BaseURL: base,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) run(t *testing.T, r string) (*doctor.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep := doctor.Run(ctx, doctor.Options{App: e.app(t, e.base, nil), Repo: r, Manifest: e.manifest})
	var b bytes.Buffer
	rep.Write(&b)
	return rep, b.String()
}

func ptr[T any](v T) *T { return &v }

func classic(appID *int64, contexts []string, prs bool) *github.Protection {
	p := &github.Protection{EnforceAdmins: &github.AdminEnforcement{Enabled: true}}
	switch {
	case contexts != nil:
		p.RequiredStatusChecks = &github.RequiredStatusChecks{Contexts: &contexts}
	default:
		p.RequiredStatusChecks = &github.RequiredStatusChecks{Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: appID}}}
	}
	if prs {
		p.RequiredPullRequestReviews = &github.PullRequestReviewsEnforcement{RequiredApprovingReviewCount: 1}
	}
	return p
}

func rules(t *testing.T, integration *int64, prs bool) []*github.RepositoryRule {
	t.Helper()
	raw := func(v any) *json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		m := json.RawMessage(b)
		return &m
	}
	out := []*github.RepositoryRule{{Type: "required_status_checks", Parameters: raw(github.RequiredStatusChecksRuleParameters{
		RequiredStatusChecks: []github.RuleRequiredStatusChecks{{Context: "countersign", IntegrationID: integration}}})}}
	if prs {
		out = append(out, &github.RepositoryRule{Type: "pull_request", Parameters: raw(github.PullRequestRuleParameters{RequiredApprovingReviewCount: 1})})
	}
	return out
}

// result finds a check's result; it fails the test when the check is absent.
func result(t *testing.T, rep *doctor.Report, out, check string) doctor.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %q check in:\n%s", check, out)
	return doctor.Result{}
}

func TestDoctorBranchProtection(t *testing.T) {
	other := int64(424242)
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, e *env)
		ok      bool
		status  doctor.Status
		mention string
	}{
		{"classic pinned to the app", func(t *testing.T, e *env) {
			e.sim.SetBranchProtection(repo, "main", classic(ptr(e.sim.AppID()), nil, true))
		}, true, doctor.OK, "pinned to this app"},
		{"ruleset pinned to the app", func(t *testing.T, e *env) {
			e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), true))
		}, true, doctor.OK, "ruleset"},
		{"classic legacy contexts", func(t *testing.T, e *env) {
			e.sim.SetBranchProtection(repo, "main", classic(nil, []string{"build", "countersign"}, true))
		}, true, doctor.Warn, "not from this app"},
		{"no protection", func(t *testing.T, e *env) {}, false, doctor.Fail, "merges into main are not blocked"},
		{"classic from another app", func(t *testing.T, e *env) {
			e.sim.SetBranchProtection(repo, "main", classic(&other, nil, true))
		}, false, doctor.Fail, "from app 424242"},
		{"ruleset from another app", func(t *testing.T, e *env) {
			e.sim.SetRules(repo, "main", rules(t, &other, true))
		}, false, doctor.Fail, "from app 424242"},
		{"protected without the check", func(t *testing.T, e *env) {
			e.sim.SetBranchProtection(repo, "main", &github.Protection{RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{RequiredApprovingReviewCount: 1}})
		}, false, doctor.Fail, "no branch protection or ruleset requires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tc.setup(t, e)
			rep, out := e.run(t, repo)
			if rep.OK() != tc.ok {
				t.Errorf("OK() = %v, want %v:\n%s", rep.OK(), tc.ok, out)
			}
			r := result(t, rep, out, "branch protection")
			if r.Status != tc.status || !strings.Contains(r.Detail, tc.mention) {
				t.Errorf("branch protection: %v %q; want status %v mentioning %q\n%s", r.Status, r.Detail, tc.status, tc.mention, out)
			}
			if r.Status != doctor.OK && r.Fix == "" {
				t.Errorf("no fix for a failure:\n%s", out)
			}
			for _, must := range []string{"✓ credentials", "✓ installation:", "✓ policy"} {
				if !strings.Contains(out, must) {
					t.Errorf("report lacks %q:\n%s", must, out)
				}
			}
		})
	}
}

func TestDoctorRequiresPullRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), false))
	rep, out := e.run(t, repo)
	if rep.OK() {
		t.Errorf("passes though direct pushes skip the check:\n%s", out)
	}
	if r := result(t, rep, out, "pull requests required"); r.Status != doctor.Fail || !strings.Contains(r.Detail, "direct push") {
		t.Errorf("%+v", r)
	}
}

func TestDoctorPolicy(t *testing.T) {
	t.Run("invalid", func(t *testing.T) {
		e := newEnv(t, map[string]string{".github/countersign.yml": "review:\n  agent:\n    approvals: two\n"})
		rep, out := e.run(t, repo)
		r := result(t, rep, out, "policy")
		if r.Status != doctor.Fail || !strings.Contains(r.Detail, "countersign.yml:3") {
			t.Errorf("policy: %+v\n%s", r, out)
		}
	})
	t.Run("absent", func(t *testing.T) {
		e := newEnv(t, map[string]string{})
		rep, out := e.run(t, repo)
		if r := result(t, rep, out, "policy"); r.Status != doctor.OK || !strings.Contains(r.Detail, "built-in default") {
			t.Errorf("policy: %+v", r)
		}
	})
}

func TestDoctorInstallationAndCredentials(t *testing.T) {
	e := newEnv(t, nil)
	rep, out := e.run(t, "acme/other")
	if r := result(t, rep, out, "installation"); r.Status != doctor.Fail || !strings.Contains(r.Fix, "/installations/new") {
		t.Errorf("not installed: %+v", r)
	}
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrong := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	rep = doctor.Run(context.Background(), doctor.Options{App: e.app(t, e.base, wrong), Repo: repo, Manifest: e.manifest})
	var b bytes.Buffer
	rep.Write(&b)
	if r := result(t, rep, b.String(), "credentials"); r.Status != doctor.Fail || !strings.Contains(r.Fix, "private key") {
		t.Errorf("wrong key: %+v", r)
	}
	if strings.Contains(b.String(), "PRIVATE KEY-----") {
		t.Error("the report shows a key")
	}
}

// The simulator grants every installation the app's permissions; an
// installation whose owner has not accepted new ones is modelled by a proxy
// in front of it that answers the installation without members and push.
func TestDoctorReportsPermissionsNotAccepted(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), true))
	target, _ := url.Parse(e.base)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.Scheme+"://"+target.Host+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if strings.HasSuffix(r.URL.Path, "/installation") && resp.StatusCode == 200 {
			var m map[string]any
			json.Unmarshal(body, &m)
			delete(m["permissions"].(map[string]any), "members")
			var evs []any
			for _, ev := range m["events"].([]any) {
				if ev != "push" {
					evs = append(evs, ev)
				}
			}
			m["events"] = evs
			body, _ = json.Marshal(m)
		}
		for k, v := range resp.Header {
			if k != "Content-Length" && k != "Etag" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}))
	defer proxy.Close()
	rep := doctor.Run(context.Background(), doctor.Options{App: e.app(t, proxy.URL+"/", nil), Repo: repo, Manifest: e.manifest})
	var b bytes.Buffer
	rep.Write(&b)
	out := b.String()
	r := result(t, rep, out, "installation permissions and events")
	if r.Status != doctor.Fail || !strings.Contains(r.Detail, "members: read") || !strings.Contains(r.Detail, "push") ||
		!strings.Contains(r.Fix, "has not accepted") {
		t.Errorf("installation grant: %+v\n%s", r, out)
	}
	if rep.OK() {
		t.Errorf("passes with permissions not accepted:\n%s", out)
	}
}

func TestEvaluateCombinations(t *testing.T) {
	const app = int64(7)
	other := int64(8)
	raw := func(v any) *json.RawMessage { b, _ := json.Marshal(v); m := json.RawMessage(b); return &m }
	rs := func(id *int64) *github.RepositoryRule {
		return &github.RepositoryRule{Type: "required_status_checks", RulesetID: 3, RulesetSource: "acme/infra", Parameters: raw(github.RequiredStatusChecksRuleParameters{
			RequiredStatusChecks: []github.RuleRequiredStatusChecks{{Context: "countersign", IntegrationID: id}}})}
	}
	prRule := &github.RepositoryRule{Type: "pull_request"}
	locked := []*github.RepositoryRule{{Type: "non_fast_forward", RulesetID: 3}, {Type: "deletion", RulesetID: 3}}
	worst := func(res []doctor.Result) doctor.Status {
		s := doctor.OK
		for _, r := range res {
			s = max(s, r.Status)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		p    doctor.Protection
		want doctor.Status
	}{
		{"ruleset pinned", doctor.Protection{Rules: append([]*github.RepositoryRule{rs(ptr(app)), prRule}, locked...)}, doctor.OK},
		{"ruleset pinned, force pushes and deletions allowed", doctor.Protection{Rules: []*github.RepositoryRule{rs(ptr(app)), prRule}}, doctor.Warn},
		{"ruleset bypass list unreadable", doctor.Protection{Rules: append([]*github.RepositoryRule{rs(ptr(app)), prRule}, locked...),
			Rulesets: []*github.Ruleset{{ID: ptr(int64(3)), Name: "main"}}}, doctor.Warn},
		{"ruleset bypass by this app only", doctor.Protection{Rules: append([]*github.RepositoryRule{rs(ptr(app)), prRule}, locked...),
			Rulesets: []*github.Ruleset{{ID: ptr(int64(3)), Name: "main", BypassActors: []*github.BypassActor{{ActorID: ptr(app), ActorType: ptr("Integration"), BypassMode: ptr("always")}}}}}, doctor.OK},
		{"ruleset lets admins bypass", doctor.Protection{Rules: append([]*github.RepositoryRule{rs(ptr(app)), prRule}, locked...),
			Rulesets: []*github.Ruleset{{ID: ptr(int64(3)), Name: "main", BypassActors: []*github.BypassActor{{ActorID: ptr(int64(5)), ActorType: ptr("RepositoryRole"), BypassMode: ptr("always")}}}}}, doctor.Warn},
		{"classic lets an agent's app skip pull requests", doctor.Protection{Classic: &github.Protection{EnforceAdmins: &github.AdminEnforcement{Enabled: true},
			RequiredStatusChecks: &github.RequiredStatusChecks{Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: ptr(app)}}},
			RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{BypassPullRequestAllowances: &github.BypassPullRequestAllowances{
				Apps: []*github.App{{ID: ptr(int64(1143301)), Slug: ptr("copilot-swe-agent")}}}}}}, doctor.Fail},
		{"ruleset any source", doctor.Protection{Rules: []*github.RepositoryRule{rs(nil), prRule}}, doctor.Warn},
		{"pinned here, another app there", doctor.Protection{Rules: []*github.RepositoryRule{rs(ptr(app)), rs(&other), prRule}}, doctor.Fail},
		{"classic without enforce admins", doctor.Protection{Classic: &github.Protection{
			RequiredStatusChecks:       &github.RequiredStatusChecks{Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: ptr(app)}}},
			RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{}}}, doctor.Warn},
		{"other contexts only", doctor.Protection{Classic: &github.Protection{
			RequiredStatusChecks:       &github.RequiredStatusChecks{Contexts: &[]string{"build"}},
			RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{}, EnforceAdmins: &github.AdminEnforcement{Enabled: true}}}, doctor.Fail},
		{"any-app sentinel -1", doctor.Protection{Rules: []*github.RepositoryRule{rs(ptr(int64(-1))), prRule}}, doctor.Warn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := doctor.Evaluate(tc.p, app, "acme/infra", "main")
			if got := worst(res); got != tc.want {
				t.Errorf("worst status %v, want %v: %+v", got, tc.want, res)
			}
		})
	}
}

func TestDoctorReportsAppMissingPermission(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), true))
	m := *e.manifest
	m.DefaultPermissions = map[string]string{"workflows": "write"}
	for k, v := range e.manifest.DefaultPermissions {
		m.DefaultPermissions[k] = v
	}
	rep := doctor.Run(context.Background(), doctor.Options{App: e.app(t, e.base, nil), Repo: repo, Manifest: &m})
	var b bytes.Buffer
	rep.Write(&b)
	out := b.String()
	r := result(t, rep, out, "app permissions and events")
	if r.Status != doctor.Fail || !strings.Contains(r.Detail, "workflows: write") || !strings.Contains(r.Fix, "/settings/apps/countersign/permissions") {
		t.Errorf("app grant: %+v\n%s", r, out)
	}
	if ir := result(t, rep, out, "installation permissions and events"); ir.Status != doctor.Fail || !strings.Contains(ir.Fix, "app's own permissions") {
		t.Errorf("installation grant: %+v", ir)
	}
	if rep.OK() {
		t.Errorf("passes with a permission missing:\n%s", out)
	}
}

// settingsEnv is a repository whose default branch is fully guarded by
// classic protection pinned to the app, with a CODEOWNERS file that owns the
// policy; each case then loosens one setting.
func settingsEnv(t *testing.T, files map[string]string) *env {
	t.Helper()
	if files == nil {
		files = map[string]string{
			".github/countersign.yml": "review:\n  agent:\n    approvals: 1\n",
			".github/CODEOWNERS":      "* @acme/dev\n/.github/countersign.yml @acme/sre\n",
		}
	}
	e := newEnv(t, files)
	return e
}

func TestDoctorSettingsThatLetAgentsThrough(t *testing.T) {
	guarded := func(e *env) *github.Protection { return classic(ptr(e.sim.AppID()), nil, true) }
	for _, tc := range []struct {
		name    string
		files   map[string]string
		setup   func(t *testing.T, e *env)
		check   string
		status  doctor.Status
		mention string
	}{
		{"bypass: none", nil, func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"bypass lists", doctor.OK, "no bypass list"},
		{"bypass: the Copilot agent's app may skip pull requests", nil, func(t *testing.T, e *env) {
			p := guarded(e)
			p.RequiredPullRequestReviews.BypassPullRequestAllowances = &github.BypassPullRequestAllowances{
				Apps: []*github.App{{ID: ptr(int64(1143301)), Slug: ptr("copilot-swe-agent"), Name: ptr("Copilot")}}}
			e.sim.SetBranchProtection(repo, "main", p)
		}, "bypass lists", doctor.Fail, `app "copilot-swe-agent" (GitHub Copilot, an AI agent or reviewer)`},
		{"bypass: another app may skip pull requests", nil, func(t *testing.T, e *env) {
			p := guarded(e)
			p.RequiredPullRequestReviews.BypassPullRequestAllowances = &github.BypassPullRequestAllowances{
				Apps: []*github.App{{ID: ptr(int64(99)), Slug: ptr("acme-release"), Name: ptr("Acme release")}}}
			e.sim.SetBranchProtection(repo, "main", p)
		}, "bypass lists", doctor.Warn, `app "acme-release"`},
		{"bypass: a ruleset's list cannot be read with administration: read", nil, func(t *testing.T, e *env) {
			e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), true))
		}, "bypass lists", doctor.Warn, "GitHub returns bypass_actors only to those who can edit the ruleset"},
		{"force pushes blocked", nil, func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"force pushes", doctor.OK, "blocked"},
		{"force pushes allowed", nil, func(t *testing.T, e *env) {
			p := guarded(e)
			p.AllowForcePushes = &github.AllowForcePushes{Enabled: true}
			e.sim.SetBranchProtection(repo, "main", p)
		}, "force pushes", doctor.Warn, "force pushes to main are allowed"},
		{"deletions restricted", nil, func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"deletions", doctor.OK, "cannot be deleted"},
		{"deletions allowed by a ruleset without the rule", nil, func(t *testing.T, e *env) {
			e.sim.SetRules(repo, "main", rules(t, ptr(e.sim.AppID()), true))
		}, "deletions", doctor.Warn, "main may be deleted"},
		{"Copilot code review not automatic", nil, func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"Copilot code review", doctor.OK, "cannot be read through the REST API"},
		{"Copilot code review automatic", nil, func(t *testing.T, e *env) {
			e.sim.SetBranchProtection(repo, "main", guarded(e))
			e.sim.SetRules(repo, "main", []*github.RepositoryRule{{Type: "copilot_code_review"}})
		}, "Copilot code review", doctor.Warn, "whether its approvals count toward GitHub's required approvals cannot be read"},
		{"policy owned in CODEOWNERS", nil, func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"policy file guard", doctor.OK, "owned by @acme/sre"},
		{"policy missing from CODEOWNERS", map[string]string{".github/countersign.yml": "review: {}\n", "CODEOWNERS": "/infra/ @acme/sre\n"},
			func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"policy file guard", doctor.Warn, "CODEOWNERS names no owner for .github/countersign.yml"},
		{"no CODEOWNERS", map[string]string{".github/countersign.yml": "review: {}\n"},
			func(t *testing.T, e *env) { e.sim.SetBranchProtection(repo, "main", guarded(e)) },
			"policy file guard", doctor.Warn, "no CODEOWNERS file on main"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := settingsEnv(t, tc.files)
			tc.setup(t, e)
			rep, out := e.run(t, repo)
			var got []doctor.Result
			for _, r := range rep.Results {
				if r.Check == tc.check {
					got = append(got, r)
				}
			}
			for _, r := range got {
				if r.Status == tc.status && strings.Contains(r.Detail, tc.mention) {
					if r.Status != doctor.OK && r.Fix == "" {
						t.Errorf("%s: no fix\n%s", tc.check, out)
					}
					return
				}
			}
			t.Errorf("no %s line with status %v mentioning %q:\n%s", tc.check, tc.status, tc.mention, out)
		})
	}
}

// The policy file must be among its own protected paths, or a pull request
// can loosen the policy that judges it with no owner's approval.
func TestDoctorPolicyAmongItsProtectedPaths(t *testing.T) {
	for _, tc := range []struct {
		policy string
		status doctor.Status
	}{
		// The policy file protects itself whatever the presets.
		{"protected_paths:\n  presets: []\n", doctor.OK},
		// Unless a rule of the policy takes its preset's name and covers something else.
		{"protected_paths:\n  presets: []\n  rules:\n    - name: countersign\n      paths: [\"docs/\"]\n", doctor.Warn},
		{"protected_paths:\n  presets: []\n  rules:\n    - name: policy\n      paths: [\".github/countersign.yml\"]\n      approvers: {teams: [acme/sre]}\n", doctor.OK},
	} {
		e := settingsEnv(t, map[string]string{".github/countersign.yml": tc.policy, ".github/CODEOWNERS": "/.github/ @acme/sre\n"})
		e.sim.SetBranchProtection(repo, "main", classic(ptr(e.sim.AppID()), nil, true))
		rep, out := e.run(t, repo)
		found := false
		for _, r := range rep.Results {
			if r.Check == "policy file guard" && strings.Contains(r.Detail, "protected paths") {
				found = true
				if r.Status != tc.status {
					t.Errorf("policy %q: %v %q, want %v\n%s", tc.policy, r.Status, r.Detail, tc.status, out)
				}
			}
		}
		if !found {
			t.Errorf("no protected-paths line:\n%s", out)
		}
	}
}

// --org runs the repository checks over every repository of the
// installation and sums them up.
func TestDoctorOrg(t *testing.T) {
	e := settingsEnv(t, nil)
	e.sim.AddInstallationRepos(e.inst, "acme/other")
	e.sim.SetBranchProtection(repo, "main", classic(ptr(e.sim.AppID()), nil, true))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep := doctor.Run(ctx, doctor.Options{App: e.app(t, e.base, nil), Org: "acme", Manifest: e.manifest})
	var b bytes.Buffer
	rep.Write(&b)
	out := b.String()
	if rep.OK() {
		t.Errorf("OK() with an unguarded repository:\n%s", out)
	}
	if len(rep.Repos) != 2 {
		t.Fatalf("summary has %d repositories, want 2:\n%s", len(rep.Repos), out)
	}
	for _, s := range rep.Repos {
		switch s.Repo {
		case "acme/infra":
			if !s.Guarded || s.Why != "" {
				t.Errorf("acme/infra: %+v", s)
			}
		case "acme/other":
			if s.Guarded || !strings.Contains(s.Why, "branch protection: merges into main are not blocked") {
				t.Errorf("acme/other: %+v", s)
			}
		default:
			t.Errorf("unexpected repository %+v", s)
		}
	}
	for _, must := range []string{"repository", "guarded", "acme/other: branch protection", "1 of 2 repositories guarded"} {
		if !strings.Contains(out, must) {
			t.Errorf("output lacks %q:\n%s", must, out)
		}
	}
	rep = doctor.Run(ctx, doctor.Options{App: e.app(t, e.base, nil), Org: "globex", Manifest: e.manifest})
	b.Reset()
	rep.Write(&b)
	if rep.OK() || !strings.Contains(b.String(), "not installed on the organization globex") {
		t.Errorf("uninstalled org:\n%s", b.String())
	}
}

// TestDoctorDeployGate: doctor says whether the app is a deployment
// protection rule on each environment the policy's deployments.environments names.
func TestDoctorDeployGate(t *testing.T) {
	pol := "deployments:\n  environments: [prod-*]\n"
	e := newEnv(t, map[string]string{".github/countersign.yml": pol})
	rep, out := e.run(t, repo)
	if r := result(t, rep, out, "deploy gate"); r.Status != doctor.Warn || !strings.Contains(r.Detail, "names no environment") {
		t.Errorf("no environments: %+v\n%s", r, out)
	}
	e.sim.AddEnvironment(repo, "staging", false)
	e.sim.AddEnvironment(repo, "prod-eu", true)
	e.sim.AddEnvironment(repo, "prod-us", false)
	rep, out = e.run(t, repo)
	if r := result(t, rep, out, "deploy gate"); r.Status != doctor.Fail || !strings.Contains(r.Detail, "not a deployment protection rule on prod-us") || strings.Contains(r.Detail, "staging") {
		t.Errorf("prod-us unguarded: %+v\n%s", r, out)
	}
	e.sim.AddEnvironment(repo, "prod-us", true)
	rep, out = e.run(t, repo)
	if r := result(t, rep, out, "deploy gate"); r.Status != doctor.OK || !strings.Contains(r.Detail, "prod-eu, prod-us") {
		t.Errorf("both guarded: %+v\n%s", r, out)
	}
	// A policy naming no environments adds no line.
	e2 := newEnv(t, nil)
	rep, _ = e2.run(t, repo)
	for _, x := range rep.Results {
		if x.Check == "deploy gate" {
			t.Errorf("a deploy gate line without deployments.environments: %+v", x)
		}
	}
}
