// Package replicas runs Countersign as separate `countersign serve`
// processes on loopback, as the multi-replica end-to-end suite (bot/e2e)
// and the load test (`countersign loadtest --replicas N`) need them: a
// redis-server they share, each replica with its webhook and metrics
// listeners, and a round-robin load balancer in front of them.
package replicas

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

	"github.com/redis/go-redis/v9"
)

// ErrNoRedisServer is returned by StartRedis when redis-server is not installed.
var ErrNoRedisServer = errors.New("redis-server is not installed (apt-get install -y redis-server)")

// Redis is a redis-server process on a free loopback port, without persistence.
type Redis struct {
	// URL is its redis:// URL.
	URL string
	cmd *exec.Cmd
}

// StartRedis starts redis-server and waits until it answers.
func StartRedis(ctx context.Context) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoRedisServer
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("replicas: starting redis-server: %w", err)
	}
	r := &Redis{URL: "redis://" + addr + "/0", cmd: cmd}
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		r.Close()
		return nil, err
	}
	c := redis.NewClient(opt)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.Close()
			return nil, errors.New("replicas: redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r, nil
}

// Close kills redis-server.
func (r *Redis) Close() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Build compiles cmd/countersign into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "countersign")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/countersign/countersign/cmd/countersign").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Options configures one replica.
type Options struct {
	// Binary is the countersign binary.
	Binary string
	// Args follow "serve"; Start adds --listen and --metrics-listen.
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Log receives the replica's standard output and error; nil discards them.
	Log io.Writer
	// ReadyTimeout bounds the wait for /readyz; default 30s.
	ReadyTimeout time.Duration
}

// Process is one running `countersign serve`.
type Process struct {
	// Addr is its webhook listener; MetricsAddr its probes and /metrics.
	Addr, MetricsAddr string
	cmd               *exec.Cmd
	done              chan struct{}
	err               error
}

// Start runs `Binary serve Args... --listen A --metrics-listen M` on free
// loopback ports and waits until its /readyz answers 200.
func Start(ctx context.Context, o Options) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{"serve"}, o.Args...), "--listen", addr, "--metrics-listen", metrics)
	cmd := exec.Command(o.Binary, args...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if o.Log != nil {
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("replicas: starting %s serve: %w", o.Binary, err)
	}
	p := &Process{Addr: addr, MetricsAddr: metrics, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + metrics + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("replicas: the server process exited before it was ready: %v", p.err)
		case <-ctx.Done():
			p.Kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("replicas: the server process was not ready within %v", timeout)
		}
	}
}

// WebhookURL is where deliveries are posted to this replica.
func (p *Process) WebhookURL() string { return "http://" + p.Addr + "/webhook" }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process exited; valid once Done is closed.
func (p *Process) Err() error { return p.err }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill SIGKILLs the process, as a crash or an OOM kill would, and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM (the replica drains) and SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Status reads a field of /proc/<pid>/status in MB (VmHWM: the peak
// resident set; VmRSS: the current one), or 0 where there is no /proc.
func (p *Process) Status(field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
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

// Metrics scrapes the replica's /metrics and sums each metric named in
// want over all its labels; a metric it does not export is absent.
func (p *Process) Metrics(want ...string) (map[string]float64, error) {
	resp, err := http.Get("http://" + p.MetricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("replicas: /metrics answered %d", resp.StatusCode)
	}
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
