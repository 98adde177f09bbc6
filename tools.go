//go:build tools

// Package countersign pins the project's dependencies while the packages that
// use them are being written; `go mod tidy` keeps them because of this file.
package countersign

import (
	_ "github.com/bmatcuk/doublestar/v4"
	_ "github.com/bradleyfalzon/ghinstallation/v2"
	_ "github.com/chromedp/chromedp"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/golang-jwt/jwt/v4"
	_ "github.com/google/go-github/v62/github"
	_ "github.com/hmarr/codeowners"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/sourcegraph/conc/pool"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/term"
)
