package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest policy file Parse accepts.
const MaxFileSize = 1 << 20

// Parse decodes a policy file strictly. file names the file in errors. An
// empty file, or one of comments only, is the default policy. The error, when
// not nil, is an Errors listing every problem found.
func Parse(file string, data []byte) (*Policy, error) {
	d := &decoder{file: file, pos: map[string]position{}}
	p := &Policy{Source: Source{Path: file}}
	if len(data) > MaxFileSize {
		d.errs = append(d.errs, &Error{File: file, Message: fmt.Sprintf("the file is %d bytes; a policy file may be at most %d", len(data), MaxFileSize)})
		return nil, d.errs
	}
	root, ok := d.document(data)
	if ok && root != nil {
		d.decode(root, reflect.ValueOf(p).Elem(), "")
		d.validate(p)
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool {
			a, b := d.errs[i], d.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, d.errs
	}
	return p, nil
}

// position is where a node stands in the file.
type position struct{ line, col int }

// decoder walks a yaml.Node tree into Go values, collecting every error.
type decoder struct {
	file string
	errs Errors
	// pos maps a key path to the position of its value, for errors found
	// after decoding.
	pos map[string]position
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// document parses data into the root node of its one document. It returns
// nil and true for an empty document.
func (d *decoder) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		d.syntaxError(err, data)
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err, data)
		return nil, false
	default:
		d.errs = append(d.errs, &Error{File: d.file, Line: extra.Line, Column: extra.Column,
			Message: "the file holds more than one YAML document (---); a policy file is one mapping"})
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, true
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, true
	}
	if root.Kind != yaml.MappingNode {
		d.errorAt(root, "", "the policy file must be a mapping of keys such as `review:` and `protected_paths:`, got %s", describe(root))
		return nil, false
	}
	return root, true
}

func (d *decoder) syntaxError(err error, data []byte) {
	msg := err.Error()
	e := &Error{File: d.file}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	e.Message = "invalid YAML: " + msg
	switch {
	case strings.Contains(msg, "unknown anchor") || strings.Contains(msg, "alphabetic or numeric character"):
		e.Message += ` (a value that starts with * is an alias in YAML: quote globs, as in "*.tf")`
		if e.Line == 0 {
			e.Line = lineOf(data, unquotedStar)
		}
	case strings.Contains(msg, "cannot start any token"):
		e.Message += " (indent with spaces, not tabs, and quote values that start with @ or `)"
		if e.Line == 0 {
			e.Line = lineOf(data, leadingTab)
		}
	}
	d.errs = append(d.errs, e)
}

var (
	unquotedStar = regexp.MustCompile(`(?m)(?:^|[\[,]|[-:]\s)\s*\*`)
	leadingTab   = regexp.MustCompile(`(?m)^ *\t|(?:^|:\s+|-\s+)[@` + "`" + `]`)
)

// lineOf returns the 1-based line of the first match of re in data, or 0.
func lineOf(data []byte, re *regexp.Regexp) int {
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return bytes.Count(data[:loc[0]], []byte("\n")) + 1
}

