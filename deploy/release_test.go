package deploy_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestReleaseWorkflow holds .github/workflows/release.yml, .goreleaser.yaml
// and the Makefile's cross target to each other: a version tag runs the tests
// and the cross build, then GoReleaser builds static binaries for linux and
// darwin on amd64 and arm64, pushes the multi-arch image the deploy files
// name, and signs with cosign.
func TestReleaseWorkflow(t *testing.T) {
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Needs       any               `yaml:"needs"`
			RunsOn      string            `yaml:"runs-on"`
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
				Env  map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	readYAML(t, "../.github/workflows/release.yml", &wf)
	if len(wf.On.Push.Tags) != 1 || wf.On.Push.Tags[0] != "v*" {
		t.Errorf("release.yml runs on tags %v, want [v*]", wf.On.Push.Tags)
	}
	test, rel := wf.Jobs["test"], wf.Jobs["release"]
	runs := func(job string) string {
		var all []string
		for _, s := range wf.Jobs[job].Steps {
			all = append(all, s.Uses+" "+s.Run)
			if s.Uses == "" && s.Run == "" {
				t.Errorf("release.yml: a step of %s neither uses nor runs anything", job)
			}
		}
		return strings.Join(all, "\n")
	}
	if r := runs("test"); !strings.Contains(r, "make test") || !strings.Contains(r, "make cross") || test.RunsOn == "" {
		t.Errorf("release.yml's test job does not run make test and make cross:\n%s", r)
	}
	if rel.Needs != "test" {
		t.Errorf("the release job needs %v, want test", rel.Needs)
	}
	for perm, want := range map[string]string{"contents": "write", "packages": "write", "id-token": "write"} {
		if rel.Permissions[perm] != want {
			t.Errorf("the release job's %s permission is %q, want %q", perm, rel.Permissions[perm], want)
		}
	}
	r := runs("release")
	for _, want := range []string{"goreleaser/goreleaser-action@", "sigstore/cosign-installer@", "ko-build/setup-ko@", "actions/checkout@", "actions/setup-go@"} {
		if !strings.Contains(r, want) {
			t.Errorf("the release job does not use %s", want)
		}
	}
	image := wf.Env["IMAGE"]

	var gr struct {
		Builds []struct {
			Main   string   `yaml:"main"`
			Env    []string `yaml:"env"`
			Flags  []string `yaml:"flags"`
			Goos   []string `yaml:"goos"`
			Goarch []string `yaml:"goarch"`
		} `yaml:"builds"`
		Kos []struct {
			Repositories []string `yaml:"repositories"`
			Platforms    []string `yaml:"platforms"`
			BaseImage    string   `yaml:"base_image"`
		} `yaml:"kos"`
		Signs       []map[string]any `yaml:"signs"`
		DockerSigns []map[string]any `yaml:"docker_signs"`
	}
	readYAML(t, "../.goreleaser.yaml", &gr)
	if len(gr.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml has %d builds, want 1", len(gr.Builds))
	}
	b := gr.Builds[0]
	if b.Main != "./cmd/countersign" || !contains(b.Env, "CGO_ENABLED=0") || !contains(b.Flags, "-trimpath") {
		t.Errorf(".goreleaser.yaml build: main %s, env %v, flags %v; want ./cmd/countersign, CGO_ENABLED=0, -trimpath", b.Main, b.Env, b.Flags)
	}
	var platforms []string
	for _, os := range b.Goos {
		for _, arch := range b.Goarch {
			platforms = append(platforms, os+"/"+arch)
		}
	}
	sort.Strings(platforms)
	if strings.Join(platforms, " ") != "darwin/amd64 darwin/arm64 linux/amd64 linux/arm64" {
		t.Errorf(".goreleaser.yaml builds %v", platforms)
	}
	mk, _ := os.ReadFile("../Makefile")
	cross := regexp.MustCompile(`(?m)^CROSS\s*:=\s*(.*)$`).FindSubmatch(mk)
	if cross == nil {
		t.Fatal("the Makefile has no CROSS list")
	}
	got := strings.Fields(string(cross[1]))
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(platforms, " ") {
		t.Errorf("make cross builds %v, GoReleaser %v", got, platforms)
	}
	if len(gr.Kos) != 1 || len(gr.Kos[0].Repositories) != 1 || gr.Kos[0].Repositories[0] != image ||
		strings.Join(gr.Kos[0].Platforms, " ") != "linux/amd64 linux/arm64" || !strings.Contains(gr.Kos[0].BaseImage, "distroless/static") {
		t.Errorf(".goreleaser.yaml kos %+v; want one multi-arch image %s on distroless/static", gr.Kos, image)
	}
	if len(gr.Signs) == 0 || len(gr.DockerSigns) == 0 || gr.Signs[0]["cmd"] != "cosign" || gr.DockerSigns[0]["cmd"] != "cosign" {
		t.Errorf(".goreleaser.yaml does not sign the checksums and the image with cosign")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
