package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findBrowser returns a Chromium or Chrome binary: $COUNTERSIGN_CHROMIUM,
// Debian's /usr/bin/chromium, or one on $PATH.
func findBrowser() string {
	if p := os.Getenv("COUNTERSIGN_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserApprovalTurnsTheCheckGreen drives headless Chromium through the
// sandbox: the agent-written Terraform PR waits for approval, bob (not in
// acme/sre) approving leaves it blocked, alice (acme/sre) approving turns it
// green, and the details page names her. Screenshots go to
// $COUNTERSIGN_SCREENSHOT_DIR (default: the test's temporary directory).
func TestBrowserApprovalTurnsTheCheckGreen(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		t.Skip("no browser installed: install Debian's chromium (apt-get install chromium) or set COUNTERSIGN_CHROMIUM to run the browser test")
	}
	shots := os.Getenv("COUNTERSIGN_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	sb := start(t)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	check := func(sel string) string {
		t.Helper()
		res, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), "data-check"))
		must("reading "+sel, err)
		return res.Value
	}
	// submit clicks a button that posts a form and waits for the page it leads to.
	submit := func(sel string) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		must("clicking "+sel, err)
		if resp.Status != 200 {
			t.Fatalf("clicking %s: the page answered %d", sel, resp.Status)
		}
	}
	actAs := func(login string) {
		t.Helper()
		must("choosing "+login, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#as"), login)))
		submit("#switch")
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must("screenshot", err)
		path := filepath.Join(shots, name)
		must("saving the screenshot", os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}

	must("opening the sandbox", chromedp.Do(ctx, chromedp.Navigate(sb.URL())))
	if got := check(`.pr[data-number="1"] [data-check]`); got != "action_required" {
		t.Fatalf("the agent's Terraform PR shows %q on the list, want action_required", got)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`.pr[data-number="1"] h3 a`)))
	must("opening #1", err)
	if resp.Status != 200 {
		t.Fatalf("#1 answered %d", resp.Status)
	}
	if got := check("#check [data-check]"); got != "action_required" {
		t.Fatalf("#1 shows %q, want action_required", got)
	}

	// bob has write permission but is not in acme/sre.
	actAs("bob")
	submit("#approve")
	log, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".log")))
	must("reading the action log", err)
	if !strings.Contains(log, "@bob reviewed #1: approve") {
		t.Fatalf("bob's approval is not in the log:\n%s", log)
	}
	if got := check("#check [data-check]"); got != "action_required" {
		t.Fatalf("after bob's approval #1 shows %q; someone outside acme/sre unblocked Terraform", got)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#check-title")))
	must("reading the check title", err)
	if !strings.Contains(title, "acme/sre") {
		t.Errorf("the check no longer says who must approve: %q", title)
	}

	// alice is in acme/sre.
	actAs("alice")
	submit("#approve")
	if got := check("#check [data-check]"); got != "success" {
		t.Fatalf("after alice's approval #1 shows %q, want success", got)
	}
	screenshot("sandbox-pr.png")

	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#details-link")))
	must("opening the details page", err)
	if resp.Status != 200 {
		t.Fatalf("the details page answered %d", resp.Status)
	}
	conclusion, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#conclusion")))
	must("reading the conclusion", err)
	if !strings.Contains(conclusion, "success") {
		t.Errorf("the details page says %q", conclusion)
	}
	tf, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[id="req-path:terraform"] .satisfied`)))
	must("reading the terraform requirement", err)
	if tf != "@alice" {
		t.Errorf("the terraform requirement is satisfied by %q, want @alice", tf)
	}
	agent, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[id="req-agent-review"] .satisfied`)))
	must("reading the agent requirement", err)
	if !strings.Contains(agent, "@alice") || !strings.Contains(agent, "@bob") {
		t.Errorf("the agent review is satisfied by %q, want @alice and @bob", agent)
	}
	screenshot("details.png")
	detailsURL, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
	must("reading the details URL", err)

	// Every table stays readable: desktop (1280) and phone (390) widths,
	// no word in a table cell broken across lines mid-letter.
	for _, size := range []struct {
		name   string
		width  int64
		height int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		must("sizing the window", chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height)))
		for _, pg := range []struct{ name, url string }{
			{"sandbox-home", sb.URL()}, {"sandbox-pr", sb.URL() + "sandbox/acme/platform/pull/1"}, {"details", detailsURL},
		} {
			must("opening "+pg.name, chromedp.Do(ctx, chromedp.Navigate(pg.url)))
			screenshot(pg.name + "-" + size.name + ".png")
			broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](brokenWordsJS))
			must("measuring the tables", err)
			if len(broken) > 0 {
				t.Errorf("%s at %dpx: table cells break words mid-letter: %q", pg.name, size.width, broken)
			}
		}
	}
}

// brokenWordsJS lists the words in table cells that the browser laid out on
// more than one line. A word is a run of letters and digits: a line break
// after a space, hyphen, slash or dot is where a reader expects one.
const brokenWordsJS = `(() => {
  const bad = [];
  for (const cell of document.querySelectorAll("td, th")) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walk.nextNode())) {
      const re = /[^\s\-\/.:,;()\[\]@_<>]+/g;
      let m;
      while ((m = re.exec(n.data))) {
        if (m[0].length < 2) continue;
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) bad.push(m[0]);
      }
    }
  }
  return bad;
})()`
