// Package webhook verifies and parses GitHub webhook deliveries: the
// X-Hub-Signature-256 HMAC of the raw body and the go-github event types of
// the payloads.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Header names GitHub sets on every delivery.
const (
	// SignatureHeader carries "sha256=<hex>", the HMAC-SHA256 of the raw body.
	SignatureHeader = "X-Hub-Signature-256"
	// EventHeader names the event, such as "pull_request".
	EventHeader = "X-GitHub-Event"
	// DeliveryHeader is the delivery's GUID; a redelivery keeps it.
	DeliveryHeader = "X-GitHub-Delivery"
)

// MaxBodyBytes is GitHub's cap on a webhook payload (25 MB); larger
// deliveries are never sent, so anything larger is refused.
const MaxBodyBytes = 25 << 20

const signaturePrefix = "sha256="

// Errors returned by Verify. They say what is wrong with the header, never
// what the expected signature is.
var (
	// ErrNoSecret means no webhook secret is configured; nothing verifies.
	ErrNoSecret = errors.New("webhook: no webhook secret configured")
	// ErrMissingSignature means the X-Hub-Signature-256 header is absent.
	ErrMissingSignature = errors.New("webhook: missing " + SignatureHeader + " header")
	// ErrMalformedSignature means the header is not "sha256=" and 64 hex digits.
	ErrMalformedSignature = errors.New("webhook: malformed " + SignatureHeader + " header")
	// ErrBadSignature means the signature does not match the body.
	ErrBadSignature = errors.New("webhook: signature does not match the body")
)

// Sign returns the X-Hub-Signature-256 value GitHub sends for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify checks signatureHeader (the X-Hub-Signature-256 value) against the
// HMAC-SHA256 of the raw body under secret, in constant time.
func Verify(secret []byte, body []byte, signatureHeader string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	if signatureHeader == "" {
		return ErrMissingSignature
	}
	if len(signatureHeader) != len(signaturePrefix)+2*sha256.Size ||
		!strings.EqualFold(signatureHeader[:len(signaturePrefix)], signaturePrefix) {
		return ErrMalformedSignature
	}
	got, err := hex.DecodeString(signatureHeader[len(signaturePrefix):])
	if err != nil {
		return ErrMalformedSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Payload returns the JSON payload of a verified body: the body itself for
// application/json, the "payload" form field for
// application/x-www-form-urlencoded (a webhook's other content type).
func Payload(contentType string, body []byte) ([]byte, error) {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch mt {
	case "", "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("webhook: form body: %w", err)
		}
		if !form.Has("payload") {
			return nil, errors.New(`webhook: form body has no "payload" field`)
		}
		return []byte(form.Get("payload")), nil
	default:
		return nil, fmt.Errorf("webhook: unsupported Content-Type %q", mt)
	}
}

// Parse decodes a payload of the named event into its go-github type (such
// as *github.PullRequestEvent). The payload must be one JSON object.
func Parse(event string, payload []byte) (any, error) {
	if event == "" {
		return nil, fmt.Errorf("webhook: missing %s header", EventHeader)
	}
	if github.EventForType(event) == nil {
		return nil, fmt.Errorf("webhook: unknown event %q", event)
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("webhook: %s payload is not a JSON object", event)
	}
	v, err := github.ParseWebHook(event, payload)
	var perr *time.ParseError
	if errors.As(err, &perr) {
		// GitHub has sent "2018-04-25 20:42:10" style timestamps in some
		// payloads (its own published examples carry them); go-github reads
		// only RFC 3339 and Unix seconds. Rewrite those and parse again.
		if fixed, ok := normalizeTimestamps(payload); ok {
			v, err = github.ParseWebHook(event, fixed)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	return v, nil
}

// legacyTimestamp matches GitHub's older "YYYY-MM-DD HH:MM:SS" timestamps,
// optionally followed by a numeric zone or "UTC".
var legacyTimestamp = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?: ?(UTC|[+-]\d{2}:?\d{2}))?$`)

// normalizeTimestamps rewrites every legacy timestamp string in a JSON
// payload to RFC 3339 (no zone means UTC). Numbers keep their exact text. It
// reports false when nothing needed rewriting or the payload is not JSON.
func normalizeTimestamps(payload []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	changed := false
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		case string:
			m := legacyTimestamp.FindStringSubmatch(t)
			if m == nil {
				return t
			}
			zone := m[3]
			switch {
			case zone == "" || zone == "UTC":
				zone = "Z"
			case len(zone) == 5: // +0200
				zone = zone[:3] + ":" + zone[3:]
			}
			changed = true
			return m[1] + "T" + m[2] + zone
		}
		return v
	}
	doc = walk(doc)
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
}

// Action returns the "action" of a parsed event, or "" for events without
// one (such as push).
func Action(event any) string {
	if a, ok := event.(interface{ GetAction() string }); ok {
		return a.GetAction()
	}
	return ""
}
