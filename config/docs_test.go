package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The policy documentation must cover every key, every preset with its
// globs and the exact built-in default, and its examples must be valid.

func readPolicyDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatalf("read docs/policy.md: %v", err)
	}
	return string(b)
}

// schemaKeys lists every key of the policy file as the docs write it:
// list elements as [], and the approvers keys as approvers.<key>.
func schemaKeys(t reflect.Type, prefix string, out *[]string) {
	if t == reflect.TypeFor[Approvers]() && prefix != "approvers" {
		*out = append(*out, prefix)
		schemaKeys(t, "approvers", out)
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		*out = append(*out, path)
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			schemaKeys(ft.Elem(), path+"[]", out)
		} else if ft.Kind() == reflect.Struct {
			schemaKeys(ft, path, out)
		}
	}
}

func TestDocsMentionEveryKey(t *testing.T) {
	doc := readPolicyDoc(t)
	var keys []string
	schemaKeys(reflect.TypeFor[Policy](), "", &keys)
	if len(keys) < 40 {
		t.Fatalf("only %d keys found: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("docs/policy.md does not mention `%s`", k)
		}
	}
}

func TestDocsMentionEveryPreset(t *testing.T) {
	doc := readPolicyDoc(t)
	for _, pr := range Presets() {
		i := strings.Index(doc, "### `"+pr.Name+"`\n")
		if i < 0 {
			t.Errorf("docs/policy.md has no section for preset %s", pr.Name)
			continue
		}
		section := doc[i:]
		if j := strings.Index(section[4:], "\n## "); j >= 0 {
			section = section[:j]
		}
		if j := strings.Index(section[4:], "\n### "); j >= 0 {
			section = section[:j+4]
		}
		if !strings.Contains(section, pr.Description) {
			t.Errorf("preset %s: description missing or out of date", pr.Name)
		}
		for _, g := range append(append([]string{}, pr.Paths...), pr.Ignore...) {
			if !strings.Contains(section, `"`+g+`"`) {
				t.Errorf("preset %s: glob %q missing from its section", pr.Name, g)
			}
		}
		if n := strings.Count(section, "\n  - "); n != len(pr.Paths)+len(pr.Ignore) {
			t.Errorf("preset %s: the docs list %d globs, the preset has %d", pr.Name, n, len(pr.Paths)+len(pr.Ignore))
		}
	}
}

func TestDocsShowTheDefault(t *testing.T) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(Default().Effective()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readPolicyDoc(t), "```yaml\n"+b.String()+"```\n") {
		t.Errorf("docs/policy.md does not show the built-in default as config print writes it:\n%s", b.String())
	}
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

func TestDocsExamplesAreValid(t *testing.T) {
	n := 0
	for _, m := range yamlBlock.FindAllStringSubmatch(readPolicyDoc(t), -1) {
		src := m[1]
		first := strings.TrimLeft(src, "\n")
		for strings.HasPrefix(first, "#") {
			_, first, _ = strings.Cut(first, "\n")
		}
		key, _, _ := strings.Cut(first, ":")
		switch key {
		case "agents", "review", "protected_paths", "commands", "overrides":
		default:
			continue // a fragment, such as a preset's globs
		}
		n++
		if _, err := Parse("docs/policy.md example", []byte(src)); err != nil {
			t.Errorf("example does not validate: %v\n%s", err, src)
		}
	}
	if n < 10 {
		t.Errorf("only %d examples checked", n)
	}
}

// indentedYAMLBlock matches fenced YAML blocks at any indentation, as in a
// Markdown list item.
var indentedYAMLBlock = regexp.MustCompile("(?m)^([ \t]*)```yaml\n((?s:.*?))^[ \t]*```")

// The README's quickstart policy is what a newcomer copies first; it must
// validate.
func TestReadmePolicyExamplesAreValid(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	n := 0
	for _, m := range indentedYAMLBlock.FindAllStringSubmatch(string(b), -1) {
		indent, body := m[1], m[2]
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			lines = append(lines, strings.TrimPrefix(l, indent))
		}
		src := strings.Join(lines, "\n")
		if !strings.Contains(src, "protected_paths:") && !strings.Contains(src, "review:") && !strings.Contains(src, "agents:") {
			continue
		}
		n++
		if _, err := Parse("README.md example", []byte(src)); err != nil {
			t.Errorf("README example does not validate: %v\n%s", err, src)
		}
	}
	if n == 0 {
		t.Error("no policy example found in README.md")
	}
}
