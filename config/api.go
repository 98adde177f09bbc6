package config

import (
	"errors"

	"github.com/countersign/countersign/checks/detect"
)

// STUB: decoding, presets and compiled rules are being written.

// Parse decodes a policy file strictly. file names the file in errors.
func Parse(file string, data []byte) (*Policy, error) { return nil, errors.New("config: not implemented") }

// Default returns the built-in policy that applies when no file exists.
func Default() *Policy { return &Policy{Source: Source{Builtin: true}} }

// Preset is a named set of globs that ships with the binary.
type Preset struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description" yaml:"description"`
	Paths       []string `json:"paths" yaml:"paths"`
	Ignore      []string `json:"ignore,omitempty" yaml:"ignore,omitempty"`
}

// Presets lists the built-in presets in a stable order.
func Presets() []Preset { return nil }

// LookupPreset returns the named preset.
func LookupPreset(name string) (Preset, bool) { return Preset{}, false }

// Rule is an effective protected-path rule: a top-level preset or a
// maintainer's rule, with its globs expanded and compiled.
type Rule struct {
	PathRule
	// FromPreset is true for a rule made from ProtectedPaths.Presets.
	FromPreset bool
}

// Match reports whether path is protected by the rule.
func (r *Rule) Match(path string) bool { return false }

// Rules returns the effective protected-path rules, compiled once and cached.
func (p *Policy) Rules() []*Rule { return nil }

// Detector returns the agent detector this policy configures, built once and cached.
func (p *Policy) Detector() *detect.Detector { return nil }
