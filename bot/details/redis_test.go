package details

import (
	"context"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/countersign/countersign/bot/fence"
	"github.com/countersign/countersign/bot/fence/fencetest"
)

// A verdict published by one replica is shown by another (and by every
// replica after a restart): the page reads the store in Redis.
func TestRedisStoreSharedByReplicas(t *testing.T) {
	redisURL := fencetest.StartRedis(t)
	var pages []http.Handler
	var stores []*RedisStore
	signer := NewSigner([]byte(webhookSecret))
	for range 2 {
		f, err := fence.Dial(context.Background(), redisURL)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st := NewRedisStore(f.Client())
		stores = append(stores, st)
		mux := http.NewServeMux()
		mux.Handle(Pattern, Handler(Options{Signer: signer, Store: st, PRURL: PRURLUnder("https://github.example/")}))
		pages = append(pages, mux)
	}
	stores[0].Put("acme", "platform", 7, head, verdict(t))
	req := httptest.NewRequest(http.MethodGet, "/details/acme/platform/7/"+head+"?token="+neturl.QueryEscape(signer.Token("acme", "platform", 7, head)), nil)
	rec := httptest.NewRecorder()
	pages[1].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="conclusion">✓ success`) {
		t.Fatalf("the other replica's page: %d\n%s", rec.Code, rec.Body)
	}
	if _, ok := stores[1].Get("acme", "platform", 8, head); ok {
		t.Fatal("another pull request shares the verdict")
	}
}
