package sandbox

import "html/template"

// pages are the sandbox's server-rendered pages: plain forms that POST, no
// JavaScript; a page waiting for the bot refreshes itself.
var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"commands": func() []string {
		return []string{"/countersign recheck", "/countersign explain", "/countersign approve", "/countersign override hotfix for incident 4711"}
	},
	"countIcon": func(c string) string {
		switch c {
		case "yes", "in-force":
			return "✓"
		case "no":
			return "✗"
		case "blocks":
			return "●"
		}
		return "…"
	},
	"countClass": func(c string) string {
		switch c {
		case "yes", "in-force":
			return "success"
		case "no", "blocks":
			return "failure"
		}
		return "muted"
	},
	"icon": func(c string) string {
		switch c {
		case "success":
			return "✓"
		case "action_required":
			return "●"
		case "failure", "cancelled", "timed_out":
			return "✗"
		}
		return "…"
	},
}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Pending}}<meta http-equiv="refresh" content="2">{{end}}
<title>{{block "title" .}}Countersign sandbox{{end}}</title>
<style>
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --soft:#f6f8fa; --ok:#1a7f37; --okbg:#dafbe1;
  --wait:#9a6700; --waitbg:#fff8c5; --bad:#cf222e; --badbg:#ffebe9; --link:#0969da; --agent:#8250df; }
