// Package conformance checks the GitHub simulator (bot/githubsim) against
// GitHub's own machine-readable descriptions of its API: the REST OpenAPI
// description (@octokit/openapi), the webhook payload JSON schemas
// (@octokit/webhooks-schemas) and real example payloads
// (@octokit/webhooks-examples).
//
// The descriptions are npm packages pinned in package.json and
// package-lock.json beside this file. The validators here are plain Go and
// compile without them; the tests that load them carry the "conformance"
// build tag and run with `make conformance`, which installs the packages and
// tells the tests where they are (CONFORMANCE_NODE_MODULES).
package conformance
