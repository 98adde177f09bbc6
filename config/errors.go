package config

import (
	"fmt"
	"strings"
)

// Error is one problem found in a policy file, with its position.
type Error struct {
	// File names the policy file, as given to Parse.
	File string `json:"file"`
	// Line is the 1-based line of the offending node; 0 when unknown.
	Line int `json:"line"`
	// Column is the 1-based column of the offending node; 0 when unknown.
	Column int `json:"column"`
	// Path is the key path of the offending value, such as
	// `protected_paths.rules[2].approvers.teams[0]`; empty for the whole file.
	Path string `json:"path,omitempty"`
	// Message says what is wrong and, where it can, how to fix it.
	Message string `json:"message"`
}

// Error formats the error as `file:line:col: path: message`, leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in a policy file, in file order.
type Errors []*Error

// Error joins the errors one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, so errors.As finds an *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
