// Package fencetest starts a real Redis for the tests of the fence and of
// the replicas that share it.
package fencetest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/countersign/countersign/bot/replicas"
)

// StartRedis runs redis-server on a free loopback port for the test
// (replicas.StartRedis) and returns its URL, or skips the test when
// redis-server is not installed, except in CI (CI=true), where .ci/run
// installs it and the test fails.
func StartRedis(t testing.TB) string {
	t.Helper()
	r, err := replicas.StartRedis(context.Background())
	if errors.Is(err, replicas.ErrNoRedisServer) {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; .ci/run installs it, and CI runs the replica tests")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server): this test needs a real Redis")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r.URL
}
