package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestPrometheusRules runs `promtool check rules` and `promtool test rules`
// on the shipped alerting rules (Debian's prometheus package has promtool;
// .ci/run installs it).
func TestPrometheusRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus): the alerting rules in deploy/prometheus are not checked")
	}
	for _, args := range [][]string{
		{"check", "rules", "countersign-rules.yml"},
		{"test", "rules", "countersign-rules.test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// metricNames are the countersign_* metric names the code registers,
// found as string literals in its non-test Go files.
func metricNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	lit := regexp.MustCompile(`"(countersign_[a-z0-9_]+)"`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// notYetExported are metrics the monitoring files query before the code
// exports them, each with the change that adds it.
var notYetExported = map[string]string{
	"countersign_bypass_total": "the countersign/landing check (issue 12) counts bypasses",
}

// TestMonitoringQueriesExistingMetrics: every metric the alerting rules and
// the Grafana dashboard query is one Countersign exports.
func TestMonitoringQueriesExistingMetrics(t *testing.T) {
	exported := metricNames(t)
	if !exported["countersign_queue_depth"] || !exported["countersign_github_api_calls_total"] {
		t.Fatalf("metric names not found in the code: %v", exported)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile("grafana/countersign-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/countersign-dashboard.json: %v", err)
	}
	rules, err := os.ReadFile("prometheus/countersign-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{"prometheus/countersign-rules.yml": string(rules)}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs["dashboard panel "+p.Title] += tg.Expr + "\n"
		}
	}
	name := regexp.MustCompile(`countersign_[a-z0-9_]+`)
	queried := map[string]bool{}
	for where, e := range exprs {
		for _, m := range name.FindAllString(e, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				if strings.HasSuffix(m, suf) && exported[strings.TrimSuffix(m, suf)] {
					base = strings.TrimSuffix(m, suf)
				}
			}
			queried[base] = true
			if !exported[base] && notYetExported[base] == "" {
				t.Errorf("%s queries %s, which Countersign does not export", where, m)
			}
		}
	}
	// And the dashboard shows every metric family the server exports.
	var missing []string
	for n := range exported {
		if strings.HasSuffix(n, "_count") || strings.HasPrefix(n, "countersign_sandbox") || n == "countersign_delivery_dedup_entries" ||
			strings.HasPrefix(n, "countersign_queue_") && !queried[n] && (n == "countersign_queue_tasks" || n == "countersign_queue_dead_tasks" || n == "countersign_queue_latency_seconds") {
			continue
		}
		if !queried[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Logf("exported but on no dashboard panel or alert: %v", missing)
	}
}

// TestDeployFilesNameThePublishedImage: the image the Kubernetes files run
// is the one the release workflow publishes.
func TestDeployFilesNameThePublishedImage(t *testing.T) {
	wf, err := os.ReadFile("../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*IMAGE:\s*(\S+)`).FindSubmatch(wf)
	if m == nil {
		t.Fatal("release.yml sets no IMAGE")
	}
	image := string(m[1])
	for _, f := range []string{"kubernetes/base/deployment.yaml", "kubernetes/overlays/production/kustomization.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range regexp.MustCompile(`(?m)(?:image|name):\s*(\S*/\S+)`).FindAllStringSubmatch(string(b), -1) {
			repo, _, _ := strings.Cut(ref[1], ":")
			if strings.Contains(repo, "/") && repo != image {
				t.Errorf("%s names the image %s; the release workflow publishes %s", f, ref[1], image)
			}
		}
	}
}
