package config

// Default returns the built-in policy that applies when no file exists: every
// setting unset, so the getters' defaults apply. Agent-authored changes need
// one independent approval from someone with write permission, and a change
// to the paths of any preset needs one approval from someone with write
// permission.
func Default() *Policy { return &Policy{Source: Source{Builtin: true}} }

// Preset is a named set of globs that ships with the binary.
type Preset struct {
	// Name is the preset's name in the policy file, such as "terraform".
	Name string `json:"name" yaml:"name"`
	// Description says in one line what the preset covers.
	Description string `json:"description" yaml:"description"`
	// Paths are the globs the preset protects.
	Paths []string `json:"paths" yaml:"paths"`
	// Ignore are globs of paths the preset leaves alone, such as tool caches.
	Ignore []string `json:"ignore,omitempty" yaml:"ignore,omitempty"`
}
