package githubsim

import (
	"encoding/json"
	"hash"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

type hashHash = hash.Hash

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
func plumbingHash(s string) plumbing.Hash { return plumbing.NewHash(s) }
func trimNL(s string) string              { return strings.TrimSuffix(s, "\n") }
func lower(s string) string               { return strings.ToLower(s) }
