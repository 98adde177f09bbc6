package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// Glob semantics (docs/policy.md, "Globs"):
//
//   - a glob is matched against the repository-relative path, as git writes it
//     ("dir/sub/file.ext", no leading slash);
//   - `*` matches within one path segment, `**` as a whole segment matches
//     any number of segments (zero included), `?`, `[abc]` and `{a,b}` as in
//     doublestar;
//   - a glob without a slash matches the base name at any depth
//     (`*.tf` is `**/*.tf`), as in .gitignore;
//   - a trailing slash means the directory and everything under it
//     (`migrations/` is `**/migrations/**`, `/.circleci/` is `.circleci/**`);
//   - a leading slash anchors the glob at the repository root; a glob with a
//     slash anywhere but the end is anchored anyway.

// NormalizeGlob returns the doublestar pattern a policy glob means.
func NormalizeGlob(glob string) string {
	dir := strings.HasSuffix(glob, "/")
	g := strings.TrimRight(glob, "/")
	anchored := strings.Contains(g, "/")
	g = strings.TrimLeft(g, "/")
	if !anchored {
		g = "**/" + g
	}
	if dir {
		g += "/**"
	}
	return g
}

// CheckGlob returns why glob is not a valid policy glob, or nil.
func CheckGlob(glob string) error {
	switch {
	case strings.Trim(glob, "/ ") == "":
		return fmt.Errorf("empty glob")
	case strings.HasPrefix(glob, "./"):
		return fmt.Errorf("glob %q starts with ./; globs are relative to the repository root already, write %q", glob, strings.TrimPrefix(glob, "./"))
	case glob == ".." || strings.HasPrefix(glob, "../") || strings.Contains(glob, "/../") || strings.HasSuffix(glob, "/.."):
		return fmt.Errorf("glob %q leaves the repository with ..", glob)
	case strings.ContainsAny(glob, "\n\r\x00"):
		return fmt.Errorf("glob %q contains a line break or NUL", glob)
	case !utf8.ValidString(glob):
		return fmt.Errorf("glob %q is not valid UTF-8", glob)
	}
	if !doublestar.ValidatePattern(NormalizeGlob(glob)) {
		return fmt.Errorf("invalid glob %q: unbalanced [ ] or { }, or a trailing \\", glob)
	}
	return nil
}
