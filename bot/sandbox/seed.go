package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/countersign/countersign/bot/githubsim"
	"github.com/google/go-github/v62/github"
)

// The seeded world.
const (
	seedOrg  = "acme"
	seedRepo = "acme/platform"
)

// Person is a simulated user the page can act as.
type Person struct {
	Login, Name, Email string
	// Permission is their permission on the repository ("" for none).
	Permission string
	// Teams are the acme teams they belong to.
	Teams []string
	// Role says in a few words what they are for in the demo.
	Role string
}

// People are the simulated humans, in the order the page lists them.
var People = []Person{
	{Login: "alice", Name: "Alice Chen", Email: "alice@acme.test", Permission: "write", Teams: []string{"acme/sre"}, Role: "SRE: can approve Terraform and Kubernetes"},
	{Login: "bob", Name: "Bob Okafor", Email: "bob@acme.test", Permission: "write", Teams: []string{"acme/security"}, Role: "developer, security team: not SRE"},
	{Login: "carol", Name: "Carol Diaz", Email: "carol@acme.test", Permission: "read", Role: "read-only: her approvals never count"},
	{Login: "dave", Name: "Dave Park", Email: "dave@acme.test", Permission: "write", Role: "developer who runs Claude Code (the operator)"},
}

// Bots are the simulated bot accounts, with GitHub's real ids.
var Bots = []struct {
	Login string
	ID    int64
}{
	{"Copilot", 198982749},
	{"claude[bot]", 209825114},
	{"dependabot[bot]", 49699333},
}

// Writers are who can write a commit or open a pull request from the page.
const (
	WriterHuman   = "human"   // the acting user, by hand
	WriterClaude  = "claude"  // Claude Code, run by the acting user
	WriterCopilot = "copilot" // the Copilot coding agent, assigned by the acting user
)

var copilotIdentity = githubsim.Identity{Name: "Copilot", Email: "198982749+Copilot@users.noreply.github.com", Login: "Copilot"}

func person(login string) (Person, bool) {
	for _, p := range People {
		if strings.EqualFold(p.Login, login) {
			return p, true
		}
	}
	return Person{}, false
}

func identity(p Person) githubsim.Identity {
	return githubsim.Identity{Name: p.Name, Email: p.Email, Login: p.Login}
}

// commitSpec is a commit written by writer for the acting person p.
func commitSpec(writer string, p Person, message string, files map[string]string) githubsim.CommitSpec {
	message = strings.TrimSpace(message)
	switch writer {
	case WriterClaude:
		return githubsim.CommitSpec{Author: identity(p), Files: files,
			Message: message + "\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"}
	case WriterCopilot:
		// The coding agent credits who assigned it by their noreply address.
		return githubsim.CommitSpec{Author: copilotIdentity, Files: files,
			Message: message + "\n\nCo-authored-by: " + p.Login + " <" + p.Login + "@users.noreply.github.com>\n"}
	}
	return githubsim.CommitSpec{Author: identity(p), Message: message + "\n", Files: files}
}

// prSpec is a pull request opened for writer on behalf of p.
func prSpec(writer string, p Person, branch, title, body string) githubsim.PRSpec {
	body = strings.TrimSpace(body)
	switch writer {
	case WriterClaude:
		return githubsim.PRSpec{Author: p.Login, Head: branch, Base: "main", Title: title,
			Body: body + "\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"}
	case WriterCopilot:
		return githubsim.PRSpec{Author: "Copilot", Head: branch, Base: "main", Title: title,
			Body: body + "\n\n<!-- START COPILOT CODING AGENT TIPS -->\n---\n\n💡 You can make Copilot smarter by setting up custom instructions, customizing its development environment and configuring Model Context Protocol (MCP) servers."}
	}
	return githubsim.PRSpec{Author: p.Login, Head: branch, Base: "main", Title: title, Body: body}
}

// branchFor gives the branch an agent would name for a title.
func branchFor(writer, title string) string {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(title), "-"), "-")
	if len(slug) > 40 {
		slug = strings.TrimRight(slug[:40], "-")
	}
	if slug == "" {
		slug = "change"
	}
	switch writer {
	case WriterClaude:
		return "claude/" + slug
	case WriterCopilot:
		return "copilot/" + slug
	}
	return slug
}

