package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
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
