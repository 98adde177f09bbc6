//go:build conformance

package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// nodeModules is where `npm ci --prefix bot/conformance` put GitHub's
// descriptions: $CONFORMANCE_NODE_MODULES, or node_modules beside this file.
var nodeModules string

// The description files the suite reads, relative to nodeModules.
const (
	specFile     = "@octokit/openapi/generated/api.github.com.deref.json"
	schemaFile   = "@octokit/webhooks-schemas/schema.json"
	examplesDir  = "@octokit/webhooks-examples"
	envNodeMods  = "CONFORMANCE_NODE_MODULES"
	howToInstall = "run `make conformance` from the repository root (it runs `npm ci --prefix bot/conformance` and points " + envNodeMods + " at the result)"
)

func TestMain(m *testing.M) {
	nodeModules = os.Getenv(envNodeMods)
	if nodeModules == "" {
		nodeModules = "node_modules"
	}
	var missing []string
	for _, f := range []string{specFile, schemaFile, filepath.Join(examplesDir, "api.github.com", "index.json")} {
		if _, err := os.Stat(filepath.Join(nodeModules, f)); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		// Failing, not skipping: a conformance run without GitHub's
		// descriptions has checked nothing.
		fmt.Fprintf(os.Stderr, "conformance: GitHub's API descriptions are not installed in %s (missing %s);\n%s\n",
			nodeModules, strings.Join(missing, ", "), howToInstall)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

var (
	specOnce sync.Once
	spec     *Spec
	specErr  error

	hooksOnce sync.Once
	hooks     *WebhookSchemas
	hooksErr  error
)

// loadSpec loads the REST description once per test binary.
func loadSpec(t testing.TB) *Spec {
	t.Helper()
	specOnce.Do(func() { spec, specErr = LoadSpec(filepath.Join(nodeModules, specFile)) })
	if specErr != nil {
		t.Fatalf("loading GitHub's REST description: %v (%s)", specErr, howToInstall)
	}
	return spec
}

// loadHooks loads the webhook schemas once per test binary.
func loadHooks(t testing.TB) *WebhookSchemas {
	t.Helper()
	hooksOnce.Do(func() { hooks, hooksErr = LoadWebhookSchemas(filepath.Join(nodeModules, schemaFile)) })
	if hooksErr != nil {
		t.Fatalf("loading GitHub's webhook schemas: %v (%s)", hooksErr, howToInstall)
	}
	return hooks
}

// loadExamples loads the real example payloads of the given events.
func loadExamples(t testing.TB, events ...string) []Example {
	t.Helper()
	ex, err := LoadExamples(filepath.Join(nodeModules, examplesDir), events...)
	if err != nil {
		t.Fatalf("loading GitHub's example webhooks: %v (%s)", err, howToInstall)
	}
	return ex
}

// reportProblems fails t with every problem, one a line, at most max.
func reportProblems(t *testing.T, probs []Problem, max int) {
	t.Helper()
	for i, p := range probs {
		if i == max {
			t.Errorf("… and %d more", len(probs)-max)
			break
		}
		t.Error(p.String())
	}
}
