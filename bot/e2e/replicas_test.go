package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/countersign/countersign/bot/githubsim"
	"github.com/countersign/countersign/bot/replicas"
)

// The multi-replica suite: three `countersign serve` processes (the real
// binary, built here) share one redis-server started by the test, behind a
// load balancer in the test that routes round-robin, duplicates deliveries
// or kills the replica that just acknowledged one, against the simulator.
// Its assertions read the whole history of check-run writes and comments.

// commandsOn lets approvers approve by comment; clusterPolicy is the repository's policy.
const (
	commandsOn    = "commands:\n  approve: true\n"
	clusterPolicy = policy + commandsOn
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// countersignBinary builds cmd/countersign once for the package's tests.
func countersignBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "countersign-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = replicas.Build(dir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// lockedBuf collects a process's log lines.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cluster is the replicas (bot/replicas), their Redis, the load balancer
// and the simulator.
type cluster struct {
	t     *testing.T
	bin   string
	args  []string
	sim   *githubsim.Sim
	redis string
	lb    *replicas.Balancer
	lbURL string
	inst  int64

	mu      sync.Mutex
	allLogs []*lockedBuf
	// killAfterAck, when set, picks deliveries whose replica is SIGKILLed
	// right after it answered 202.
	killAfterAck func(event string, body []byte) bool
	killed       []int
}

func newCluster(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	bin := countersignBinary(t)
	redisURL := fencetest.StartRedis(t)
	sim := githubsim.New(githubsim.Options{WebhookSecret: secret})
	t.Cleanup(sim.Close)
	base := sim.Start()
	dir := t.TempDir()
	keyFile, secretFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "secret")
	if err := os.WriteFile(keyFile, sim.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin, sim: sim, redis: redisURL, lb: replicas.NewBalancer(make([]*replicas.Process, n)...)}
	c.lb.SetAfter(c.afterAck)
	lb := httptest.NewServer(c.lb)
	t.Cleanup(lb.Close)
	c.lbURL = lb.URL
	c.args = append([]string{"--app-id", fmt.Sprint(sim.AppID()), "--private-key-file", keyFile,
		"--webhook-secret-file", secretFile, "--github-url", base, "--redis-url", redisURL,
		"--public-url", lb.URL, "--log-format", "json", "--drain-timeout", "5s"}, extra...)
	for i := range n {
		c.lb.Set(i, c.start())
	}
	t.Cleanup(func() {
		for _, p := range c.lb.Live() {
			p.Kill()
		}
	})
	sim.SetWebhook(lb.URL+"/webhook", secret)
	return c
}

// start runs one replica and waits for its /readyz.
func (c *cluster) start() *replicas.Process {
	c.t.Helper()
	logs := &lockedBuf{}
	c.mu.Lock()
	c.allLogs = append(c.allLogs, logs)
	c.mu.Unlock()
	p, err := replicas.Start(context.Background(), replicas.Options{Binary: c.bin, Args: c.args, Log: logs})
	if err != nil {
		c.t.Fatalf("%v:\n%s", err, logs)
	}
	return p
}

// afterAck SIGKILLs the replica that answered 202 to a delivery killAfterAck picks.
func (c *cluster) afterAck(f replicas.Forward) {
	c.mu.Lock()
	kill := c.killAfterAck
	c.mu.Unlock()
	if kill == nil || f.Status != http.StatusAccepted || !kill(f.Header.Get("X-GitHub-Event"), f.Body) {
		return
	}
	c.kill(f.Slot)
	c.mu.Lock()
	c.killed = append(c.killed, f.Slot)
	c.mu.Unlock()
}

// kill SIGKILLs replica i.
func (c *cluster) kill(i int) {
	if p := c.lb.Set(i, nil); p != nil {
		p.Kill()
	}
}

// restart stops replica i gracefully (SIGTERM: it drains) and starts a new one in its place.
func (c *cluster) restart(i int) {
	if p := c.lb.Set(i, nil); p != nil {
		p.Stop(time.Minute)
	}
	c.lb.Set(i, c.start())
}

