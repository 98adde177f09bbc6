package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/appmanifest"
	"github.com/countersign/countersign/bot/ghapp"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

func TestDoctorExitCodes(t *testing.T) {
	sim := githubsim.New(githubsim.Options{})
	t.Cleanup(sim.Close)
	base := sim.Start()
	sim.AddOrg("acme")
	sim.AddRepo("acme/infra", map[string]string{"README.md": "x\n"})
	sim.Install("acme", "acme/infra")
	env := map[string]string{
		"COUNTERSIGN_APP_ID":         "1",
		"COUNTERSIGN_PRIVATE_KEY":    string(sim.PrivateKeyPEM()),
		"COUNTERSIGN_WEBHOOK_SECRET": "doctor-secret",
		"COUNTERSIGN_GITHUB_URL":     base,
	}
	getenv := func(k string) string { return env[k] }
	doctorManifest = simGrantable(t)
	t.Cleanup(func() { doctorManifest = nil })
	doctorRun := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := doctorCmd(context.Background(), args, getenv, streams{out: &out, err: &errb})
		return code, out.String() + errb.String()
	}

	code, out := doctorRun("--repo", "acme/infra")
	if code != exitRequired || !strings.Contains(out, "✗ branch protection: merges into main are not blocked") {
		t.Errorf("unprotected: exit %d\n%s", code, out)
	}
	sim.SetBranchProtection("acme/infra", "main", &github.Protection{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: github.Int64(sim.AppID())}}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{RequiredApprovingReviewCount: 1},
		EnforceAdmins:              &github.AdminEnforcement{Enabled: true},
	})
	code, out = doctorRun("--repo=acme/infra")
	if code != exitOK || !strings.Contains(out, "✓ branch protection") || !strings.Contains(out, "built-in default") {
		t.Errorf("protected: exit %d\n%s", code, out)
	}
	// Serve's flags are doctor's too; a flag wins over the environment.
	code, out = doctorRun("--repo", "acme/infra", "--app-id", "2")
	if code != exitRequired || !strings.Contains(out, "✗ credentials") {
		t.Errorf("wrong app id: exit %d\n%s", code, out)
	}
	for _, secret := range []string{"doctor-secret", "PRIVATE KEY-----"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
	env["COUNTERSIGN_APP_ID"] = ""
	if code, out = doctorRun(); code != exitRequired || !strings.Contains(out, "✗ settings") || !strings.Contains(out, "COUNTERSIGN_APP_ID") {
		t.Errorf("no app id: exit %d\n%s", code, out)
	}
	if code, out = doctorRun("-h"); code != exitOK || !strings.Contains(out, "--repo") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// simGrantable is app.yml without the permissions and events the simulator
// cannot grant: its apps have a fixed set (bot/githubsim appPermissions),
// which lacks merge_queues. Grant comparison itself is tested in bot/doctor.
func simGrantable(t *testing.T) *appmanifest.Manifest {
	t.Helper()
	m, err := appmanifest.Default()
	if err != nil {
		t.Fatal(err)
	}
	sim := githubsim.New(githubsim.Options{})
	defer sim.Close()
	sim.Start()
	ctx := context.Background()
	a, err := ghapp.New(ghapp.Options{AppID: sim.AppID(), PrivateKeyPEM: sim.PrivateKeyPEM(), BaseURL: sim.URL()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := a.AppClient().NewRequest("GET", "app", nil)
	var app struct {
		Permissions map[string]string `json:"permissions"`
		Events      []string          `json:"events"`
	}
	if _, err := a.AppClient().Do(ctx, req, &app); err != nil {
		t.Fatal(err)
	}
	s := m.Compare(app.Permissions, app.Events)
	for _, p := range s.MissingPermissions {
		name, _, _ := strings.Cut(p, ":")
		delete(m.DefaultPermissions, name)
		t.Logf("the simulator does not grant %s; not asked for in this test", p)
	}
	m.DefaultEvents = slices.DeleteFunc(m.DefaultEvents, func(e string) bool { return slices.Contains(s.MissingEvents, e) })
	return m
}
