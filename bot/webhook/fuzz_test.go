package webhook

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"
)

func seedBodies(f *testing.F) map[string][]byte {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	out := map[string][]byte{}
	for _, file := range files {
		out[filepath.Base(file)] = readTestdata(f, filepath.Base(file))
	}
	return out
}

// FuzzVerify holds Verify to its contract: the signature Sign computes always
// verifies, and nothing else does for a changed body.
func FuzzVerify(f *testing.F) {
	for _, body := range seedBodies(f) {
		f.Add(testSecret, body, Sign(testSecret, body))
		f.Add(testSecret, body, "")
		f.Add([]byte("x"), body, "sha256=zz")
	}
	f.Add([]byte(""), []byte("{}"), "sha256="+strings.Repeat("0", 64))
	f.Add([]byte("k"), []byte("{}"), "SHA256="+strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		err := Verify(secret, body, header)
		if err == nil {
			if len(secret) == 0 {
				t.Fatal("verified with an empty secret")
			}
			if !strings.EqualFold(header, Sign(secret, body)) {
				t.Fatalf("accepted %q, which is not the body's signature", header)
			}
		}
		if len(secret) == 0 {
			return
		}
		good := Sign(secret, body)
		if err := Verify(secret, body, good); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		tampered := append(bytes.Clone(body), 'x')
		if err := Verify(secret, tampered, good); err == nil {
			t.Fatal("tampered body verified")
		}
	})
}

// FuzzParse feeds webhook bodies to Parse: it never panics, and what it
// accepts decodes into the event's go-github type.
func FuzzParse(f *testing.F) {
	for name, body := range seedBodies(f) {
		event, _, _ := strings.Cut(strings.TrimSuffix(name, ".json"), ".")
		f.Add(event, body)
		f.Add(event, body[:len(body)/2])
	}
	f.Add("pull_request", []byte(`{"action":"opened","number":"1"}`))
	f.Add("push", []byte(`null`))
	f.Add("check_run", []byte(`{"check_run":{"pull_requests":[null]}}`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		v, err := Parse(event, body)
		if err != nil {
			if v != nil {
				t.Fatal("value returned with an error")
			}
			return
		}
		want := reflect.TypeOf(github.EventForType(event))
		if reflect.TypeOf(v) != want {
			t.Fatalf("Parse(%q) = %T, want %v", event, v, want)
		}
		_ = Action(v)
	})
}
