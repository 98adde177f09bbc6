package sandbox

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/bot/setup"
)

// APIPrefix is where the sandbox serves its simulated GitHub REST API, as
// GitHub Enterprise Server serves its own: COUNTERSIGN_GITHUB_URL (or
// --github-url) is the sandbox's URL followed by "api/v3/".
const APIPrefix = "/api/v3/"

// APIURL is the REST base of the sandbox's simulated GitHub, for doctor and setup.
func (sb *Sandbox) APIURL() string { return strings.TrimSuffix(sb.url, "/") + APIPrefix }

// apiRoutes serves the simulator's REST API under APIPrefix, the simulated
// app's settings for 'countersign doctor', and GitHub's new-app pages of
// the manifest flow for 'countersign setup'.
func (sb *Sandbox) apiRoutes() {
	h := sb.Server.Handle
	h(APIPrefix, http.StripPrefix(strings.TrimSuffix(APIPrefix, "/"), sb.Sim.Handler()))
	h("GET /sandbox/countersign.env", http.HandlerFunc(sb.envFile))
	h("POST /settings/apps/new", http.HandlerFunc(sb.newApp))
	h("POST /organizations/{org}/settings/apps/new", http.HandlerFunc(sb.newApp))
}

// envFile serves the simulated app's settings in the form 'countersign
// setup' writes, with the sandbox's API as the GitHub URL. They are
// credentials of the simulation only: anyone who reaches the sandbox can act
// as any of its users anyway.
func (sb *Sandbox) envFile(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(setup.EnvFile(&setup.Credentials{
		AppID: sb.Sim.AppID(), Slug: "countersign", PrivateKeyPEM: string(sb.Sim.PrivateKeyPEM()),
		WebhookSecret: sb.secret, GitHubURL: sb.APIURL(),
	}))
}

var newAppPage = template.Must(template.New("new-app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Create GitHub App (sandbox)</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem">
<h1>Create GitHub App for {{.Owner}}</h1>
<p>This is the sandbox's stand-in for GitHub's page <code>{{.Path}}</code>. GitHub would show the app's
permissions and events from the manifest and ask you to confirm.</p>
<table>
<tr><th style="text-align:left">Name</th><td id="app-name">{{.Name}}</td></tr>
<tr><th style="text-align:left">Webhook URL</th><td>{{.Hook}}</td></tr>
<tr><th style="text-align:left">Permissions</th><td>{{range $k, $v := .Permissions}}{{$k}}: {{$v}}<br>{{end}}</td></tr>
<tr><th style="text-align:left">Events</th><td>{{range .Events}}{{.}} {{end}}</td></tr>
</table>
<p><a id="create" href="{{.Back}}">Create GitHub App for {{.Owner}}</a></p>
</body></html>`))

// newApp is GitHub's "Create GitHub App" page of the manifest flow: it
// reads the posted manifest and, when confirmed, returns to the manifest's
// redirect_url with a one-time code and the state it was given.
func (sb *Sandbox) newApp(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		sb.fail(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	var m struct {
		Name           string               `json:"name"`
		RedirectURL    string               `json:"redirect_url"`
		HookAttributes struct{ URL string } `json:"hook_attributes"`
		Permissions    map[string]string    `json:"default_permissions"`
		Events         []string             `json:"default_events"`
	}
	if err := json.Unmarshal([]byte(r.PostFormValue("manifest")), &m); err != nil {
		sb.fail(w, http.StatusUnprocessableEntity, "the manifest is not valid JSON: "+err.Error())
		return
	}
	back, err := url.Parse(m.RedirectURL)
	if err != nil || back.Scheme != "http" || !loopback(back.Hostname()) {
		// The sandbox sends the browser back only to this machine.
		sb.fail(w, http.StatusUnprocessableEntity, fmt.Sprintf("redirect_url %q is not an http URL on this machine", m.RedirectURL))
		return
	}
	if strings.TrimSpace(m.Name) == "" {
		sb.fail(w, http.StatusUnprocessableEntity, "Name can't be blank")
		return
	}
	q := back.Query()
	q.Set("code", sb.Sim.NewManifestCode())
	q.Set("state", r.URL.Query().Get("state"))
	back.RawQuery = q.Encode()
	owner := r.PathValue("org")
	if owner == "" {
		owner = "your account"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	newAppPage.Execute(w, map[string]any{"Owner": owner, "Path": r.URL.Path, "Name": m.Name, "Hook": m.HookAttributes.URL,
		"Permissions": m.Permissions, "Events": m.Events, "Back": template.URL(back.String())})
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
