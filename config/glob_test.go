package config

import (
	"fmt"
	"testing"
)

func TestNormalizeGlob(t *testing.T) {
	for glob, want := range map[string]string{
		"*.tf":            "**/*.tf",
		"Dockerfile":      "**/Dockerfile",
		"/Dockerfile":     "Dockerfile",
		"infra/*.tf":      "infra/*.tf",
		"migrations/":     "**/migrations/**",
		"/.github/":       ".github/**",
		"deploy/k8s/":     "deploy/k8s/**",
		"**/k8s/**/*.yml": "**/k8s/**/*.yml",
	} {
		if got := NormalizeGlob(glob); got != want {
			t.Errorf("NormalizeGlob(%q) = %q, want %q", glob, got, want)
		}
	}
}

func ExampleNormalizeGlob() {
	fmt.Println(NormalizeGlob("*.tf"), NormalizeGlob("migrations/"), NormalizeGlob("/CODEOWNERS"))
	// Output: **/*.tf **/migrations/** CODEOWNERS
}
