package config

import (
	"slices"
	"testing"
)

func TestPresetCatalogue(t *testing.T) {
	names := map[string]bool{}
	for _, pr := range Presets() {
		if names[pr.Name] || pr.Name == PresetAll || !idRe.MatchString(pr.Name) {
			t.Errorf("bad or duplicate preset name %q", pr.Name)
		}
		names[pr.Name] = true
		if pr.Description == "" || len(pr.Paths) == 0 {
			t.Errorf("preset %s lacks a description or paths", pr.Name)
		}
		for _, g := range slices.Concat(pr.Paths, pr.Ignore) {
			if err := CheckGlob(g); err != nil {
				t.Errorf("preset %s: %v", pr.Name, err)
			}
		}
	}
	// Presets returns copies.
	ps := Presets()
	ps[0].Paths[0] = "changed"
	if pr, _ := LookupPreset(ps[0].Name); pr.Paths[0] == "changed" {
		t.Errorf("Presets exposes the catalogue's slices")
	}
	if _, ok := LookupPreset("nope"); ok {
		t.Errorf("LookupPreset found an unknown preset")
	}
}