// revive starts a replica in place of a killed one.
func (c *cluster) revive(i int) { c.lb.Set(i, c.start()) }

// eventually polls cond for up to d.
func (c *cluster) eventually(d time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			var ds strings.Builder
			for _, d := range c.sim.Deliveries() {
				fmt.Fprintf(&ds, " %s.%s=%d", d.Event, d.Action, d.Status)
			}
			c.t.Fatalf("not within %v: %s\nwrites: %s\ndeliveries:%s", d, what, c.writesText(), ds.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *cluster) writesText() string {
	var b strings.Builder
	for _, w := range c.sim.CheckRunWrites() {
		fmt.Fprintf(&b, "\n  %s %s id=%d %s %s %q", w.Method, w.HeadSHA[:7], w.ID, w.Status, w.Conclusion, w.Title)
	}
	return b.String()
}

// latest is the conclusion the head's latest countersign run shows ("" while not completed).
func (c *cluster) latest(head string) string {
	cr := c.sim.LatestCheckRun(repo, head, "countersign")
	if cr == nil || cr.GetStatus() != "completed" {
		return ""
	}
	return cr.GetConclusion()
}

// settle waits for the head's latest run to show want and every run of
// the head to be completed.
func (c *cluster) settle(head, want string) {
	c.t.Helper()
	c.eventually(90*time.Second, head[:7]+" shows "+want, func() bool {
		if c.latest(head) != want {
			return false
		}
		for _, cr := range c.sim.CheckRuns(repo, head) {
			if cr.GetName() == "countersign" && cr.GetStatus() != "completed" {
				return false
			}
		}
		return true
	})
}

// noDuplicateRuns: every run of head was created while no other run of
// the head was in progress, and none is left in progress.
func (c *cluster) noDuplicateRuns(head string) {
	c.t.Helper()
	open := map[int64]bool{}
	for _, w := range c.sim.CheckRunWrites() {
		if w.HeadSHA != head || w.Name != "countersign" {
			continue
		}
		if w.Method == http.MethodPost && len(open) > 0 {
			c.t.Errorf("a second countersign run (%d) was created on %s while %v was in progress%s", w.ID, head[:7], open, c.writesText())
		}
		if w.Status == "completed" {
			delete(open, w.ID)
		} else {
			open[w.ID] = true
		}
	}
	for _, cr := range c.sim.CheckRuns(repo, head) {
		if cr.GetName() == "countersign" && cr.GetStatus() != "completed" {
			c.t.Errorf("run %d on %s is left %s", cr.GetID(), head[:7], cr.GetStatus())
		}
	}
}

// neverPassed: no write ever set success on head.
func (c *cluster) neverPassed(head string) {
	c.t.Helper()
	for _, w := range c.sim.CheckRunWrites() {
		if w.HeadSHA == head && w.Name == "countersign" && w.Conclusion == "success" {
			c.t.Errorf("a pass was written on %s, which needs an approval%s", head[:7], c.writesText())
		}
	}
}

// logLines returns every replica's (past and present) JSON log lines with msg.
func (c *cluster) logLines(msg string) []time.Time {
	var out []time.Time
	for _, r := range c.records() {
		if r.Msg == msg {
			out = append(out, r.Time)
		}
	}
	return out
}

// records returns every replica's (past and present) JSON log records.
func (c *cluster) records() []replicas.Record {
	c.mu.Lock()
	bufs := append([]*lockedBuf(nil), c.allLogs...)
	c.mu.Unlock()
	var out []replicas.Record
	for _, b := range bufs {
		out = append(out, replicas.Records(b.String())...)
	}
	return out
}

func (c *cluster) setupRepo() {
	sim := c.sim
	sim.AddOrg("acme")
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		sim.AddUser(u)
	}
	sim.AddBot("claude[bot]", 209825114)
	sim.AddTeam("acme", "infra", "bob", "carol")
	sim.AddRepo(repo, map[string]string{"README.md": "# infra\n", "infra/main.tf": "x\n", "docs/guide.md": "Guide\n",
		".github/countersign.yml": clusterPolicy})
	for _, u := range []string{"alice", "bob", "dave"} {
		sim.SetPermission(repo, u, "write")
	}
	sim.SetPermission(repo, "carol", "read")
	c.inst = sim.Install("acme", repo)
}

