package appmanifest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/server"
)

// TestEventCommentsAgreeWithTheServer holds app.yml's comment on each
// subscribed event, and docs/configuration.md's "Handled events" table, to
// the actions the server handles: a reader of either sees every action.
func TestEventCommentsAgreeWithTheServer(t *testing.T) {
	handled := server.HandledEvents()
	yml, err := os.ReadFile("../../app.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	appLine := regexp.MustCompile(`(?m)^  - ([a-z_]+)\s*#\s*(.*)$`)
	comments := map[string]string{}
	for _, m := range appLine.FindAllStringSubmatch(string(yml), -1) {
		comments[m[1]] = m[2]
	}
	docRows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([^|]*) \\|").FindAllStringSubmatch(string(cfg), -1) {
		docRows[m[1]] += m[2]
	}
	for event, actions := range handled {
		if event == "installation" || event == "installation_repositories" {
			continue // delivered to every app, not subscribed in app.yml
		}
		c, ok := comments[event]
		if !ok {
			t.Errorf("app.yml: default_events has no commented line for the handled event %s", event)
			continue
		}
		actionWords := regexp.MustCompile(`[a-z_]+`).FindAllString(strings.SplitN(c, ":", 2)[0], -1)
		for _, a := range actions {
			if !contains(actionWords, a) {
				t.Errorf("app.yml: the comment on %s (%q) does not name the handled action %s", event, c, a)
			}
		}
		for _, w := range actionWords {
			if len(actions) > 0 && !contains(actions, w) {
				t.Errorf("app.yml: the comment on %s names %q, which the server does not handle (it handles %v)", event, w, actions)
			}
		}
	}
	for event, actions := range handled {
		row, ok := docRows[event]
		if !ok {
			t.Errorf("docs/configuration.md: no row for the handled event %s", event)
			continue
		}
		for _, a := range actions {
			if !strings.Contains(row, "`"+a+"`") {
				t.Errorf("docs/configuration.md: the %s row (%q) does not name the handled action %s", event, row, a)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
