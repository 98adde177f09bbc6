// Package appmanifest reads app.yml, Countersign's GitHub App manifest, and
// compares what it asks for with what GitHub granted an app or installation.
package appmanifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	countersign "github.com/countersign/countersign"
	"go.yaml.in/yaml/v3"
)

// HookAttributes is the manifest's webhook configuration.
type HookAttributes struct {
	// URL is where GitHub POSTs deliveries.
	URL string `yaml:"url" json:"url"`
	// Active turns deliveries on.
	Active bool `yaml:"active" json:"active"`
}

// Manifest is a GitHub App manifest in the keys GitHub's manifest flow takes.
type Manifest struct {
	// Name is the app's name; GitHub derives the slug from it.
	Name string `yaml:"name" json:"name"`
	// URL is the app's homepage.
	URL string `yaml:"url" json:"url"`
	// Description is shown on the app's page.
	Description string `yaml:"description" json:"description,omitempty"`
	// HookAttributes configures the webhook.
	HookAttributes HookAttributes `yaml:"hook_attributes" json:"hook_attributes"`
	// RedirectURL is where GitHub sends the browser, with a code, once the app is registered.
	RedirectURL string `yaml:"redirect_url" json:"redirect_url,omitempty"`
	// CallbackURLs are OAuth callback URLs; Countersign has none.
	CallbackURLs []string `yaml:"callback_urls" json:"callback_urls,omitempty"`
	// SetupURL is where GitHub sends people after an installation; optional.
	SetupURL string `yaml:"setup_url" json:"setup_url,omitempty"`
	// Public lets any account install the app.
	Public bool `yaml:"public" json:"public"`
	// DefaultPermissions maps a permission to its level (read, write, admin).
	DefaultPermissions map[string]string `yaml:"default_permissions" json:"default_permissions"`
	// DefaultEvents are the webhook events subscribed to.
	DefaultEvents []string `yaml:"default_events" json:"default_events"`
}

// AlwaysDelivered are the events GitHub delivers to every app without a
// subscription; a manifest does not list them.
var AlwaysDelivered = []string{"installation", "installation_repositories"}

// levels orders permission levels.
var levels = map[string]int{"none": 0, "read": 1, "write": 2, "admin": 3}

// Default returns the manifest built into the binary (the repository's app.yml).
func Default() (*Manifest, error) {
	m, err := Parse(countersign.AppManifestYAML)
	if err != nil {
		return nil, fmt.Errorf("app.yml: %w", err)
	}
	return m, nil
}

// Parse decodes a manifest strictly: an unknown key, a missing name, URL or
// webhook URL, an unknown permission level or a repeated event is an error
// naming the line or the key.
func Parse(b []byte) (*Manifest, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	m := &Manifest{}
	if err := dec.Decode(m); err != nil {
		return nil, err
	}
	var errs []error
	if strings.TrimSpace(m.Name) == "" {
		errs = append(errs, errors.New("name: required"))
	}
	for _, f := range []struct{ key, v string }{{"url", m.URL}, {"hook_attributes.url", m.HookAttributes.URL}} {
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute http(s) URL", f.key, f.v))
		}
	}
	for _, k := range sortedKeys(m.DefaultPermissions) {
		if _, ok := levels[m.DefaultPermissions[k]]; !ok || m.DefaultPermissions[k] == "none" {
			errs = append(errs, fmt.Errorf("default_permissions.%s: %q is not read, write or admin", k, m.DefaultPermissions[k]))
		}
	}
	seen := map[string]bool{}
	for _, e := range m.DefaultEvents {
		if seen[e] {
			errs = append(errs, fmt.Errorf("default_events: %q is listed twice", e))
		}
		seen[e] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// JSON returns the manifest as GitHub's manifest flow takes it (the value
// of the form field "manifest").
func (m *Manifest) JSON() ([]byte, error) { return json.Marshal(m) }

// Covers reports whether the granted permissions include perm at level or above.
func Covers(granted map[string]string, perm, level string) bool {
	g, ok := granted[perm]
	if !ok {
		return false
	}
	return levels[g] >= levels[level] && levels[level] > 0
}

// Shortfall is what a grant lacks of the manifest, and what it has beyond it.
type Shortfall struct {
	// MissingPermissions are "name: level" entries the grant lacks or has lower.
	MissingPermissions []string
	// MissingEvents are subscribed events the grant lacks.
	MissingEvents []string
	// ExtraPermissions are "name: level" entries granted above the manifest.
	ExtraPermissions []string
	// ExtraEvents are events granted that the manifest does not subscribe to.
	ExtraEvents []string
}

// Compare holds granted permissions and events against the manifest.
func (m *Manifest) Compare(perms map[string]string, events []string) Shortfall {
	var s Shortfall
	for _, k := range sortedKeys(m.DefaultPermissions) {
		if !Covers(perms, k, m.DefaultPermissions[k]) {
			s.MissingPermissions = append(s.MissingPermissions, k+": "+m.DefaultPermissions[k])
		}
	}
	for _, k := range sortedKeys(perms) {
		if levels[perms[k]] > levels[m.DefaultPermissions[k]] {
			s.ExtraPermissions = append(s.ExtraPermissions, k+": "+perms[k])
		}
	}
	for _, e := range m.DefaultEvents {
		if !slices.Contains(events, e) {
			s.MissingEvents = append(s.MissingEvents, e)
		}
	}
	for _, e := range events {
		if !slices.Contains(m.DefaultEvents, e) && !slices.Contains(AlwaysDelivered, e) {
			s.ExtraEvents = append(s.ExtraEvents, e)
		}
	}
	sort.Strings(s.ExtraEvents)
	return s
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