// errorAt records an error at node n.
func (d *decoder) errorAt(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

// errorPath records an error at the value decoded for path, or at its
// nearest decoded parent.
func (d *decoder) errorPath(path, format string, args ...any) {
	p := d.position(path)
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Column: p.col, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) position(path string) position {
	for {
		if p, ok := d.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return d.pos[""]
		}
		path = path[:i]
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the text %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		case "!!null":
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unknown node"
}

// expected names what a Go type wants, for "expected X, got Y" messages.
func expected(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.Struct:
		return "a mapping"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "a list of mappings"
		}
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(expected(t.Elem()), "a "), "an ") + "s"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	}
	return t.String()
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode stores node n into v, recording errors under path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.pos[path] = position{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		d.errorAt(n, path, "YAML aliases (*%s) are not supported in a policy file; write the value out", n.Value)
		return
	}
	t := v.Type()
	if isNull(n) {
		// An explicit empty value where a list or an approvers/overrides
		// mapping belongs is a mistake, never a silent "unset": `teams: ~`
		// would otherwise lift the restriction it meant to state.
		switch key := path[strings.LastIndexAny(path, ".")+1:]; {
		case strings.HasSuffix(path, "]"):
			d.errorAt(n, path, "empty list item; remove it or give %s", expected(t))
		case t.Kind() == reflect.Slice:
			d.errorAt(n, path, "empty value for %q; remove the key or give a list", key)
		case t.Kind() == reflect.Struct && (key == "approvers" || key == "overrides"):
			d.errorAt(n, path, "empty value for %q; remove the key or give a mapping", key)
		}
		return // otherwise unset: the getter's default applies
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		if d.decodeScalar(n, elem.Elem(), path) {
			v.Set(elem)
		}
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			hint := ""
			if n.Kind == yaml.ScalarNode && t.Elem().Kind() == reflect.String {
				hint = fmt.Sprintf("; write [%q] for a list of one", n.Value)
			}
			d.errorAt(n, path, "expected %s, got %s%s", expected(t), describe(n), hint)
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	default:
		d.decodeScalar(n, v, path)
	}
}

// decodeScalar stores a string, bool or int; it reports whether it did.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) bool {
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode {
		switch v.Kind() {
		case reflect.String:
			if tag == "!!str" {
				v.SetString(n.Value)
				return true
			}
			if tag == "!!int" || tag == "!!float" || tag == "!!bool" {
				d.errorAt(n, path, "expected a string, got %s; quote it if you mean the text: %q", describe(n), n.Value)
				return false
			}
		case reflect.Bool:
			if tag == "!!bool" {
				var b bool
				if err := n.Decode(&b); err == nil {
					v.SetBool(b)
					return true
				}
			}
		case reflect.Int:
			if tag == "!!int" {
				var i int
				if err := n.Decode(&i); err == nil {
					v.SetInt(int64(i))
					return true
				}
				d.errorAt(n, path, "the number %s is out of range", n.Value)
				return false
			}
		}
	}
	d.errorAt(n, path, "expected %s, got %s", expected(v.Type()), describe(n))
	return false
}

// fieldInfo maps the yaml keys of a struct type to field indexes.
type fieldInfo struct {
	index map[string]int
	keys  []string
}

var fieldCache sync.Map // reflect.Type -> *fieldInfo

func fieldsOf(t reflect.Type) *fieldInfo {
	if fi, ok := fieldCache.Load(t); ok {
		return fi.(*fieldInfo)
	}
	fi := &fieldInfo{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fi.index[name] = i
		fi.keys = append(fi.keys, name)
	}
	fieldCache.Store(t, fi)
	return fi
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, path, "expected a mapping of keys (%s), got %s", strings.Join(fieldsOf(v.Type()).keys, ", "), describe(n))
		return
	}
	fi := fieldsOf(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorAt(k, path, "a key must be plain text, got %s", describe(k))
			continue
		}
		key := k.Value
		kpath := joinKey(path, key)
		if first, dup := seen[key]; dup {
			d.errorAt(k, kpath, "duplicate key %q (first set on line %d)", key, first.Line)
			continue
		}
		seen[key] = k
		idx, ok := fi.index[key]
		if !ok {
			switch {
			case k.ShortTag() == "!!merge":
				d.errorAt(k, kpath, "YAML merge keys (<<) are not supported in a policy file; write the keys out")
			default:
				msg := fmt.Sprintf("unknown key %q", key)
				if s := suggest(key, fi.keys); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else {
					msg += "; known keys here are " + strings.Join(fi.keys, ", ")
				}
				d.errorAt(k, kpath, "%s", msg)
			}
			continue
		}
		d.decode(val, v.Field(idx), kpath)
	}
}

// suggest returns the candidate nearest to s, or "" when none is near.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if dist := levenshtein(strings.ToLower(s), c); dist < bestD {
			best, bestD = c, dist
		}
	}
	limit := max(2, len(s)/3)
	if bestD <= limit {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
