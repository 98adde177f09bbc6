package details

import "html/template"

// pageTemplate renders pageData. It needs no JavaScript; the CSS is inline
// (the Content-Security-Policy allows nothing else) and lays tables out as
// cards on narrow screens.
var pageTemplate = template.Must(template.New("details").Funcs(template.FuncMap{
	"icon": func(c string) string {
		switch c {
		case "success":
			return "✓"
		case "action_required":
			return "●"
		}
		return "✗"
	},
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>countersign · {{.Repo}} #{{.Number}}</title>
<style>
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --soft:#f6f8fa;
  --ok:#1a7f37; --okbg:#dafbe1; --wait:#9a6700; --waitbg:#fff8c5; --bad:#cf222e; --badbg:#ffebe9; --link:#0969da; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--fg); background:var(--bg); }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
a { color: var(--link); }
h1 { font-size: 1.25rem; margin: .25rem 0 .75rem; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
.pr { color: var(--muted); font-size: .95rem; }
.badge { display:inline-block; padding:.1rem .6rem; border-radius:2rem; font-weight:600; font-size:.85rem; }
.success { color:var(--ok); background:var(--okbg); }
.action_required { color:var(--wait); background:var(--waitbg); }
.failure { color:var(--bad); background:var(--badbg); }
.card { border:1px solid var(--line); border-radius:.5rem; padding:.75rem 1rem; margin:.5rem 0; background:var(--bg); }
.card.met { border-left:.3rem solid var(--ok); }
.card.unmet { border-left:.3rem solid var(--wait); }
.card h3 { font-size:1rem; margin:0 0 .25rem; overflow-wrap:anywhere; }
.muted { color: var(--muted); }
dl { display:grid; grid-template-columns: max-content 1fr; gap:.15rem .75rem; margin:.5rem 0 0; }
dt { color:var(--muted); }
dd { margin:0; overflow-wrap:anywhere; }
ul { margin:.25rem 0; padding-left:1.25rem; }
table { border-collapse: collapse; width:100%; font-size:.95rem; }
th, td { text-align:left; vertical-align:top; padding:.4rem .5rem; border-bottom:1px solid var(--line); overflow-wrap:normal; word-break:normal; }
td code, td .mono, th code { overflow-wrap:normal; }
.scroll { overflow-x:auto; max-width:100%; }
th { background: var(--soft); }
.agent { color:#8250df; font-weight:600; }
.automation { color:var(--muted); font-weight:600; }
.note { background:var(--soft); border-radius:.5rem; padding:.75rem 1rem; }
footer { margin-top:2rem; color:var(--muted); font-size:.85rem; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  dl { grid-template-columns: 1fr; }
  dt { margin-top:.35rem; }
  table, thead, tbody, tr, th, td { display:block; }
  thead { display:none; }
  tr { border:1px solid var(--line); border-radius:.5rem; margin:.5rem 0; padding:.25rem .5rem; }
  td { border:0; padding:.2rem 0; }
  td { overflow-wrap:break-word; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
</style>
</head>
<body>
<main>
<p class="pr"><a href="{{.PRURL}}" rel="noreferrer">{{.Repo}} #{{.Number}}</a> · head <code title="{{.HeadSHA}}">{{.Short}}</code></p>
{{if not .Known}}
<h1>countersign</h1>
<div class="note">
<p><strong>This verdict is not available here.</strong> Countersign keeps the latest verdicts in memory only,
and it does not have the one for this head (the server restarted, or it was evicted).
The check run on the pull request still shows it in full, and the next evaluation
(a push, a review, or <code>/countersign recheck</code>) brings this page back.</p>
<p><a href="{{.PRURL}}" rel="noreferrer">Open the pull request</a></p>
</div>
{{else}}
<h1><span class="badge {{.Conclusion}}" id="conclusion">{{icon .Conclusion}} {{.Conclusion}}</span> <span id="title">{{.Title}}</span></h1>

{{with .Errors}}<h2>Errors</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}

{{with .Override}}<h2>Override</h2>
<p>@{{.Login}} overrode the check at <code>{{.Commit}}</code>: {{.Reason}}</p>{{end}}

<h2>Requirements</h2>
{{range .Reqs}}
<section class="card {{if .Met}}met{{else}}unmet{{end}}" id="req-{{.Name}}">
<h3>{{if .Met}}✓{{else}}✗{{end}} {{.Name}}</h3>
<div class="muted">{{.Reason}}</div>
<dl>
<dt>Approvals</dt><dd>{{.Have}} given, {{.Needed}} needed</dd>
<dt>Satisfied by</dt><dd class="satisfied">{{range $i, $l := .SatisfiedBy}}{{if $i}}, {{end}}@{{$l}}{{else}}nobody yet{{end}}</dd>
<dt>Who can approve</dt><dd>{{.Who}}</dd>
{{if .Uncovered}}<dt>{{.UncoveredLabel}}</dt><dd>{{range $i, $f := .Uncovered}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}</dd>{{end}}
{{with .Files}}<dt>Files</dt><dd>{{range $i, $f := .}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}</dd>{{end}}
</dl>
</section>
{{else}}
<p>{{if not .Errors}}No approval is required.{{else}}None could be worked out.{{end}}</p>
{{end}}

{{with .Blocking}}<h2>Changes requested</h2>
<ul>{{range .}}<li>@{{.Login}} (review #{{.ReviewID}}) blocks until the review is dismissed or replaced by an approval</li>{{end}}</ul>{{end}}

{{with .Excluded}}<h2>Approvals and commands that did not count</h2>
<div class="scroll"><table id="excluded"><thead><tr><th>Who</th><th>What</th><th>Why</th><th>Detail</th></tr></thead><tbody>
{{range .}}<tr><td data-label="Who">@{{.Login}}</td><td data-label="What">{{.What}}</td><td data-label="Why">{{.Why}} <code class="muted">{{.Reason}}</code></td><td data-label="Detail">{{.Detail}}</td></tr>
{{end}}</tbody></table></div>{{end}}

{{if .AgentText}}<h2>Who wrote what</h2>
<p><strong>{{.AgentText}}.</strong>{{with .Operators}} Operators (they ran the agent, so they cannot approve): {{range $i, $o := .}}{{if $i}}, {{end}}<span class="operator">{{$o}}</span>{{end}}.{{end}}</p>
<div class="scroll"><table id="authorship"><thead><tr><th>Commit</th><th>Subject</th><th>Author</th><th>Signals</th><th>Operator</th></tr></thead><tbody>
{{with .PR}}<tr><td data-label="Commit">pull request</td><td data-label="Subject"></td><td data-label="Author" class="{{.Class}}">{{.Who}}</td><td data-label="Signals">{{range .Signals}}<div>{{.}}</div>{{else}}—{{end}}</td><td data-label="Operator">{{or .Operator "—"}}</td></tr>{{end}}
{{range .Commits}}<tr><td data-label="Commit"><code>{{.SHA}}</code></td><td data-label="Subject">{{.Subject}}</td><td data-label="Author" class="{{.Class}}">{{.Who}}</td><td data-label="Signals">{{range .Signals}}<div>{{.}}</div>{{else}}—{{end}}</td><td data-label="Operator">{{or .Operator "—"}}</td></tr>
{{end}}</tbody></table></div>{{end}}

{{with .Protected}}<h2>Protected files</h2>
{{range .}}<p><strong>{{.Rule}}</strong> ({{len .Files}})</p><ul>{{range .Files}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}{{end}}

<h2>Policy</h2>
<p id="policy">{{.Policy}}{{with .PolicySHA}}, commit <code>{{.}}</code>{{end}}</p>

<footer>Published {{.At}}. This page shows the verdict the <code>countersign</code> check run on <code>{{.Short}}</code> shows, in full; it changes when the check does.</footer>
{{end}}
</main>
</body>
</html>
`))
