package appmanifest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParseRejectsWhatGitHubWouldNot(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "name: x\nurl: https://e.test\nhook_attributes: {url: https://e.test/webhook}\nhook_url: x\n", "hook_url"},
		{"no name", "url: https://e.test\nhook_attributes: {url: https://e.test/webhook}\n", "name: required"},
		{"relative hook", "name: x\nurl: https://e.test\nhook_attributes: {url: /webhook}\n", "hook_attributes.url"},
		{"bad level", "name: x\nurl: https://e.test\nhook_attributes: {url: https://e.test/w}\ndefault_permissions: {checks: writ}\n", "default_permissions.checks"},
		{"repeated event", "name: x\nurl: https://e.test\nhook_attributes: {url: https://e.test/w}\ndefault_events: [push, push]\n", `"push" is listed twice`},
		{"bad yaml line", "name: x\nurl: [\n", "line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestDefaultManifestIsLeastPrivilegeAndPrivate(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if m.Public {
		t.Error("app.yml makes the app public")
	}
	if len(m.CallbackURLs) != 0 {
		t.Error("app.yml has OAuth callback URLs; Countersign never acts for a user")
	}
	for p, l := range m.DefaultPermissions {
		if l == "admin" {
			t.Errorf("%s: admin", p)
		}
	}
	for _, p := range []string{"contents", "metadata", "members", "administration"} {
		if l := m.DefaultPermissions[p]; l != "read" {
			t.Errorf("%s: %q, want read", p, l)
		}
	}
	// The JSON the manifest flow posts carries the same keys.
	b, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "url", "hook_attributes", "redirect_url", "public", "default_permissions", "default_events", "description"} {
		if _, ok := back[k]; !ok {
			t.Errorf("manifest JSON lacks %q: %s", k, b)
		}
	}
}

func TestCompareReportsMissingAndExtra(t *testing.T) {
	m := &Manifest{DefaultPermissions: map[string]string{"checks": "write", "contents": "read", "members": "read"},
		DefaultEvents: []string{"pull_request", "push"}}
	s := m.Compare(map[string]string{"checks": "read", "contents": "write", "issues": "write"},
		[]string{"pull_request", "installation", "issue_comment"})
	if !slices.Equal(s.MissingPermissions, []string{"checks: write", "members: read"}) {
		t.Errorf("missing permissions %v", s.MissingPermissions)
	}
	if !slices.Equal(s.ExtraPermissions, []string{"contents: write", "issues: write"}) {
		t.Errorf("extra permissions %v", s.ExtraPermissions)
	}
	if !slices.Equal(s.MissingEvents, []string{"push"}) || !slices.Equal(s.ExtraEvents, []string{"issue_comment"}) {
		t.Errorf("events: missing %v extra %v", s.MissingEvents, s.ExtraEvents)
	}
	if full := m.Compare(map[string]string{"checks": "write", "contents": "read", "members": "admin"}, []string{"push", "pull_request"}); len(full.MissingPermissions)+len(full.MissingEvents) != 0 {
		t.Errorf("a grant at or above the manifest is short: %+v", full)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("name: x\nurl: https://e.test\nhook_attributes: {url: https://e.test/w}\n"))
	f.Add([]byte("default_permissions: {checks: write}\ndefault_events: [push]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && (m.Name == "" || m.HookAttributes.URL == "") {
			t.Fatalf("accepted a manifest without name or webhook URL: %q", b)
		}
	})
}
