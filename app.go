// Package countersign carries the GitHub App manifest, app.yml, into the
// binary; bot/appmanifest parses it.
package countersign

import _ "embed"

// AppManifestYAML is app.yml, the GitHub App manifest, as written.
//
//go:embed app.yml
var AppManifestYAML []byte