// Policy is the seeded repository's .github/countersign.yml.
const Policy = `# Countersign policy for acme/platform.
review:
  agent:
    approvals: 1            # every agent-written change: one independent human

protected_paths:
  presets: []               # only the rules below
  rules:
    - name: terraform
      presets: [terraform]
      approvers:
        teams: [acme/sre]
    - name: kubernetes
      presets: [kubernetes]
      approvers:
        teams: [acme/sre]
    - name: workflows
      presets: [github-actions]
      approvers:
        teams: [acme/security]
    - name: containers
      presets: [docker]
      approvers:
        teams: [acme/security]

commands:
  approve: true             # "/countersign approve" counts like an approval

overrides:
  teams: [acme/security]    # "/countersign override <reason>"
`

// repoFiles is the seeded repository's first commit.
func repoFiles() map[string]string {
	return map[string]string{
		".github/countersign.yml": Policy,
		"README.md": "# platform\n\nThe acme API, its container image, its Kubernetes deployment and the GKE cluster it runs on.\n\n" +
			"- `cmd/api`: the API server\n- `infra/terraform`: the cluster (Terraform)\n- `deploy/k8s`: the manifests\n- `docs`: runbooks\n",
		"go.mod": "module github.com/acme/platform\n\ngo 1.24\n\nrequire golang.org/x/net v0.36.0\n",
		"go.sum": "golang.org/x/net v0.36.0 h1:vWF2fRbw4qslQsQzgFqZff+BItCvGFQqKzKIzx1rmoA=\ngolang.org/x/net v0.36.0/go.mod h1:bFmbeoIPfrw4sMHNhb4J9f6+tPziuGjq7Jk/38fxi1I=\n",
		"cmd/api/main.go": `package main

import (
	"log"
	"net/http"

	"github.com/acme/platform/internal/health"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Handler)
	log.Fatal(http.ListenAndServe(":8080", mux))
}
`,
		"internal/health/health.go": `package health

import "net/http"

// Handler answers liveness probes.
func Handler(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("ok\n"))
}
`,
		"Dockerfile": `FROM golang:1.24 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /api ./cmd/api

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /api /api
USER nonroot:nonroot
ENTRYPOINT ["/api"]
`,
		".github/workflows/ci.yml": `name: ci
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - run: go test -race ./...
`,
		"infra/terraform/versions.tf": `terraform {
  required_version = ">= 1.7"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
  backend "gcs" {
    bucket = "acme-tfstate"
    prefix = "platform"
  }
}
`,
		"infra/terraform/variables.tf": `variable "project" {
  type    = string
  default = "acme-prod"
}

variable "region" {
  type    = string
  default = "europe-west1"
}
`,
		"infra/terraform/gke.tf": gkeTF(3, "e2-standard-4"),
		"deploy/k8s/api/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: platform
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: europe-docker.pkg.dev/acme-prod/platform/api:1.14.2
          ports: [{containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
          resources:
            requests: {cpu: 250m, memory: 256Mi}
            limits: {memory: 512Mi}
`,
		"deploy/k8s/api/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: platform
spec:
  selector: {app: api}
  ports:
    - port: 80
      targetPort: 8080
`,
		"docs/runbook.md":      "# Runbook\n\n## The API is down\n\n1. `kubectl -n platform get pods -l app=api`\n2. Check the last deploy.\n",
		"docs/architecture.md": "# Architecture\n\nOne stateless API behind a GKE ingress; state lives in Cloud SQL.\n",
	}
}

func gkeTF(nodes int, machine string) string {
	return fmt.Sprintf(`resource "google_container_cluster" "platform" {
  name     = "platform"
  location = var.region
  project  = var.project

  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = true
}

resource "google_container_node_pool" "general" {
  name       = "general"
  cluster    = google_container_cluster.platform.id
  node_count = %d

  node_config {
    machine_type = %q
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
  }
}
`, nodes, machine)
}

// seed creates the world and opens the four pull requests, each through the
// simulator's webhooks, then waits until the bot has judged them.
func (sb *Sandbox) seed(ctx context.Context) error {
	sim := sb.Sim
	sim.AddOrg(seedOrg)
	for _, p := range People {
		sim.AddUser(p.Login)
	}
	for _, b := range Bots {
		sim.AddBot(b.Login, b.ID)
	}
	sim.AddTeam(seedOrg, "sre", "alice")
	sim.AddTeam(seedOrg, "security", "bob")
	sim.AddRepo(seedRepo, repoFiles())
	for _, p := range People {
		sim.SetPermission(seedRepo, p.Login, p.Permission)
	}
	sb.installation = sim.Install(seedOrg)
	// As the README's quickstart says: main requires pull requests and the
	// countersign check from this app, for administrators too.
	sim.SetBranchProtection(seedRepo, "main", &github.Protection{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Checks: &[]*github.RequiredStatusCheck{{Context: "countersign", AppID: github.Int64(sim.AppID())}}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcement{RequiredApprovingReviewCount: 1},
		EnforceAdmins:              &github.AdminEnforcement{Enabled: true},
	})

	alice, _ := person("alice")
	dave, _ := person("dave")

	// 1. Dave has Claude Code resize the node pool: Terraform, agent-written.
	sb.openPR(seedRepo, WriterClaude, dave, "claude/resize-node-pool", "Resize the general node pool to 5 × e2-standard-8",
		"The API pods are CPU-throttled at peak. This grows the node pool from 3 × e2-standard-4 to 5 × e2-standard-8.\n\n## Test plan\n- `terraform plan` shows an in-place update of the node pool",
		"Resize the general node pool\n\nPeak traffic throttles the API pods; grow the pool.",
		map[string]string{"infra/terraform/gke.tf": gkeTF(5, "e2-standard-8")})

	// 2. Alice assigns an issue to the Copilot coding agent: docs only.
	runbook := repoFiles()["docs/runbook.md"] + "\n## On call\n\nThe SRE rotation is in PagerDuty (schedule `platform-primary`). Page it for any outage over 5 minutes.\n"
	sb.openPR(seedRepo, WriterCopilot, alice, "copilot/fix-42", "Document the on-call rotation in the runbook",
		"Adds the on-call rotation to the runbook.\n\nFixes #42.",
		"Document the on-call rotation", map[string]string{"docs/runbook.md": runbook})

	// 3. Alice, by hand, pins the workflow's actions to commit SHAs.
	ci := strings.ReplaceAll(repoFiles()[".github/workflows/ci.yml"], "actions/checkout@v4", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2")
	ci = strings.ReplaceAll(ci, "actions/setup-go@v5", "actions/setup-go@f111f3307d8850f501ac008e886eec1fd1932a34 # v5.3.0")
	sb.openPR(seedRepo, WriterHuman, alice, "pin-actions", "Pin CI actions to commit SHAs",
		"Tags can move; SHAs cannot.", "Pin CI actions to commit SHAs", map[string]string{".github/workflows/ci.yml": ci})

	// 4. Dependabot bumps a Go module.
	dep := githubsim.Identity{Name: "dependabot[bot]", Email: "49699333+dependabot[bot]@users.noreply.github.com", Login: "dependabot[bot]"}
	branch := "dependabot/go_modules/golang.org/x/net-0.38.0"
	sb.Sim.Push(seedRepo, branch, githubsim.CommitSpec{Author: dep,
		Message: "Bump golang.org/x/net from 0.36.0 to 0.38.0\n\nBumps [golang.org/x/net](https://github.com/golang/net) from 0.36.0 to 0.38.0.\n\n---\nupdated-dependencies:\n- dependency-name: golang.org/x/net\n  dependency-version: 0.38.0\n  dependency-type: direct:production\n...\n\nSigned-off-by: dependabot[bot] <support@github.com>\n",
		Files: map[string]string{
			"go.mod": "module github.com/acme/platform\n\ngo 1.24\n\nrequire golang.org/x/net v0.38.0\n",
			"go.sum": "golang.org/x/net v0.38.0 h1:vRMAPTMaeGqVhG5QyLJHqNDwecKTomGeqbnfZyKlBI8=\ngolang.org/x/net v0.38.0/go.mod h1:ivrbrMbzFq5J41QOQh0siUuly180yBYtLp+CKbEaFx8=\n",
		}})
	n := sb.Sim.OpenPR(seedRepo, githubsim.PRSpec{Author: "dependabot[bot]", Head: branch, Base: "main",
		Title: "Bump golang.org/x/net from 0.36.0 to 0.38.0", Labels: []string{"dependencies", "go"},
		Body: "Bumps [golang.org/x/net](https://github.com/golang/net) from 0.36.0 to 0.38.0.\n\nDependabot will resolve any conflicts with this PR as long as you don't alter it yourself."})
	sb.addPR(seedRepo, n)

	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := sb.Settle(sctx); err != nil {
		return fmt.Errorf("sandbox: the bot did not finish judging the seeded pull requests: %w", err)
	}
	return nil
}

// openPR pushes one commit to a new branch and opens a pull request for it.
func (sb *Sandbox) openPR(repo, writer string, p Person, branch, title, body, message string, files map[string]string) int {
	sb.Sim.Push(repo, branch, commitSpec(writer, p, message, files))
	n := sb.Sim.OpenPR(repo, prSpec(writer, p, branch, title, body))
	sb.addPR(repo, n)
	return n
}
