package config

import "slices"

// presets is the built-in catalogue, in the order Presets lists it. Globs
// follow the policy-file semantics (see docs/policy.md): a glob without a
// slash matches a base name at any depth, a trailing slash means a directory
// and everything under it, a leading slash anchors at the repository root.
var presets = []Preset{
	{
		Name:        "terraform",
		Description: "Terraform and OpenTofu configuration, variables, lock files and Terragrunt",
		Paths: []string{
			"*.tf", "*.tf.json", "*.tfvars", "*.tfvars.json", "*.tfbackend",
			"*.tofu", "*.tofu.json",
			".terraform.lock.hcl", ".terraform-version", ".opentofu-version",
			"terragrunt*.hcl", "root.hcl", "**/_envcommon/**/*.hcl",
			".terraformrc", "terraform.rc",
		},
		Ignore: []string{".terraform/", ".terragrunt-cache/"},
	},
	{
		Name:        "kubernetes",
		Description: "Kubernetes manifests in k8s/, kubernetes/, manifests/ and deploy/ directories, and .k8s.yaml files",
		Paths: []string{
			"**/k8s/**/*.yaml", "**/k8s/**/*.yml", "**/k8s/**/*.json",
			"**/kubernetes/**/*.yaml", "**/kubernetes/**/*.yml", "**/kubernetes/**/*.json",
			"**/manifests/**/*.yaml", "**/manifests/**/*.yml",
			"**/deploy/**/*.yaml", "**/deploy/**/*.yml",
			"*.k8s.yaml", "*.k8s.yml",
		},
	},
	{
		Name:        "helm",
		Description: "Helm charts (Chart.yaml, values, templates) and helmfiles",
		Paths: []string{
			"Chart.yaml", "Chart.lock", ".helmignore",
			"**/charts/*/values*.yaml", "**/charts/*/values*.yml", "**/charts/*/templates/", "**/charts/*/crds/",
			"**/helm/**/*.yaml", "**/helm/**/*.yml", "**/helm/**/*.tpl",
			"helmfile.yaml", "helmfile.yml", "helmfile.yaml.gotmpl", "helmfile.d/",
		},
	},
	{
		Name:        "kustomize",
		Description: "Kustomize kustomizations and the patches in overlays/",
		Paths: []string{
			"kustomization.yaml", "kustomization.yml", "Kustomization",
			"**/overlays/**/*.yaml", "**/overlays/**/*.yml",
		},
	},
	{
		Name:        "docker",
		Description: "Dockerfiles, Containerfiles, compose files, bake files and .dockerignore",
		Paths: []string{
			"Dockerfile", "Dockerfile.*", "Dockerfile-*", "Dockerfile_*", "dockerfile", "*.Dockerfile", "*.dockerfile",
			"Containerfile", "Containerfile.*", "Containerfile-*", "Containerfile_*", "*.Containerfile", "*.containerfile",
			".dockerignore", "*.dockerignore",
			"docker-compose.yml", "docker-compose.yaml", "docker-compose.*.yml", "docker-compose.*.yaml",
			"compose.yml", "compose.yaml", "compose.*.yml", "compose.*.yaml",
			"docker-bake.hcl", "docker-bake.json", "docker-bake.*.hcl",
		},
	},
	{
		Name:        "github-actions",
		Description: "GitHub Actions workflows, local actions and action metadata files",
		Paths: []string{
			"/.github/workflows/", "/.github/actions/",
			"action.yml", "action.yaml",
		},
	},
	{
		Name:        "ci",
		Description: "CI pipelines other than GitHub Actions: GitLab, CircleCI, Jenkins, Azure Pipelines, Buildkite, Travis, Drone, Bitbucket and more",
		Paths: []string{
			"/.gitlab-ci.yml", "/.gitlab-ci.yaml", "/.gitlab/ci/", "*.gitlab-ci.yml",
			"/.circleci/",
			"Jenkinsfile", "Jenkinsfile.*", "*.Jenkinsfile", "*.jenkinsfile", "/jenkins/",
			"azure-pipelines.yml", "azure-pipelines.yaml", "azure-pipelines*.yml", "/.azure-pipelines/", "/.azuredevops/",
			"/.buildkite/",
			"/.travis.yml",
			"/.drone.yml", "/.drone.yaml", "/.drone.jsonnet", "/.drone.star",
			"/bitbucket-pipelines.yml",
			"/.woodpecker.yml", "/.woodpecker.yaml", "/.woodpecker/",
			"/appveyor.yml", "/.appveyor.yml",
			"cloudbuild.yaml", "cloudbuild.yml", "buildspec.yml", "buildspec.yaml",
			"/.tekton/", "/.semaphore/", "/.cirrus.yml", "/codefresh.yml", "/bitrise.yml", "/.harness/", "/.teamcity/",
		},
	},
	{
		Name:        "migrations",
		Description: "Database migrations: migrations/ directories, Rails, Django, Alembic, Flyway, Liquibase, Prisma, sqitch and schema dumps",
		Paths: []string{
			"migrations/", "**/db/migrate/", "**/db/migration/",
			"**/alembic/versions/", "alembic.ini",
			"flyway.conf", "flyway.toml", "**/flyway/**/*.sql",
			"liquibase.properties", "db.changelog*", "**/db/changelog/", "liquibase/",
			"**/db/schema.rb", "**/db/structure.sql",
			"schema.prisma",
			"sqitch.plan", "sqitch.conf",
		},
		Ignore: []string{"**/migrations/**/*.md", "node_modules/"},
	},
	{
		Name:        "cloudformation",
		Description: "AWS CloudFormation and SAM templates",
		Paths: []string{
			"cloudformation/", "cfn/",
			"*.cfn.yaml", "*.cfn.yml", "*.cfn.json",
			"*.cloudformation.yaml", "*.cloudformation.yml", "*.cloudformation.json",
			"template.yaml", "template.yml", "samconfig.toml", "samconfig.yaml", "samconfig.yml",
		},
	},
	{
		Name:        "cdk",
		Description: "AWS CDK apps: cdk.json, cdk/ directories and stack definitions",
		Paths: []string{
			"cdk.json", "cdk.context.json", "cdk/",
			"**/lib/*-stack.ts", "**/lib/*-stack.js",
		},
		Ignore: []string{"cdk.out/", "node_modules/"},
	},
	{
		Name:        "pulumi",
		Description: "Pulumi projects and stack configuration",
		Paths: []string{
			"Pulumi.yaml", "Pulumi.yml", "Pulumi.*.yaml", "Pulumi.*.yml", "pulumi/",
		},
		Ignore: []string{"node_modules/"},
	},
	{
		Name:        "ansible",
		Description: "Ansible playbooks, roles, inventories and variables",
		Paths: []string{
			"ansible.cfg", "galaxy.yml", "ansible/",
			"playbooks/", "playbook.yml", "playbook.yaml", "site.yml", "site.yaml",
			"**/roles/*/tasks/", "**/roles/*/handlers/", "**/roles/*/defaults/", "**/roles/*/vars/",
			"**/roles/*/templates/", "**/roles/*/files/", "**/roles/*/meta/",
			"group_vars/", "host_vars/", "inventory/", "inventories/",
		},
	},
	{
		Name:        "codeowners",
		Description: "The CODEOWNERS file in any of the places GitHub reads it",
		Paths:       []string{"/CODEOWNERS", "/docs/CODEOWNERS", "/.github/CODEOWNERS"},
	},
	{
		Name:        "countersign",
		Description: "Countersign's own policy file",
		Paths:       []string{"/.github/countersign.yml", "/.github/countersign.yaml"},
	},
}