* { box-sizing:border-box; }
body { margin:0; font:15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--fg); }
header { background:#24292f; color:#fff; padding:.6rem 1rem; display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:center; justify-content:space-between; }
header a { color:#fff; font-weight:600; text-decoration:none; }
header form { display:flex; gap:.4rem; align-items:center; margin:0; }
main { max-width:64rem; margin:0 auto; padding:1rem; }
a { color:var(--link); }
h1 { font-size:1.3rem; margin:.25rem 0 .75rem; overflow-wrap:anywhere; }
h2 { font-size:1.05rem; margin:1.5rem 0 .5rem; padding-bottom:.25rem; border-bottom:1px solid var(--line); }
code, pre, .mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; }
pre { background:var(--soft); padding:.75rem; border-radius:.4rem; overflow-x:auto; white-space:pre-wrap; overflow-wrap:anywhere; }
.muted { color:var(--muted); }
.badge { display:inline-block; padding:.05rem .55rem; border-radius:2rem; font-weight:600; font-size:.85rem; white-space:nowrap; }
.success { color:var(--ok); background:var(--okbg); }
.action_required, .in_progress, .queued { color:var(--wait); background:var(--waitbg); }
.failure, .cancelled, .timed_out { color:var(--bad); background:var(--badbg); }
.writer { color:var(--agent); font-size:.85rem; }
.card { border:1px solid var(--line); border-radius:.5rem; padding:.75rem 1rem; margin:.6rem 0; }
.card h3 { margin:0 0 .3rem; font-size:1rem; overflow-wrap:anywhere; }
.grid { display:grid; grid-template-columns:repeat(auto-fit, minmax(18rem, 1fr)); gap:1rem; }
.grid > * { min-width:0; }
.grid > .wide { grid-column:1 / -1; }
form.stack { display:flex; flex-direction:column; gap:.45rem; }
label { font-size:.88rem; color:var(--muted); display:flex; flex-direction:column; gap:.15rem; }
input[type=text], textarea, select { font:inherit; padding:.35rem .5rem; border:1px solid var(--line); border-radius:.35rem; width:100%; }
textarea { min-height:5rem; font-family:ui-monospace, Menlo, Consolas, monospace; font-size:.85rem; }
button { font:inherit; padding:.35rem .8rem; border-radius:.35rem; border:1px solid var(--line); background:var(--soft); cursor:pointer; }
button.primary { background:#1f883d; border-color:#1a7f37; color:#fff; }
button.warn { background:var(--badbg); border-color:#ff8182; color:var(--bad); }
.row { display:flex; flex-wrap:wrap; gap:.4rem; align-items:center; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:.3rem .45rem; border-bottom:1px solid var(--line); vertical-align:top; overflow-wrap:normal; word-break:normal; }
.scroll { overflow-x:auto; max-width:100%; }
th { background:var(--soft); }
.log { font-size:.85rem; }
.counted { margin-top:.4rem; padding:.3rem .5rem; border-radius:.35rem; overflow-wrap:anywhere; }
.counted.muted { background:var(--soft); }
.reason { font-weight:normal; margin-top:.15rem; }
.reactions { margin-top:.4rem; display:flex; flex-wrap:wrap; gap:.3rem; }
.reaction { border:1px solid var(--line); border-radius:2rem; padding:0 .5rem; font-size:.85rem; background:var(--soft); }
@media (max-width: 40rem) { main { padding:.6rem; } header { padding:.5rem .6rem; } }
</style></head><body>
<header><a href="/">Countersign sandbox</a>
<form method="post" action="/sandbox/as"><input type="hidden" name="back" value="{{.Back}}">
<label style="color:#fff;flex-direction:row;align-items:center;gap:.4rem">Acting as
<select name="as" id="as">{{range .People}}<option value="{{.Login}}"{{if eq .Login $.As.Login}} selected{{end}}>{{.Login}}</option>{{end}}</select></label>
<button type="submit" id="switch">Switch</button></form></header>
<main>
{{if .Pending}}<p class="badge queued">The bot is still working; this page refreshes itself.</p>{{end}}
{{end}}

{{define "foot"}}
{{with .Log}}<h2>What you did</h2><div class="log mono">{{range .}}<div>{{.}}</div>{{end}}</div>{{end}}
</main></body></html>{{end}}

{{define "check"}}{{if .}}<span class="badge {{.Display}}" data-check="{{.Display}}">{{icon .Display}} {{.Display}}</span>{{else}}<span class="badge queued" data-check="none">no check yet</span>{{end}}{{end}}

{{define "deliveries"}}{{if .}}<div class="scroll"><table><thead><tr><th>Time</th><th>Webhook</th><th>Sender</th><th>For</th><th>Bot answered</th></tr></thead><tbody>
{{range .}}<tr><td class="mono">{{.At}}</td><td class="mono">{{.Event}}</td><td>{{.Sender}}</td><td>{{.Target}}</td><td class="mono">{{.Status}}</td></tr>{{end}}
</tbody></table></div>{{else}}<p class="muted">No webhooks yet.</p>{{end}}{{end}}

{{define "home"}}{{template "head" .}}
<h1>{{.Repo}}: pull requests</h1>
<p class="muted">Everything here is simulated GitHub. Each button changes the simulator, which sends a signed webhook to the bot;
the bot reads the pull request through the REST API and writes the <code>countersign</code> check run back. You are acting as
<strong>@{{.As.Login}}</strong> ({{.As.Role}}).</p>
<div id="prs">
{{range .PRs}}<div class="card pr" data-number="{{.Number}}">
<h3><a href="{{.Page}}">#{{.Number}} {{.Title}}</a></h3>
<div class="row">{{template "check" .Check}} {{with .Check}}<span>{{.Title}}</span>{{end}}</div>
<div class="row muted">by @{{.Author}} · <code>{{.Branch}}</code> · <code>{{.Short}}</code>{{with .Writer}} · <span class="writer">{{.}}</span>{{end}}
{{with .Check}}{{if .DetailsURL}} · <a href="{{.DetailsURL}}" class="details">details</a>{{end}}{{end}}</div>
</div>{{end}}
</div>

<h2>Open a pull request as @{{.As.Login}}</h2>
<form class="stack card" method="post" action="/sandbox/{{.Repo}}/pulls" id="open-pr">
<label>Written by<select name="writer">
<option value="claude">Claude Code, run by @{{.As.Login}}</option>
<option value="copilot">the Copilot coding agent, assigned by @{{.As.Login}}</option>
<option value="human">@{{.As.Login}}, by hand</option></select></label>
<label>Title<input type="text" name="title" value="Allow 10 API replicas"></label>
<label>File to write<input type="text" name="path" value="deploy/k8s/api/deployment.yaml"></label>
<label>Its new content<textarea name="content">apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: platform
spec:
  replicas: 10
</textarea></label>
<label>Description<textarea name="body">Scale the API for the launch.</textarea></label>
<div><button class="primary" type="submit">Open pull request</button></div>
</form>

<div class="grid">
<div class="wide"><h2>People</h2><div class="scroll"><table><thead><tr><th>User</th><th>Permission</th><th>Teams</th><th>Role</th></tr></thead><tbody>
{{range .People}}<tr><td>@{{.Login}}</td><td>{{or .Permission "none"}}</td><td>{{range .Teams}}@{{.}} {{end}}</td><td>{{.Role}}</td></tr>{{end}}
</tbody></table></div>
<p class="muted">Bots: Copilot, claude[bot], dependabot[bot]. The app acts as countersign[bot].</p></div>
<div><h2>Policy: <code>.github/countersign.yml</code></h2><pre>{{.Policy}}</pre></div>
</div>

<h2>Latest webhooks</h2>
{{template "deliveries" .Deliveries}}
{{template "foot" .}}{{end}}

{{define "pr"}}{{template "head" .}}{{with .PR}}
<p class="muted"><a href="/">{{.Repo}}</a> · pull request #{{.Number}} · {{.State}}</p>
<h1>{{.Title}}</h1>
<p class="muted">@{{.Author}} wants to merge <code>{{.Branch}}</code> into <code>main</code> · head <code>{{.Short}}</code>{{with .Writer}} · <span class="writer">{{.}}</span>{{end}}</p>
{{with .Body}}<pre>{{.}}</pre>{{end}}

<h2>The countersign check</h2>
<div class="card" id="check">
{{with .Check}}
<div class="row">{{template "check" .}} <strong id="check-title">{{.Title}}</strong></div>
<div class="row" style="margin-top:.5rem">
{{if .DetailsURL}}<a href="{{.DetailsURL}}" id="details-link">Details</a>{{end}}
<form method="post" action="/sandbox/{{$.PR.Repo}}/pull/{{$.PR.Number}}/rerun"><input type="hidden" name="check_run_id" value="{{.ID}}"><button type="submit">Re-run</button></form>
{{range .Actions}}<form method="post" action="/sandbox/{{$.PR.Repo}}/pull/{{$.PR.Number}}/requested-action"><input type="hidden" name="check_run_id" value="{{$.PR.Check.ID}}"><input type="hidden" name="identifier" value="{{.Identifier}}"><button type="submit" title="{{.Description}}">{{.Label}}</button></form>{{end}}
</div>
{{if not .Actions}}<p class="muted">The check run offers no buttons (requested actions) yet.</p>{{end}}
<details><summary>Summary, as the check run shows it (Markdown)</summary><pre>{{.Summary}}</pre></details>
{{else}}<p>No check run yet.</p>{{end}}
</div>

<h2>The check's history on <code>{{.Short}}</code></h2>
{{with $.History}}<div class="scroll"><table id="check-history"><thead><tr><th>Time</th><th>Check run</th><th>Status, conclusion and title</th></tr></thead><tbody>
{{range .}}<tr class="run" data-status="{{.Status}}" data-conclusion="{{.Conclusion}}"><td class="mono">{{.At}}</td><td class="mono">#{{.ID}} {{.Write}}</td><td>{{.Status}}{{if .Conclusion}} <span class="badge {{.Display}}">{{icon .Display}} {{.Conclusion}}</span>{{end}}<div>{{.Title}}</div></td></tr>{{end}}
</tbody></table></div><p class="muted">Every write of the <code>countersign</code> check run on this head, newest first.</p>{{else}}<p class="muted">No check run written on this head yet.</p>{{end}}

{{if or $.ReviewUsers $.ReviewTeams}}<p id="requested-reviewers">Review requested from {{range $.ReviewUsers}}@{{.}} {{end}}{{range $.ReviewTeams}}@{{.}} {{end}}</p>{{end}}
<h2>Reviews and comments</h2>
{{with $.Conversation}}<p class="muted">Whether each approval counted, and why not, is read off the bot's verdict on head <code>{{$.PR.Short}}</code>.</p>
{{range .}}<article class="card entry" id="{{.Anchor}}"{{with .Counted}} data-counted="{{.}}"{{end}}>
<div class="muted">@{{.Login}} · {{.What}} · {{.At}}</div>
{{with .Body}}<pre>{{.}}</pre>{{end}}
{{if .Verdict}}<div class="counted {{countClass .Counted}}">{{countIcon .Counted}} {{.Verdict}}{{range .Reasons}}<div class="reason"><code>{{.Reason}}</code>: {{.Detail}}</div>{{end}}</div>{{end}}
{{with .Reactions}}<div class="reactions">{{range .}}<span class="reaction" data-reaction="{{.Content}}" title="{{.Content}}">{{.Emoji}} @{{.Login}}</span> {{end}}</div>{{end}}
</article>{{end}}{{else}}<p class="muted">No reviews or comments yet.</p>{{end}}

<div class="grid">
<div><h2>Review as @{{$.As.Login}}</h2>
<form class="stack card" method="post" action="/sandbox/{{.Repo}}/pull/{{.Number}}/review" id="review">
<label>Comment<textarea name="body" rows="2">Looks good to me.</textarea></label>
<div class="row"><button class="primary" type="submit" name="event" value="APPROVE" id="approve">Approve</button>
<button class="warn" type="submit" name="event" value="REQUEST_CHANGES" id="request-changes">Request changes</button>
<button type="submit" name="event" value="COMMENT">Comment</button></div>
</form></div>

<div><h2>Comment as @{{$.As.Login}}</h2>
<form class="stack card" method="post" action="/sandbox/{{.Repo}}/pull/{{.Number}}/comment" id="comment">
<label><span>Comment (a <code>/countersign</code> command on a line of its own)</span><textarea name="body" rows="2">/countersign explain</textarea></label>
<div><button type="submit">Comment</button></div>
</form>
<div class="row">{{range $c := commands}}<form method="post" action="/sandbox/{{$.PR.Repo}}/pull/{{$.PR.Number}}/comment"><input type="hidden" name="body" value="{{$c}}"><button type="submit"><code>{{$c}}</code></button></form>{{end}}</div>
</div>
</div>

<h2>Push a commit to <code>{{.Branch}}</code> as @{{$.As.Login}}</h2>
<form class="stack card" method="post" action="/sandbox/{{.Repo}}/pull/{{.Number}}/push" id="push">
<label>Written by<select name="writer"><option value="human">@{{$.As.Login}}, by hand</option>
<option value="claude">Claude Code, run by @{{$.As.Login}}</option><option value="copilot">Copilot, assigned by @{{$.As.Login}}</option></select></label>
<label>File<input type="text" name="path" value="docs/notes.md"></label>
<label>Its new content<textarea name="content">Notes on this change.
</textarea></label>
<label>Commit message<input type="text" name="message" value="Add notes"></label>
<div><button type="submit">Push</button></div>
</form>

<h2>Webhooks for this pull request</h2>
{{template "deliveries" $.Deliveries}}
{{end}}{{template "foot" .}}{{end}}

{{define "error"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sandbox: {{.Status}}</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem"><h1>That did not work</h1><p id="error">{{.Message}}</p><p><a href="/">Back to the sandbox</a></p></body></html>{{end}}
`))
