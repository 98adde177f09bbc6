package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/loadtest"
	"github.com/countersign/countersign/bot/replicas"
)

func runLoadtestCmd(args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := run(context.Background(), append([]string{"loadtest"}, args...), streams{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestLoadtestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--faults", "meteor"}, `--faults "meteor" is not one of`},
		{[]string{"--format", "xml"}, `--format "xml" is not table or json`},
		{[]string{"--rate", "0"}, "must be positive"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--senders", "0"}, "must be positive"},
		{[]string{"--server-process", "--faults", "5xx"}, "--server-process takes no --faults"},
		{[]string{"--faults", "replica-kill"}, "--faults replica-kill needs --replicas 2 or more"},
		{[]string{"--replicas", "1", "--faults", "replica-kill"}, "needs --replicas 2 or more"},
		{[]string{"--replicas", "2", "--faults", "5xx"}, "--replicas takes --faults none or replica-kill"},
		{[]string{"--replicas", "-1"}, "--replicas must be from 1 to 16"},
	} {
		code, _, errs := runLoadtestCmd(tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestLoadtestJSON: a tiny run reports in JSON and exits 0 when every
// verdict is right.
func TestLoadtestJSON(t *testing.T) {
	code, out, errs := runLoadtestCmd("--repos", "1", "--prs", "3", "--rate", "20", "--duration", "500ms", "--format", "json", "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var rep struct {
		Profile     string `json:"profile"`
		BeforeSweep struct {
			PullRequests int `json:"pull_requests"`
			Correct      int `json:"correct"`
		} `json:"before_sweep"`
		Load struct {
			Deliveries int `json:"deliveries"`
		} `json:"load"`
		Violations []string `json:"violations"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Profile != "none" || rep.BeforeSweep.PullRequests < 3 || rep.BeforeSweep.Correct != rep.BeforeSweep.PullRequests || rep.Load.Deliveries == 0 || len(rep.Violations) != 0 {
		t.Errorf("report: %+v", rep)
	}
}

// TestLoadtestServerProcess: with the bot as a separate 'countersign serve'
// process, the simulator's webhooks reach it, every verdict is right, and
// its own peak RSS is reported.
func TestLoadtestServerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := replicas.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.Options{Repos: 1, PRs: 3, Rate: 20, Duration: 500 * time.Millisecond, ServerBinary: bin})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || rep.BeforeSweep.PullRequests < 3 || rep.BeforeSweep.Correct != rep.BeforeSweep.PullRequests ||
		rep.Sync.Evaluations < 3 || rep.Load.Deliveries == 0 {
		t.Fatalf("report: sync %+v, load deliveries %d, verdicts %+v, problems %v", rep.Sync, rep.Load.Deliveries, rep.BeforeSweep, rep.Problems)
	}
	if runtime.GOOS == "linux" && rep.Memory.ServerPeakRSSMB <= 0 {
		t.Fatalf("no peak RSS for the server process: %+v", rep.Memory)
	}
}

// TestLoadtestReplicas: two 'countersign serve' processes sharing one
// redis-server behind the load test's round-robin balancer: the initial
// sync and the measured run reach both, every verdict is right without a
// sweep, and change to check is timed from their logs.
func TestLoadtestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run installs it, and CI runs the replica tests")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server): --replicas needs a real Redis")
	}
	bin, err := replicas.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.Options{Repos: 2, PRs: 6, Rate: 20, Duration: time.Second, ServerBinary: bin, Replicas: 2})
	if errors.Is(err, replicas.ErrNoRedisServer) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || rep.BeforeSweep.PullRequests < 6 || rep.BeforeSweep.Correct != rep.BeforeSweep.PullRequests ||
		rep.Sync.Evaluations < 6 || rep.Load.Deliveries == 0 || rep.Sweep != nil {
		t.Fatalf("report: sync %+v, load deliveries %d, verdicts %+v, violations %v, problems %v", rep.Sync, rep.Load.Deliveries, rep.BeforeSweep, rep.Violations, rep.Problems)
	}
	if rep.Load.ToCheckSamples == 0 || rep.Load.ToCheck["p99"] <= 0 {
		t.Errorf("change to check not measured from the replicas' logs: %d samples, %v", rep.Load.ToCheckSamples, rep.Load.ToCheck)
	}
	if rep.Load.Statuses["202"] == 0 {
		t.Errorf("no delivery acknowledged through the balancer: %v", rep.Load.Statuses)
	}
}