func (c *cluster) agentPR(branch string) (int, string) {
	sha := c.sim.Push(repo, branch, githubsim.CommitSpec{Author: alice, Message: "Change " + branch + agentTrailer,
		Files: map[string]string{"infra/main.tf": branch + "\n"}})
	n := c.sim.OpenPR(repo, githubsim.PRSpec{Author: "claude[bot]", Head: branch, Base: "main", Title: "Change " + branch})
	return n, sha
}

func (c *cluster) humanDocsPR(branch string) (int, string) {
	sha := c.sim.Push(repo, branch, githubsim.CommitSpec{Author: dave, Message: "Docs " + branch,
		Files: map[string]string{"docs/guide.md": branch + "\n"}})
	n := c.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: branch, Base: "main", Title: "Docs " + branch})
	return n, sha
}

// pin sends every delivery to replica i (-1: round-robin again).
func (c *cluster) pin(i int) { c.lb.Pin(i) }

// nextSecond waits until the clock is in a later second than now: GitHub's
// timestamps have one second of precision, so a comment is known to follow
// an event only when written in a later second.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now) + 10*time.Millisecond)
}

// procOfConn returns the replica whose process owns the TCP connection
// whose local end is addr ("127.0.0.1:port"), or -1 (Linux: /proc).
func (c *cluster) procOfConn(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return -1
	}
	var inode string
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 {
				continue
			}
			if _, hexPort, ok := strings.Cut(fs[1], ":"); ok {
				if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && strconv.Itoa(int(p)) == port {
					inode = fs[9]
				}
			}
		}
	}
	if inode == "" {
		return -1
	}
	for i := range c.lb.Len() {
		p := c.lb.Get(i)
		if p == nil {
			continue
		}
		dir := fmt.Sprintf("/proc/%d/fd", p.Pid())
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && l == "socket:["+inode+"]" {
				return i
			}
		}
	}
	return -1
}

// holdPR takes pull request n's evaluation lock in Redis, as a replica
// does, so no replica evaluates it until release is called.
func (c *cluster) holdPR(n int) (release func()) {
	c.t.Helper()
	f, err := fence.Dial(context.Background(), c.redis)
	if err != nil {
		c.t.Fatal(err)
	}
	_, rel, err := f.Hold(context.Background(), fmt.Sprintf("%s#%d", repo, n))
	if err != nil {
		c.t.Fatal(err)
	}
	return func() { rel(); f.Close() }
}

// acknowledged waits until a pull_request delivery of action carrying head was answered 202.
func (c *cluster) acknowledged(action, head string) {
	c.t.Helper()
	c.eventually(30*time.Second, "pull_request."+action+" of "+head[:7]+" acknowledged", func() bool {
		for _, d := range c.sim.Deliveries() {
			if d.Event == "pull_request" && d.Action == action && d.Status == http.StatusAccepted && bytes.Contains(d.Body, []byte(head)) {
				return true
			}
		}
		return false
	})
}

// evaluatedAfter reports whether any replica logged an evaluation of pr
// with reason at head after t.
func (c *cluster) evaluatedAfter(pr int, reason, head string, t time.Time) bool {
	for _, r := range c.records() {
		if r.Msg == "evaluated" && r.PR == pr && r.Reason == reason && r.HeadSHA == head && r.Time.After(t) {
			return true
		}
	}
	return false
}

// passedAfter reports whether a pass was written on head after the k-th write.
func (c *cluster) passedAfter(head string, k int) bool {
	for _, w := range c.sim.CheckRunWrites()[k:] {
		if w.HeadSHA == head && w.Name == "countersign" && w.Conclusion == "success" {
			return true
		}
	}
	return false
}

// appComments are the comments the app wrote on a pull request.
func (c *cluster) appComments(n int) int {
	k := 0
	for _, cm := range c.sim.Comments(repo, n) {
		if strings.HasSuffix(cm.GetUser().GetLogin(), "[bot]") && cm.GetUser().GetLogin() != "claude[bot]" {
			k++
		}
	}
	return k
}

