// Package webhook verifies and parses GitHub webhook deliveries: the
// X-Hub-Signature-256 HMAC of the raw body and the go-github event types of
// the payloads.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

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
	if err != nil {
		return nil, fmt.Errorf("webhook: %s payload: %w", event, err)
	}
	return v, nil
}

// Action returns the "action" of a parsed event, or "" for events without
// one (such as push).
func Action(event any) string {
	if a, ok := event.(interface{ GetAction() string }); ok {
		return a.GetAction()
	}
	return ""
}
