// Package details serves the page a check run's details_url opens: the
// verdict that produced the check run, rendered as HTML, behind an HMAC
// token bound to the repository, pull request number and head commit.
//
// The page shows only what the check run itself carries: it renders the
// same checks.Verdict the evaluator published, kept in a bounded in-memory
// Store, and never fetches anything from GitHub.
package details

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// keyLabel separates the details-link key from every other use of the
// webhook secret (domain separation), so a token says nothing about the secret.
const keyLabel = "countersign details-link v1"

// Signer makes and checks details-page tokens.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer whose key is derived from secret (the webhook
// secret) as HMAC-SHA256(secret, "countersign details-link v1").
func NewSigner(secret []byte) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyLabel))
	return &Signer{key: m.Sum(nil)}
}

// message is what a token is bound to; owner and repository are compared
// case-insensitively, as GitHub names are.
func message(owner, repo string, number int, head string) []byte {
	return []byte(strings.ToLower(owner) + "/" + strings.ToLower(repo) + "#" + strconv.Itoa(number) + "@" + strings.ToLower(head))
}

func (s *Signer) mac(owner, repo string, number int, head string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(message(owner, repo, number, head))
	return m.Sum(nil)
}

// Token returns the token of one pull request at one head (43 URL-safe characters).
func (s *Signer) Token(owner, repo string, number int, head string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(owner, repo, number, head))
}

// Valid reports whether token is the token of that pull request at that
// head. The comparison takes constant time.
func (s *Signer) Valid(owner, repo string, number int, head, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, s.mac(owner, repo, number, head))
}
