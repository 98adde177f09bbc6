// Package deploy_test holds the deployment files (Dockerfile, Kubernetes,
// systemd) to the binary: the settings, port, probes and build flags they
// name must be the ones the code has. Docker and kubectl are not needed.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/server"
	"go.yaml.in/yaml/v3"
)

// knownSettings are the environment variables serve reads, from its usage.
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	var b bytes.Buffer
	server.SettingsUsage(&b)
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`COUNTERSIGN_[A-Z0-9_]+`).FindAllString(b.String(), -1) {
		out[m] = true
	}
	if len(out) < 5 {
		t.Fatalf("found only %d settings in serve's usage:\n%s", len(out), b.String())
	}
	return out
}

// nopBackend lets a real server answer its routes.
type nopBackend struct{}

func (nopBackend) Evaluate(context.Context, server.Job) error { return nil }
func (nopBackend) OpenPullRequests(context.Context, int64, string, string) ([]server.Job, error) {
	return nil, nil
}
func (nopBackend) InstallationRepos(context.Context, int64) ([]string, error) { return nil, nil }

// serverStatus is what the real server answers a GET of path once ready, on
// the webhook listener (ops false) or the metrics listener (ops true).
func serverStatus(t *testing.T, path string, ops bool) int {
	t.Helper()
	srv, err := server.New(server.Options{Backend: nopBackend{}, WebhookSecret: []byte("x"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	srv.SetReady(true)
	rec := httptest.NewRecorder()
	var h http.Handler = srv
	if ops {
		h = srv.OpsHandler()
	}
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

// portOf is the port of a host:port address.
func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func yamlDocs(t *testing.T, file string) []map[string]any {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// dig walks maps and lists ("containers.0.env").
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestKubernetesManifestsParseAndKustomizationsListRealFiles(t *testing.T) {
	for _, dir := range []string{"kubernetes/base", "kubernetes/overlays/production", "kubernetes/overlays/ha"} {
		k := yamlDocs(t, filepath.Join(dir, "kustomization.yaml"))
		if len(k) != 1 {
			t.Fatalf("%s: %d documents", dir, len(k))
		}
		res, _ := k[0]["resources"].([]any)
		for _, r := range res {
			p := filepath.Join(dir, r.(string))
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s lists %s: %v", dir, r, err)
				continue
			}
			if !fi.IsDir() {
				for _, d := range yamlDocs(t, p) {
					if d["apiVersion"] == nil || d["kind"] == nil {
						t.Errorf("%s: a document without apiVersion or kind", p)
					}
				}
			}
		}
		patches, _ := k[0]["patches"].([]any)
		for _, pt := range patches {
			if p, _ := dig(pt, "path").(string); p != "" {
				yamlDocs(t, filepath.Join(dir, p))
			}
		}
	}
}

func deployment(t *testing.T, file string) map[string]any {
	t.Helper()
	for _, d := range yamlDocs(t, file) {
		if d["kind"] == "Deployment" {
			return d
		}
	}
	t.Fatalf("%s: no Deployment", file)
	return nil
}

func envOf(c any) map[string]any {
	out := map[string]any{}
	list, _ := dig(c, "env").([]any)
	for _, e := range list {
		out[dig(e, "name").(string)] = e
	}
	return out
}

func TestDeploymentMatchesTheServer(t *testing.T) {
	known := knownSettings(t)
	d := deployment(t, "kubernetes/base/deployment.yaml")
	pod := dig(d, "spec.template.spec")
	c := dig(pod, "containers.0")

	// Settings: only ones serve knows; the secrets come from the Secret.
	env := envOf(c)
	for name := range env {
		if !known[name] {
			t.Errorf("the Deployment sets %s, which serve does not read", name)
		}
	}
	for _, name := range []string{"COUNTERSIGN_APP_ID", "COUNTERSIGN_WEBHOOK_SECRET"} {
		if dig(env[name], "valueFrom.secretKeyRef.name") != "countersign" {
			t.Errorf("%s does not come from the Secret", name)
		}
		if dig(env[name], "value") != nil {
			t.Errorf("%s has a literal value", name)
		}
	}
	keyFile, _ := dig(env["COUNTERSIGN_PRIVATE_KEY_FILE"], "value").(string)
	mounted := false
	for _, m := range dig(c, "volumeMounts").([]any) {
		mp := dig(m, "mountPath").(string)
		if filepath.Dir(keyFile) != mp {
			continue
		}
		for _, v := range dig(pod, "volumes").([]any) {
			if dig(v, "name") == dig(m, "name") && dig(v, "secret.secretName") == "countersign" {
				for _, it := range dig(v, "secret.items").([]any) {
					mounted = mounted || dig(it, "path") == filepath.Base(keyFile)
				}
			}
		}
	}
	if !mounted {
		t.Errorf("COUNTERSIGN_PRIVATE_KEY_FILE=%q is not a file of the mounted Secret", keyFile)
	}

	// Ports: the ones serve listens on, the webhook's named http and the
	// probes' and metrics' named metrics.
	listen, _ := dig(env["COUNTERSIGN_LISTEN"], "value").(string)
	if listen == "" {
		listen = server.DefaultListen
	}
	metricsListen, _ := dig(env["COUNTERSIGN_METRICS_LISTEN"], "value").(string)
	if metricsListen == "" {
		metricsListen = server.DefaultMetricsListen
	}
	if host := strings.TrimSuffix(metricsListen, ":"+portOf(metricsListen)); host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("COUNTERSIGN_METRICS_LISTEN=%q: the kubelet's probes and Prometheus reach the pod's IP, not %s", metricsListen, host)
	}
	ports := map[string]string{}
	for _, p := range dig(c, "ports").([]any) {
		ports[dig(p, "name").(string)] = strconv.Itoa(dig(p, "containerPort").(int))
	}
	if ports["http"] != portOf(listen) {
		t.Errorf("container port http is %q, but serve listens on %s", ports["http"], listen)
	}
	if ports["metrics"] != portOf(metricsListen) {
		t.Errorf("container port metrics is %q, but serve serves the probes and metrics on %s", ports["metrics"], metricsListen)
	}

	// Probes: the server's real endpoints, on the metrics listener; the
	// webhook listener does not answer them.
	for probe, want := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
		p, _ := dig(c, probe+".httpGet.path").(string)
		if p != want {
			t.Errorf("%s on %q, want %s", probe, p, want)
		}
		if st := serverStatus(t, p, true); st != http.StatusOK {
			t.Errorf("%s: the metrics listener answers %s with %d", probe, p, st)
		}
		if st := serverStatus(t, p, false); st != http.StatusNotFound {
			t.Errorf("%s: the webhook listener answers %s with %d, want 404", probe, p, st)
		}
		if dig(c, probe+".httpGet.port") != "metrics" {
			t.Errorf("%s is not on the metrics port", probe)
		}
	}
	ann, _ := dig(d, "spec.template.metadata.annotations").(map[string]any)
	if ann["prometheus.io/port"] != portOf(metricsListen) {
		t.Errorf("prometheus.io/port annotation %v, but /metrics is served on %s", ann["prometheus.io/port"], metricsListen)
	}
	if path, _ := ann["prometheus.io/path"].(string); serverStatus(t, path, true) != http.StatusOK {
		t.Errorf("prometheus.io/path %q is not served on the metrics listener", path)
	}

	// Graceful shutdown: the grace period outlasts the drain.
	checkGrace(t, "base", pod, env, 30*time.Second)
	patch := deployment(t, "kubernetes/overlays/production/deployment-patch.yaml")
	ppod := dig(patch, "spec.template.spec")
	penv := envOf(dig(ppod, "containers.0"))
	for name := range penv {
		if !known[name] {
			t.Errorf("the production patch sets %s, which serve does not read", name)
		}
	}
	if _, ok := penv["COUNTERSIGN_DRAIN_TIMEOUT"]; ok {
		checkGrace(t, "production", ppod, penv, 0)
	}

	// Restricted security context.
	for path, want := range map[string]any{
		"securityContext.runAsNonRoot":                          true,
		"securityContext.seccompProfile.type":                   "RuntimeDefault",
		"automountServiceAccountToken":                          false,
		"containers.0.securityContext.readOnlyRootFilesystem":   true,
		"containers.0.securityContext.allowPrivilegeEscalation": false,
		"containers.0.securityContext.capabilities.drop.0":      "ALL",
	} {
		if got := dig(pod, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	for _, r := range []string{"requests.cpu", "requests.memory", "limits.memory"} {
		if dig(c, "resources."+r) == nil {
			t.Errorf("no resources.%s", r)
		}
	}
	if dig(d, "spec.replicas") != 1 || dig(d, "spec.strategy.type") != "Recreate" {
		t.Error("more than one replica at a time: the server is correct with one (docs/operations.md)")
	}
}

func checkGrace(t *testing.T, name string, pod any, env map[string]any, def time.Duration) {
	t.Helper()
	drain := def
	if v, ok := dig(env["COUNTERSIGN_DRAIN_TIMEOUT"], "value").(string); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: COUNTERSIGN_DRAIN_TIMEOUT %q: %v", name, v, err)
		}
		drain = d
	}
	grace, _ := dig(pod, "terminationGracePeriodSeconds").(int)
	// The server also waits up to 5s for open requests after the drain.
	if time.Duration(grace)*time.Second <= drain+5*time.Second {
		t.Errorf("%s: terminationGracePeriodSeconds %d does not outlast the drain timeout %v plus 5s", name, grace, drain)
	}
}

func TestServiceAndPDBSelectThePod(t *testing.T) {
	for _, f := range []string{"kubernetes/base/service.yaml", "kubernetes/base/poddisruptionbudget.yaml"} {
		for _, d := range yamlDocs(t, f) {
			if d["kind"] == "Service" {
				// Only the webhook listener; the probes and metrics stay on the pod.
				for _, p := range dig(d, "spec.ports").([]any) {
					if dig(p, "targetPort") != "http" {
						t.Errorf("%s: the Service carries port %v; only the container's http port (POST /webhook) belongs there", f, dig(p, "targetPort"))
					}
				}
			}
			if d["kind"] == "PodDisruptionBudget" {
				if labels, _ := dig(d, "spec.selector.matchLabels").(map[string]any); labels["app.kubernetes.io/name"] != "countersign" {
					t.Errorf("%s: no selector", f)
				}
				if dig(d, "spec.minAvailable") == 1 {
					t.Errorf("%s: minAvailable 1 with one replica blocks every drain", f)
				}
			}
		}
	}
}

// makeBuild is the Makefile's build command: flags and package.
func makeBuild(t *testing.T) (flags, pkg string) {
	t.Helper()
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^build:\s*\n\t\$\(GO\) build (.*?)-o \$\(BIN\) (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no build target in the Makefile")
	}
	return strings.TrimSpace(string(m[1])), string(m[2])
}

func TestDockerfileBuildsLikeTheMakefile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	flags, pkg := makeBuild(t)
	m := regexp.MustCompile(`(?m)^RUN CGO_ENABLED=0 go build (.*?)-o (\S+) (\S+)$`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build ... -o OUT PKG` in the Dockerfile")
	}
	if strings.TrimSpace(m[1]) != flags || m[3] != pkg {
		t.Errorf("Dockerfile builds %q %s, the Makefile %q %s", m[1], m[3], flags, pkg)
	}
	if !strings.Contains(df, "COPY --from=build "+m[2]+" ") {
		t.Errorf("the final stage does not copy the built %s", m[2])
	}
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 {
		t.Fatal("not a multi-stage build")
	}
	final := stages[len(stages)-1][1]
	if !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("final base %s: want distroless static (CA certificates, no shell)", final)
	}
	if u := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(df); u == nil || strings.HasPrefix(u[1], "0") || strings.HasPrefix(u[1], "root") {
		t.Errorf("the image does not run as a non-root user")
	}
	if !regexp.MustCompile(`(?m)^EXPOSE 8080$`).MatchString(df) || !strings.HasSuffix(server.DefaultListen, ":8080") {
		t.Errorf("EXPOSE does not match the default listen address %s", server.DefaultListen)
	}
	// In a container the loopback default is unreachable for probes: the
	// image listens for them on every interface, on a port it does not
	// EXPOSE (so `docker run -P` does not publish the metrics).
	if m := regexp.MustCompile(`(?m)^ENV COUNTERSIGN_METRICS_LISTEN=(\S+)$`).FindStringSubmatch(df); m == nil || !strings.HasPrefix(m[1], ":") {
		t.Error("the image does not set COUNTERSIGN_METRICS_LISTEN=:PORT (the loopback default cannot be probed from outside the container)")
	} else if regexp.MustCompile(`(?m)^EXPOSE .*\b` + portOf(m[1]) + `\b`).MatchString(df) {
		t.Errorf("the image EXPOSEs the metrics port %s", portOf(m[1]))
	}
	if !strings.Contains(df, `CMD ["serve"]`) {
		t.Error("the image does not run serve")
	}
	gomod, _ := os.ReadFile("../go.mod")
	gv := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if gv == nil || !strings.Contains(df, "ARG GO_VERSION="+string(gv[1])+"\n") {
		t.Errorf("the Dockerfile's GO_VERSION is not go.mod's go %s", gv[1])
	}
}

func TestSystemdUnitIsHardenedAndRunsServe(t *testing.T) {
	known := knownSettings(t)
	b, err := os.ReadFile("systemd/countersign.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("not Key=Value: %q", l)
			continue
		}
		unit[k] = append(unit[k], v)
	}
	for k, want := range map[string]string{"DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
		"ExecStart": "/usr/local/bin/countersign serve", "EnvironmentFile": "/etc/countersign/countersign.env", "CapabilityBoundingSet": ""} {
		if len(unit[k]) != 1 || unit[k][0] != want {
			t.Errorf("%s=%v, want %q", k, unit[k], want)
		}
	}
	if stop, err := time.ParseDuration(strings.Join(unit["TimeoutStopSec"], "")); err != nil || stop <= server.DefaultDrainTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec %v does not outlast the default drain timeout %v plus 5s", unit["TimeoutStopSec"], server.DefaultDrainTimeout)
	}
	for _, v := range unit["Environment"] {
		if name, _, _ := strings.Cut(v, "="); !known[name] {
			t.Errorf("Environment=%s: serve does not read it", v)
		}
	}

	ex, err := os.ReadFile("systemd/countersign.env.example")
	if err != nil {
		t.Fatal(err)
	}
	sc = bufio.NewScanner(bytes.NewReader(ex))
	names := map[string]bool{}
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, _, ok := strings.Cut(l, "=")
		if !ok || !known[name] {
			t.Errorf("env example: %q is not a setting serve reads", l)
		}
		names[name] = true
	}
	for _, must := range []string{"COUNTERSIGN_APP_ID", "COUNTERSIGN_WEBHOOK_SECRET", "COUNTERSIGN_PRIVATE_KEY", "COUNTERSIGN_METRICS_LISTEN"} {
		if !names[must] {
			t.Errorf("env example lacks %s", must)
		}
	}
}
