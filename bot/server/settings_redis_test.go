package server

import (
	"strings"
	"testing"
)

// TestRedisURLSetting: --redis-url / COUNTERSIGN_REDIS_URL is optional,
// must be a redis:// or rediss:// URL, and never shows its password in an
// error or in the logged settings.
func TestRedisURLSetting(t *testing.T) {
	key := string(testKeyPEM(t))
	base := map[string]string{"COUNTERSIGN_APP_ID": "1", "COUNTERSIGN_PRIVATE_KEY": key, "COUNTERSIGN_WEBHOOK_SECRET": "s"}
	env := func(url string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		if url != "" {
			m["COUNTERSIGN_REDIS_URL"] = url
		}
		return mapEnv(m)
	}
	s, err := LoadSettings(nil, env(""))
	if err != nil || s.RedisURL != "" {
		t.Fatalf("unset: %q, %v", s.RedisURL, err)
	}
	s, err = LoadSettings(nil, env("redis://:hunter2@10.0.0.5:6379/2"))
	if err != nil || s.RedisURL != "redis://:hunter2@10.0.0.5:6379/2" {
		t.Fatalf("valid URL: %v", err)
	}
	var b strings.Builder
	s.NewLogger(&b).Info("settings", "settings", s)
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), `"redis":true`) {
		t.Errorf("logged settings: %s", b.String())
	}
	for _, bad := range []string{"http://:hunter2@host:6379", "redis://", "hunter2"} {
		_, err := LoadSettings(nil, env(bad))
		if err == nil || !strings.Contains(err.Error(), "--redis-url / COUNTERSIGN_REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
