package state_test

import (
	"context"
	"testing"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
	"github.com/countersign/countersign/bot/state"
	"github.com/countersign/countersign/bot/state/statetest"
)

func TestRedisStores(t *testing.T) {
	f, err := fence.Dial(context.Background(), fencetest.StartRedis(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	statetest.Run(t, state.NewRedisStores(f.Client()))
	// Every record expires.
	ctx := context.Background()
	keys, err := f.Client().Keys(ctx, "countersign:state:*").Result()
	if err != nil || len(keys) < 3 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if ttl := f.Client().TTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL (%v)", k, ttl)
		}
	}
}
