package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/countersign/countersign/bot/server"
)

// child is the bot run as its own process ('countersign serve'), so that its
// memory is measured apart from the simulator's.
type child struct {
	cmd     *exec.Cmd
	addr    string // host:port it serves the webhook on
	opsAddr string // host:port it serves the probes and /metrics on
	dir     string // holds the private key file
	done    chan error
}

// startChild starts 'bin serve' configured through COUNTERSIGN_* variables
// to talk to the simulator, and waits until it is ready.
func (l *run) startChild(ctx context.Context) (*child, error) {
	dir, err := os.MkdirTemp("", "countersign-loadtest-")
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, l.sim.PrivateKeyPEM(), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Free loopback ports: taken and released, then given to the child.
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	addr, metrics := addrs[0], addrs[1]
	cmd := exec.Command(l.opt.ServerBinary, "serve")
	cmd.Env = append(os.Environ(),
		"COUNTERSIGN_APP_ID="+strconv.FormatInt(l.sim.AppID(), 10),
		"COUNTERSIGN_PRIVATE_KEY_FILE="+keyFile,
		"COUNTERSIGN_WEBHOOK_SECRET="+l.secret,
		"COUNTERSIGN_GITHUB_URL="+l.base,
		"COUNTERSIGN_LISTEN="+addr,
		"COUNTERSIGN_METRICS_LISTEN="+metrics,
		"COUNTERSIGN_WORKERS="+strconv.Itoa(l.opt.Workers),
		"COUNTERSIGN_QUEUE_SIZE="+strconv.Itoa(l.opt.QueueSize),
		"COUNTERSIGN_LOG_LEVEL=warn",
		"COUNTERSIGN_LOG_FORMAT=text",
		"COUNTERSIGN_SWEEP_INTERVAL=0",
		"COUNTERSIGN_REDELIVER_WINDOW=0",
	)
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	if l.opt.Log != nil {
		cmd.Stderr = l.opt.Log
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadtest: starting %s serve: %w", l.opt.ServerBinary, err)
	}
	c := &child{cmd: cmd, addr: addr, opsAddr: metrics, dir: dir, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case err := <-c.done:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("loadtest: the server process exited before it was ready: %v", err)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, errors.New("loadtest: the server process was not ready within 30s")
		}
	}
}

// url is where the simulator posts webhooks to the child.
func (c *child) url() string { return "http://" + c.addr + "/webhook" }

// stop terminates the child (SIGTERM, then SIGKILL after 10 s) and removes its key.
func (c *child) stop() {
	defer os.RemoveAll(c.dir)
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// status reads a field of /proc/<pid>/status in MB (VmHWM: the peak resident
// set; VmRSS: the current one), or 0 where there is no /proc.
func (c *child) status(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// metrics sums each of the child's metrics named in want (over all labels).
func (c *child) metrics(want ...string) (map[string]float64, error) {
	resp, err := http.Get("http://" + c.opsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range want {
			if rest, ok := strings.CutPrefix(line, w); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
				f := strings.Fields(line)
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
					out[w] += v
				}
			}
		}
	}
	return out, sc.Err()
}

// deliveries is how many webhooks the child has received.
func (c *child) deliveries() int64 {
	m, err := c.metrics("countersign_webhook_deliveries_total")
	if err != nil {
		return 0
	}
	return int64(m["countersign_webhook_deliveries_total"])
}

// settleChild waits until the simulator has sent every webhook and the child
// has nothing queued or running, three polls in a row.
func (l *run) settleChild(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	quiet := 0
	last := int64(-1)
	for {
		if err := l.sim.WaitDeliveries(ctx); err != nil {
			return fmt.Errorf("webhooks still queued in the simulator: %w", err)
		}
		m, err := l.child.metrics(append([]string{"countersign_webhook_deliveries_total"}, server.IdleGauges...)...)
		idle := err == nil && server.IdleIn(func(name string) (float64, error) {
			v, ok := m[name]
			if !ok {
				return 0, fmt.Errorf("the server process does not export %s", name)
			}
			return v, nil
		})
		if idle && int64(m["countersign_webhook_deliveries_total"]) == last {
			quiet++
			if quiet >= 3 {
				return nil
			}
		} else {
			quiet = 0
		}
		if err == nil {
			last = int64(m["countersign_webhook_deliveries_total"])
		}
		select {
		case <-ctx.Done():
			return errors.New("work still queued after " + timeout.String())
		case err := <-l.child.done:
			l.child.done <- err
			return fmt.Errorf("the server process exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// evaluations is how many evaluations the child has finished.
func (c *child) evaluations() int64 {
	m, err := c.metrics("countersign_evaluation_duration_seconds_count")
	if err != nil {
		return 0
	}
	return int64(m["countersign_evaluation_duration_seconds_count"])
}
