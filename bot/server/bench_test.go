package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign/bot/webhook"
)

// BenchmarkDelivery measures the intake of one signed pull_request delivery
// (verify, parse, dedup, queue) against a backend that returns at once.
func BenchmarkDelivery(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", "pull_request.synchronize.json"))
	if err != nil {
		b.Fatal(err)
	}
	sig := webhook.Sign(testSecret, body)
	s, err := New(Options{Backend: newFakeBackend(), WebhookSecret: testSecret,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), QueueSize: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(b.Context()) })
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set(webhook.EventHeader, "pull_request")
		req.Header.Set(webhook.DeliveryHeader, fmt.Sprint("bench-", i))
		req.Header.Set(webhook.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