// TestReplicas runs the acceptance of issue 15 on one cluster of three
// replicas, one scenario after another.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three countersign processes and redis-server")
	}
	c := newCluster(t, 3, "--sweep-interval", "4s", "--redeliver-interval", "4s", "--workers", "2")
	c.setupRepo()
	start := time.Now()

	t.Run("round-robin: opened, labeled and a review on different replicas", func(t *testing.T) {
		c.t = t
		n, head := c.agentPR("claude/rr")
		c.sim.AddLabel(repo, n, "infra", "alice")
		c.settle(head, "action_required")
		c.sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")
		c.settle(head, "success")
		c.noDuplicateRuns(head)
	})

	t.Run("policy-tightening push handled by a replica killed right after its 202", func(t *testing.T) {
		c.t = t
		var heads []string
		for i := range 3 {
			_, h := c.humanDocsPR(fmt.Sprintf("docs/%d", i))
			heads = append(heads, h)
		}
		for _, h := range heads {
			c.settle(h, "success")
		}
		c.mu.Lock()
		c.killAfterAck = func(event string, body []byte) bool {
			return event == "push" && bytes.Contains(body, []byte(`"ref":"refs/heads/main"`))
		}
		c.mu.Unlock()
		tighter := policy + `    - name: docs
      paths: ["docs/**"]
      approvers:
        teams: [acme/infra]
` + commandsOn
		c.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Protect docs",
			Files: map[string]string{".github/countersign.yml": tighter}})
		c.eventually(30*time.Second, "a replica killed after acknowledging the push", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return len(c.killed) > 0
		})
		c.mu.Lock()
		c.killAfterAck = nil
		killed := c.killed[0]
		c.mu.Unlock()
		for _, h := range heads {
			c.settle(h, "action_required")
		}
		t.Logf("every open PR under the new policy %v after the kill", time.Since(start).Round(time.Second))
		c.revive(killed)
	})

	t.Run("policy-tightening push handled by a replica killed mid fan-out", func(t *testing.T) {
		c.t = t
		var heads []string
		for i := range 3 {
			sha := c.sim.Push(repo, fmt.Sprintf("web/%d", i), githubsim.CommitSpec{Author: dave, Message: "Web",
				Files: map[string]string{"web/index.html": fmt.Sprint(i)}})
			c.sim.OpenPR(repo, githubsim.PRSpec{Author: "dave", Head: fmt.Sprintf("web/%d", i), Base: "main", Title: "Web"})
			heads = append(heads, sha)
		}
		for _, h := range heads {
			c.settle(h, "success")
		}
		// The first verdict written after the push is held at the
		// simulator: its replica has started a run and judged the pull
		// request, and is SIGKILLed before the verdict is written.
		held := make(chan string, 1)
		release := make(chan struct{})
		var once sync.Once
		remove := c.sim.Inject(githubsim.Fault{Method: http.MethodPatch, Route: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
			Hold: func(r *http.Request, body []byte) {
				if !bytes.Contains(body, []byte(`"name":"countersign"`)) || !bytes.Contains(body, []byte(`"status":"completed"`)) {
					return
				}
				first := false
				once.Do(func() { first = true })
				if first {
					held <- r.RemoteAddr + " " + r.URL.Path
					<-release
					select { // the connection closes with the killed replica
					case <-r.Context().Done():
					case <-time.After(5 * time.Second):
					}
				}
			}})
		defer remove()
		tighter := policy + `    - name: docs
      paths: ["docs/**"]
      approvers:
        teams: [acme/infra]
    - name: web
      paths: ["web/**"]
      approvers:
        teams: [acme/infra]
` + commandsOn
		c.sim.Push(repo, "main", githubsim.CommitSpec{Author: dave, Message: "Protect web",
			Files: map[string]string{".github/countersign.yml": tighter}})
		var caller string
		select {
		case caller = <-held:
		case <-time.After(60 * time.Second):
			t.Fatalf("no verdict was written within 60s of the policy push%s", c.writesText())
		}
		caller, heldPath, _ := strings.Cut(caller, " ")
		t.Logf("held %s from %s", heldPath, caller)
		victim := c.procOfConn(caller)
		if victim < 0 {
			close(release)
			t.Fatalf("no replica owns the connection %s", caller)
		}
		killed := time.Now()
		c.kill(victim)
		close(release)
		for _, h := range heads {
			c.settle(h, "action_required")
			c.noDuplicateRuns(h)
		}
		t.Logf("replica %d killed mid fan-out; every open PR under the new policy %v later", victim, time.Since(killed).Round(time.Second))
		c.revive(victim)
	})

	t.Run("rolling restart of every replica while reviews arrive: no approval lost", func(t *testing.T) {
		c.t = t
		var prs []int
		var heads []string
		for i := range 3 {
			n, h := c.agentPR(fmt.Sprintf("claude/roll%d", i))
			prs, heads = append(prs, n), append(heads, h)
		}
		for _, h := range heads {
			c.settle(h, "action_required")
		}
		for i := range 3 {
			c.sim.SubmitReview(repo, prs[i], "bob", "APPROVE", "ok")
			c.restart(i)
		}
		for _, h := range heads {
			c.settle(h, "success")
			c.noDuplicateRuns(h)
		}
	})

	t.Run("a comment approval never counts for another head, on any replica, across restarts", func(t *testing.T) {
		c.t = t
		defer c.pin(-1)
		n, _ := c.agentPR("claude/return")
		// bob approves right after a push, before any replica has evaluated
		// it (the PR's lock is held meanwhile): the approval binds to when
		// the push was received, not to the later start of the head's check.
		release := c.holdPR(n)
		c.pin(0)
		headA := c.sim.Push(repo, "claude/return", githubsim.CommitSpec{Author: alice, Message: "Second try" + agentTrailer,
			Files: map[string]string{"infra/main.tf": "second\n"}})
		c.acknowledged("synchronize", headA)
		nextSecond()
		c.sim.Comment(repo, n, "bob", "/countersign approve")
		nextSecond()
		release()
		c.settle(headA, "success")

		c.pin(1)
		headB := c.sim.Push(repo, "claude/return", githubsim.CommitSpec{Author: alice, Message: "Another try" + agentTrailer,
			Files: map[string]string{"infra/main.tf": "other\n"}})
		c.settle(headB, "action_required")
		c.pin(2)
		back := len(c.sim.CheckRunWrites())
		c.sim.ForcePush(repo, "claude/return", headA, "alice")
		c.settle(headA, "action_required")

		c.pin(-1)
		restarted := time.Now()
		for i := range 3 {
			c.restart(i)
		}
		// Evaluated again on a restarted replica (a label): the old approval still does not count.
		c.sim.AddLabel(repo, n, "after-restart", "alice")
		c.eventually(60*time.Second, "an evaluation after every replica restarted", func() bool {
			return c.evaluatedAfter(n, "pull_request.labeled", headA, restarted)
		})
		c.neverPassed(headB)
		if c.passedAfter(headA, back) {
			t.Errorf("A passed after the force-push back on the approval written before the move away%s", c.writesText())
		}
		if got := c.latest(headA); got != "action_required" {
			t.Errorf("A shows %q after the restarts, want action_required", got)
		}

		// A fresh approval after the return counts.
		nextSecond()
		c.sim.Comment(repo, n, "bob", "/countersign approve")
		c.settle(headA, "success")
		c.noDuplicateRuns(headA)
		c.noDuplicateRuns(headB)
	})

	t.Run("the details link works on every replica and after all restarted", func(t *testing.T) {
		c.t = t
		_, head := c.agentPR("claude/details")
		c.settle(head, "action_required")
		link := c.sim.LatestCheckRun(repo, head, "countersign").GetDetailsURL()
		if !strings.HasPrefix(link, c.lbURL+"/details/") {
			t.Fatalf("details link %q is not under the public URL %s", link, c.lbURL)
		}
		check := func(when string) {
			for i, p := range c.lb.Live() {
				resp, err := http.Get("http://" + p.Addr + strings.TrimPrefix(link, c.lbURL))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "action_required") {
					t.Errorf("%s, replica %d answers the details link with %d:\n%.300s", when, i, resp.StatusCode, b)
				}
			}
		}
		check("before restarts")
		for i := range 3 {
			c.restart(i)
		}
		check("after every replica restarted")
	})

	t.Run("one sweep and one redelivery per interval across the cluster", func(t *testing.T) {
		c.t = t
		// The scenarios above may take less than two intervals: the cluster
		// must have lived through at least two clock-aligned ones.
		if wait := 9*time.Second - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		for _, msg := range []string{"sweep: installations queued", "redelivery: done"} {
			per := map[int64]int{}
			for _, at := range c.logLines(msg) {
				per[at.UnixNano()/int64(4*time.Second)]++
			}
			if len(per) < 2 {
				t.Errorf("%q: ran in %d intervals over %v, want at least 2", msg, len(per), time.Since(start).Round(time.Second))
			}
			for b, k := range per {
				if k > 1 {
					t.Errorf("%q: %d times in the interval starting %v, want 1", msg, k, time.Unix(0, b*int64(4*time.Second)))
				}
			}
		}
	})
}