// Presets lists the built-in presets in a stable order. The result is a
// copy; changing it does not change the catalogue.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	for i, p := range presets {
		out[i] = p.clone()
	}
	return out
}

// PresetNames lists the names of the built-in presets in catalogue order.
func PresetNames() []string {
	out := make([]string, len(presets))
	for i, p := range presets {
		out[i] = p.Name
	}
	return out
}

// LookupPreset returns the named preset.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range presets {
		if p.Name == name {
			return p.clone(), true
		}
	}
	return Preset{}, false
}

func (p Preset) clone() Preset {
	p.Paths = slices.Clone(p.Paths)
	p.Ignore = slices.Clone(p.Ignore)
	return p
}

// EnabledPresets returns the names of the presets that apply as rules of
// their own: every preset when Presets is unset or names "all", none when it
// is an empty list. Unknown names are left out.
func (pp ProtectedPaths) EnabledPresets() []string {
	if pp.Presets == nil {
		return PresetNames()
	}
	return ExpandPresets(pp.Presets)
}

// AlwaysPresets returns the presets that apply as rules of their own
// whatever protected_paths.presets says, beyond those it enables: the policy
// file (PresetCountersign) protects itself, and CODEOWNERS
// (PresetCodeOwners) does when the policy lets code owners approve, since
// changing it changes who may. One is left out when a rule of the policy
// covers the preset for every change, or has its name (the policy was valid
// before these rules became unconditional; that rule is the user's).
func (p *Policy) AlwaysPresets() []string {
	enabled := p.ProtectedPaths.EnabledPresets()
	var out []string
	for _, name := range []string{PresetCodeOwners, PresetCountersign} {
		if slices.Contains(enabled, name) || (name == PresetCodeOwners && !p.usesCodeOwners()) ||
			slices.ContainsFunc(p.ProtectedPaths.Rules, func(r PathRule) bool {
				return r.Name == name || (r.Scope() == AppliesToAll && slices.Contains(ExpandPresets(r.Presets), name))
			}) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// usesCodeOwners reports whether any approvers of the policy include code owners.
func (p *Policy) usesCodeOwners() bool {
	if p.Review.Agent.Approvers.CodeOwners || p.Review.Human.Approvers.CodeOwners {
		return true
	}
	for _, r := range p.ProtectedPaths.Rules {
		if r.Approvers.CodeOwners {
			return true
		}
	}
	return false
}

// ExpandPresets resolves "all" in a list of preset names and drops
// duplicates and unknown names, keeping the order.
func ExpandPresets(names []string) []string {
	out := []string{}
	for _, n := range names {
		if n == PresetAll {
			for _, all := range PresetNames() {
				if !slices.Contains(out, all) {
					out = append(out, all)
				}
			}
			continue
		}
		if _, ok := LookupPreset(n); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
