package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
)

// Compiled returns the policy (Policy) compiled, once per evaluation and,
// across evaluations, from the Cache, keyed by the policy's content: the
// same file at another commit, or the built-in default, is not compiled
// again.
func (g *GitHub) Compiled(ctx context.Context) (*checks.Compiled, error) {
	return g.compiled.get(func() (*checks.Compiled, error) {
		p, err := g.Policy(ctx)
		if err != nil {
			return nil, err
		}
		return compileCached(g.o.Cache, p)
	})
}

// compileCached compiles p, or returns the compiled policy of the same
// content from c. A policy that does not compile is a *PolicyError.
func compileCached(c *Cache, p *config.Policy) (*checks.Compiled, error) {
	key, kerr := compiledKey(p)
	if kerr == nil {
		if v, ok := c.Get(key); ok {
			return v.(*checks.Compiled), nil
		}
	}
	cp, err := checks.Compile(p)
	if err != nil {
		return nil, &PolicyError{Source: p.Source, Err: err}
	}
	if kerr == nil {
		c.Put(key, cp)
	}
	return cp, nil
}

// compiledKey names a policy by its content, where it was read included.
func compiledKey(p *config.Policy) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "compiled\x00" + hex.EncodeToString(sum[:]), nil
}
