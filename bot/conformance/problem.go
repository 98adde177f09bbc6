package conformance

import (
	"fmt"
	"strings"
)

// Problem is one way a served response, a sent request or an emitted webhook
// differs from GitHub's published description of it.
type Problem struct {
	// Subject names what was checked, such as
	// "GET /repos/{owner}/{repo}/pulls 200 response" or "pull_request.opened webhook".
	Subject string
	// Pointer is the JSON pointer (RFC 6901) into the body; "" is the whole body.
	Pointer string
	// Message says what is wrong.
	Message string
}

// String formats the problem as "subject at pointer: message".
func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "(body)"
	}
	return fmt.Sprintf("%s at %s: %s", p.Subject, ptr, p.Message)
}

// pointer builds a JSON pointer from path tokens, escaping "~" and "/".
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

// clip shortens s to n bytes for messages that quote outside input.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