// commandScenario is one pull request's life: opened, a refused command
// (carol has read permission: the app answers her once), an approving
// review, then quiet. It returns the pull request and its head.
func (c *cluster) commandScenario(branch string) (int, string) {
	c.t.Helper()
	n, head := c.agentPR(branch)
	c.settle(head, "action_required")
	c.sim.Comment(repo, n, "carol", "/countersign approve")
	c.eventually(60*time.Second, "the reply to carol", func() bool { return c.appComments(n) >= 1 })
	c.sim.SubmitReview(repo, n, "bob", "APPROVE", "ok")
	c.settle(head, "success")
	c.quiet()
	return n, head
}

// quiet waits until the simulator has served no call for a second and a half
// (a second processing of a delivery would have called by then).
func (c *cluster) quiet() {
	last, since := len(c.sim.Calls()), time.Now()
	for time.Since(since) < 1500*time.Millisecond {
		time.Sleep(100 * time.Millisecond)
		if k := len(c.sim.Calls()); k != last {
			last, since = k, time.Now()
		}
	}
}

// TestReplicasDuplicatedDeliveries: every delivery sent to two replicas is
// processed once: one reply per command, no duplicated check run, none left
// in progress, and the API calls of a pull request's life at most 1.1 times
// those of the same life delivered once. Its cluster neither sweeps nor
// redelivers periodically, so every call counted is a delivery's.
func TestReplicasDuplicatedDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two countersign processes and redis-server")
	}
	c := newCluster(t, 2, "--sweep-interval", "0", "--redeliver-interval", "0", "--workers", "2")
	c.setupRepo()
	c.commandScenario("claude/warm") // fills both replicas' caches and tokens

	from := len(c.sim.Calls())
	c.commandScenario("claude/once")
	once := c.sim.Calls()[from:]

	c.lb.SetCopies(2)
	from = len(c.sim.Calls())
	n, head := c.commandScenario("claude/dup")
	twice := c.sim.Calls()[from:]

	if k := c.appComments(n); k != 1 {
		t.Errorf("%d replies to one command delivered to two replicas, want 1", k)
	}
	c.noDuplicateRuns(head)
	routes := func(calls []githubsim.Call) map[string]int {
		m := map[string]int{}
		for _, cl := range calls {
			m[cl.Method+" "+cl.Route]++
		}
		return m
	}
	t.Logf("API calls of one pull request's life: %d delivered once, %d with every delivery sent to two replicas", len(once), len(twice))
	if float64(len(twice)) > 1.1*float64(len(once)) {
		t.Errorf("every delivery sent to two replicas cost %d API calls, over 1.1x the %d of one delivery each\nonce:  %v\ntwice: %v",
			len(twice), len(once), routes(once), routes(twice))
	}
}
