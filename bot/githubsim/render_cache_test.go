package githubsim

import (
	"reflect"
	"testing"
)

// TestToObjCopiesAreIndependent: toObj hands out copies of what it caches,
// so a caller adding fields to one payload (nested objects included) does
// not change the next one.
func TestToObjCopiesAreIndependent(t *testing.T) {
	type owner struct {
		Login string `json:"login"`
	}
	type repo struct {
		Name   string   `json:"name"`
		Owner  owner    `json:"owner"`
		Topics []string `json:"topics"`
	}
	v := repo{Name: "widgets", Owner: owner{Login: "acme"}, Topics: []string{"a"}}
	first := toObj(v)
	want := obj{"name": "widgets", "owner": map[string]any{"login": "acme"}, "topics": []any{"a"}}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("toObj = %v, want %v", first, want)
	}
	first["custom_properties"] = obj{}
	first["owner"].(map[string]any)["login"] = "changed"
	first["topics"].([]any)[0] = "changed"
	if second := toObj(v); !reflect.DeepEqual(second, want) {
		t.Fatalf("second toObj = %v after the first was changed, want %v", second, want)
	}
}
