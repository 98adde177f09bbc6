package checks

import (
	"testing"

	"github.com/countersign/countersign/config"
)

func TestPresets(t *testing.T) {
	tests := []struct {
		preset string
		yes    []string
		no     []string
	}{
		{"terraform",
			[]string{"main.tf", "infra/prod/vpc.tf", "modules/db/variables.tf.json", "env/prod.tfvars", "prod.tfvars.json", "main.tofu", "x/.terraform.lock.hcl", "live/prod/terragrunt.hcl", "terragrunt.stack.hcl", "root.hcl", "_envcommon/mysql.hcl", "backend.tfbackend"},
			[]string{"README.md", "packer/build.pkr.hcl", "nomad/job.hcl", "vault/policy.hcl", "docs/terraform.md", "main.tf.bak", ".terraform/modules/vpc/main.tf", "live/.terragrunt-cache/abc/main.tf"}},
		{"kubernetes",
			[]string{"k8s/deployment.yaml", "services/api/k8s/base/service.yml", "kubernetes/ingress.yaml", "manifests/crd.yaml", "deploy/prod/deployment.yaml", "app.k8s.yaml"},
			[]string{"config.yaml", ".github/dependabot.yml", "docker-compose.yml", "deploy/deploy.sh", "src/k8s.go", "openapi.yaml", "deployment.yaml"}},
		{"helm",
			[]string{"Chart.yaml", "deploy/chart/Chart.lock", "charts/api/values.yaml", "charts/api/values-prod.yaml", "charts/api/templates/deployment.yaml", "charts/api/templates/_helpers.tpl", "helm/api/values.yaml", "helmfile.yaml", "helmfile.d/10-app.yaml"},
			[]string{"src/components/charts/LineChart.tsx", "frontend/charts/index.js", "values.yaml", "config/values.json", "templates/email.html"}},
		{"kustomize",
			[]string{"kustomization.yaml", "deploy/base/kustomization.yml", "overlays/prod/patch.yaml", "k/overlays/dev/replicas.yml", "Kustomization"},
			[]string{"customization.yaml", "src/overlays/Modal.tsx", "kustomization.md"}},
		{"docker",
			[]string{"Dockerfile", "svc/api/Dockerfile", "Dockerfile.dev", "Dockerfile-dev", "svc/api/Dockerfile-prod", "Dockerfile_ci", "Containerfile-dev", "build/api.Dockerfile", "web.dockerfile", "Containerfile", "docker-compose.yml", "docker-compose.prod.yaml", "compose.yaml", "compose.override.yml", ".dockerignore", "docker-bake.hcl"},
			[]string{"docs/docker.md", "src/docker.go", "dockerfile-guide.md", "compose.go", "src/compose/index.ts", "composer.json"}},
		{"github-actions",
			[]string{".github/workflows/ci.yml", ".github/workflows/release.yaml", ".github/actions/setup/action.yml", "action.yml", "tools/lint/action.yaml"},
			[]string{".github/CODEOWNERS", ".github/dependabot.yml", "docs/workflows/ci.md", "src/.github/workflows.txt", "actions.yml", "sub/.github/workflows/ci.yml"}},
		{"ci",
			[]string{".gitlab-ci.yml", ".gitlab/ci/build.yml", ".circleci/config.yml", "Jenkinsfile", "ci/Jenkinsfile.release", "azure-pipelines.yml", ".buildkite/pipeline.yml", ".travis.yml", ".drone.yml", "bitbucket-pipelines.yml", ".woodpecker/build.yaml", "cloudbuild.yaml", "buildspec.yml", ".tekton/pr.yaml"},
			[]string{"src/ci.go", "docs/ci.md", "jenkins.md", "travis.yml", "sub/.travis.yml", ".gitlab/issue_templates/bug.md"}},
		{"migrations",
			[]string{"db/migrate/20240101_add_users.rb", "engines/billing/db/migrate/1_x.rb", "app/migrations/0001_initial.py", "migrations/001.sql", "prisma/migrations/2024/migration.sql", "alembic/versions/abc_add.py", "src/main/resources/db/migration/V1__init.sql", "db/changelog/db.changelog-master.yaml", "db.changelog-master.xml", "db/schema.rb", "db/structure.sql", "prisma/schema.prisma", "flyway.conf"},
			[]string{"src/migrate.go", "docs/migration-guide.md", "db/seeds.rb", "migrations/README.md", "schema.sql", "node_modules/pkg/migrations/1.js"}},
		{"cloudformation",
			[]string{"cloudformation/vpc.yaml", "infra/cfn/bucket.json", "stack.cfn.yaml", "template.yaml", "samconfig.toml"},
			[]string{"templates/index.html", "src/template.ts", "config.yaml"}},
		{"cdk",
			[]string{"cdk.json", "cdk.context.json", "infra/cdk/app.ts", "lib/api-stack.ts"},
			[]string{"src/stack.ts", "lib/utils.ts", "cdk.out/Stack.template.json", "infra/cdk/node_modules/x/index.js"}},
		{"pulumi",
			[]string{"Pulumi.yaml", "infra/Pulumi.prod.yaml", "pulumi/index.ts"},
			[]string{"pulumi.md", "src/Pulumi.ts"}},
		{"ansible",
			[]string{"ansible.cfg", "playbooks/site.yml", "site.yml", "roles/web/tasks/main.yml", "ansible/roles/db/handlers/main.yml", "group_vars/all.yml", "inventory/hosts"},
			[]string{"src/auth/roles/admin.ts", "roles.yml", "docs/inventory.md"}},
		{"codeowners",
			[]string{"CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS"},
			[]string{"src/CODEOWNERS", "CODEOWNERS.md", "docs/codeowners.md"}},
		{"countersign",
			[]string{".github/countersign.yml", ".github/countersign.yaml"},
			[]string{"countersign.yml", "docs/countersign.yml", ".github/countersign.yml.bak"}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.preset] = true
		pr, ok := config.LookupPreset(tt.preset)
		if !ok {
			t.Fatalf("no preset %q", tt.preset)
		}
		r := &Rule{PathRule: config.PathRule{Paths: pr.Paths, Ignore: pr.Ignore}}
		r.m = compileRule(&r.PathRule)
		for _, p := range tt.yes {
			if !r.Match(p) {
				t.Errorf("preset %s should protect %q", tt.preset, p)
			}
		}
		for _, p := range tt.no {
			if r.Match(p) {
				t.Errorf("preset %s should not protect %q", tt.preset, p)
			}
		}
	}
	for _, pr := range config.Presets() {
		if !seen[pr.Name] {
			t.Errorf("preset %s has no test cases", pr.Name)
		}
	}
}
