package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// Spec is GitHub's REST API description, read from the dereferenced OpenAPI
// document that @octokit/openapi ships (generated/api.github.com.deref.json).
//
// The document is about 70 MB. Loading all of it into kin-openapi takes
// seconds and most of a gigabyte, so Spec keeps each operation as raw JSON and
// decodes (and caches) only the operations that are asked for. The
// dereferenced variant has no $ref left, so an operation decodes on its own.
type Spec struct {
	// Version is info.version of the document (the package version).
	Version string

	paths map[string]map[string]json.RawMessage // route -> lower-case method -> operation

	mu  sync.Mutex
	ops map[string]*openapi3.Operation // "GET /route" -> decoded operation
}

// basicErrorSchema is GitHub's "Basic Error" shape, used for error statuses
// an operation does not document (500, 502, rate limits on most routes).
// GitHub's REST errors always carry message and documentation_url, so both
// are required here although the published schema marks neither.
var basicErrorSchema = &openapi3.Schema{
	Title:    "Basic Error",
	Type:     &openapi3.Types{openapi3.TypeObject},
	Required: []string{"message", "documentation_url"},
	Properties: openapi3.Schemas{
		"message":           openapi3.NewStringSchema().NewRef(),
		"documentation_url": openapi3.NewStringSchema().NewRef(),
		"url":               openapi3.NewStringSchema().NewRef(),
		"status":            openapi3.NewStringSchema().NewRef(),
	},
}

func init() {
	// GitHub's description uses format "uri" throughout; kin-openapi only
	// checks the formats that are registered.
	openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if u.Scheme == "" {
			return errors.New("not an absolute URI")
		}
		return nil
	}))
}

// LoadSpec reads the dereferenced OpenAPI document at file.
func LoadSpec(file string) (*Spec, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		return nil, fmt.Errorf("%s: not an OpenAPI 3 document with paths (openapi %q)", file, doc.OpenAPI)
	}
	if bytes.Contains(b, []byte(`"$ref"`)) {
		return nil, fmt.Errorf("%s: has $ref left; the dereferenced variant (*.deref.json) is needed", file)
	}
	return &Spec{Version: doc.Info.Version, paths: doc.Paths, ops: map[string]*openapi3.Operation{}}, nil
}

// Routes returns the number of path templates in the description.
func (s *Spec) Routes() int { return len(s.paths) }

// Operation returns the operation of method on route (an OpenAPI path
// template such as "/repos/{owner}/{repo}/pulls").
func (s *Spec) Operation(method, route string) (*openapi3.Operation, error) {
	key := strings.ToUpper(method) + " " + route
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.ops[key]; ok {
		return op, nil
	}
	item, ok := s.paths[route]
	if !ok {
		return nil, fmt.Errorf("route %s is not in GitHub's REST API description", route)
	}
	raw, ok := item[strings.ToLower(method)]
	if !ok {
		var have []string
		for m := range item {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options":
				have = append(have, strings.ToUpper(m))
			}
		}
		sort.Strings(have)
		return nil, fmt.Errorf("%s is not an operation of %s (GitHub has %s)", strings.ToUpper(method), route, strings.Join(have, ", "))
	}
	op := new(openapi3.Operation)
	if err := json.Unmarshal(raw, op); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", key, err)
	}
	applyErrata(op)
	s.ops[key] = op
	return op, nil
}

// DocumentedStatuses returns the response statuses GitHub documents for an operation.
func (s *Spec) DocumentedStatuses(method, route string) []string {
	op, err := s.Operation(method, route)
	if err != nil || op.Responses == nil {
		return nil
	}
	keys := op.Responses.Keys()
	sort.Strings(keys)
	return keys
}

// ValidateResponse checks a served response body against the description of
// its operation (method + route) and status. An error status the operation
// does not document (GitHub documents few of its 5xx and rate-limit answers)
// is checked against GitHub's basic error shape; an undocumented success or
// redirect status is a problem.
func (s *Spec) ValidateResponse(method, route string, status int, body []byte) []Problem {
	subject := fmt.Sprintf("%s %s %d response", strings.ToUpper(method), route, status)
	op, err := s.Operation(method, route)
	if err != nil {
		return []Problem{{Subject: subject, Message: err.Error()}}
	}
	if status == http.StatusNotModified && strings.EqualFold(method, "GET") {
		// GitHub answers any conditional GET whose ETag still matches with
		// 304, documented for the operation or not; it never has a body.
		if len(bytes.TrimSpace(body)) != 0 {
			return []Problem{{Subject: subject, Message: fmt.Sprintf("a 304 has no body, served %q", clip(string(body), 120))}}
		}
		return nil
	}
	var rref *openapi3.ResponseRef
	if op.Responses != nil {
		rref = op.Responses.Status(status)
	}
	if rref == nil || rref.Value == nil {
		if status >= 400 {
			return validateJSON(subject+" (undocumented error status, checked as Basic Error)", basicErrorSchema, body, openapi3.VisitAsResponse())
		}
		return []Problem{{Subject: subject, Message: fmt.Sprintf("status %d is not a documented response of %s (GitHub documents %s)",
			status, op.OperationID, strings.Join(s.DocumentedStatuses(method, route), ", "))}}
	}
	mt := jsonMediaType(rref.Value.Content)
	if mt == nil && status >= 400 && len(bytes.TrimSpace(body)) != 0 {
		// Some error statuses are documented without a body (the 404 of a
		// team membership); GitHub still sends its usual error body.
		return validateJSON(subject+" (error documented without a body, checked as Basic Error)", basicErrorSchema, body, openapi3.VisitAsResponse())
	}
	if mt == nil {
		if len(bytes.TrimSpace(body)) != 0 {
			return []Problem{{Subject: subject, Message: fmt.Sprintf("GitHub documents no body for this status, served %q", clip(string(body), 120))}}
		}
		return nil
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	probs := validateJSON(subject, mt.Schema.Value, body, openapi3.VisitAsResponse())
	if status >= 400 {
		// Whatever the documented schema, GitHub's error bodies say what and where to read.
		probs = append(probs, validateJSON(subject, basicErrorSchema, body, openapi3.VisitAsResponse())...)
	}
	return dedupe(probs)
}

// ValidateRequest checks a request body against the request schema of its
// operation. An empty body is fine when the body is optional.
func (s *Spec) ValidateRequest(method, route string, body []byte) []Problem {
	subject := fmt.Sprintf("%s %s request", strings.ToUpper(method), route)
	op, err := s.Operation(method, route)
	if err != nil {
		return []Problem{{Subject: subject, Message: err.Error()}}
	}
	trimmed := bytes.TrimSpace(body)
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		if len(trimmed) != 0 && !bytes.Equal(trimmed, []byte("null")) {
			return []Problem{{Subject: subject, Message: "GitHub documents no request body for this operation"}}
		}
		return nil
	}
	rb := op.RequestBody.Value
	// ghinstallation sends the JSON literal null as the body when it asks for
	// an installation token (POST /app/installations/{id}/access_tokens);
	// GitHub takes that as no body, and so does this check.
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		if rb.Required {
			return []Problem{{Subject: subject, Message: "the request body is required"}}
		}
		return nil
	}
	mt := jsonMediaType(rb.Content)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	return validateJSON(subject, mt.Schema.Value, body, openapi3.VisitAsRequest())
}

// jsonMediaType picks the JSON media type of a content map.
func jsonMediaType(c openapi3.Content) *openapi3.MediaType {
	if len(c) == 0 {
		return nil
	}
	if mt := c.Get("application/json"); mt != nil {
		return mt
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasSuffix(k, "json") || strings.HasPrefix(k, "application/vnd.github") {
			return c[k]
		}
	}
	return nil
}

// validateJSON decodes body and checks it against schema, returning one
// problem per violation.
func validateJSON(subject string, schema *openapi3.Schema, body []byte, mode openapi3.SchemaValidationOption) []Problem {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []Problem{{Subject: subject, Message: fmt.Sprintf("body is not JSON (%v): %q", err, clip(string(body), 120))}}
	}
	err := schema.VisitJSON(v, mode, openapi3.MultiErrors(), openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails())
	if err == nil {
		return nil
	}
	var out []Problem
	collectSchemaErrors(subject, err, &out)
	return dedupe(out)
}

// collectSchemaErrors flattens kin-openapi's error tree into problems.
func collectSchemaErrors(subject string, err error, out *[]Problem) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(subject, e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		*out = append(*out, Problem{Subject: subject, Message: err.Error()})
		return
	}
	msg := se.Reason
	if msg == "" {
		msg = fmt.Sprintf("does not match %q", se.SchemaField)
	}
	if se.SchemaField != "" && !strings.Contains(msg, se.SchemaField) {
		msg = se.SchemaField + ": " + msg
	}
	if se.Origin != nil {
		// oneOf / anyOf: say why each alternative failed, briefly.
		var sub []Problem
		collectSchemaErrors(subject, se.Origin, &sub)
		var parts []string
		for _, p := range sub {
			parts = append(parts, strings.TrimPrefix(p.Pointer+" ", " ")+p.Message)
		}
		if len(parts) > 0 {
			msg += " (" + clip(strings.Join(parts, "; "), 400) + ")"
		}
	} else if se.SchemaField == "enum" || se.SchemaField == "type" || se.SchemaField == "format" || se.SchemaField == "maxItems" || se.SchemaField == "pattern" {
		if b, err := json.Marshal(se.Value); err == nil && se.SchemaField != "maxItems" {
			msg += ", served " + clip(string(b), 120)
		}
		if se.SchemaField == "enum" && se.Schema != nil {
			b, _ := json.Marshal(se.Schema.Enum)
			msg += ", GitHub allows " + clip(string(b), 200)
		}
	}
	*out = append(*out, Problem{Subject: subject, Pointer: pointer(se.JSONPointer()), Message: msg})
}

// dedupe drops repeated problems, keeping the first of each.
func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// UndeclaredFields lists the fields of a served response that GitHub's
// schema for it does not declare. These are notes, not failures: GitHub's
// description declares the same object differently in different operations
// (a team's "type" is required in one and absent in another), so an
// undeclared field is a lead to check, not proof.
func (s *Spec) UndeclaredFields(method, route string, status int, body []byte) []Problem {
	op, err := s.Operation(method, route)
	if err != nil || op.Responses == nil {
		return nil
	}
	rref := op.Responses.Status(status)
	if rref == nil || rref.Value == nil {
		return nil
	}
	mt := jsonMediaType(rref.Value.Content)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	return undeclared(fmt.Sprintf("%s %s %d response", strings.ToUpper(method), route, status), mt.Schema.Value, v, nil)
}

// ValidateError checks the body of a response to a path the simulator
// serves no route for (its 404) against GitHub's basic error shape.
func (s *Spec) ValidateError(method, path string, status int, body []byte) []Problem {
	return validateJSON(fmt.Sprintf("%s %s %d response (no route)", strings.ToUpper(method), path, status), basicErrorSchema, body, openapi3.VisitAsResponse())
}

// applyErrata corrects known mistakes of GitHub's description that no real
// response could satisfy, so they are not reported against the simulator.
//
//   - GET /app/installations inlines the installation's account as
//     allOf [Simple User, Enterprise], which asks an account to be both; the
//     component it was inlined from (components.schemas.installation) and
//     GET /app/installations/{installation_id} say anyOf.
func applyErrata(op *openapi3.Operation) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if len(s.AllOf) == 2 && s.AllOf[0].Value != nil && s.AllOf[1].Value != nil &&
			s.AllOf[0].Value.Title == "Simple User" && s.AllOf[1].Value.Title == "Enterprise" {
			s.AnyOf, s.AllOf = s.AllOf, nil
		}
		for _, p := range s.Properties {
			walk(p.Value)
		}
		if s.Items != nil {
			walk(s.Items.Value)
		}
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range l {
				walk(x.Value)
			}
		}
	}
	if op.Responses == nil {
		return
	}
	for _, r := range op.Responses.Map() {
		if r.Value == nil {
			continue
		}
		for _, mt := range r.Value.Content {
			if mt.Schema != nil {
				walk(mt.Schema.Value)
			}
		}
	}
}

// undeclared reports object fields a response carries that GitHub's schema
// does not declare. GitHub's response schemas rarely forbid extra fields,
// so a misspelt or invented field would otherwise pass unnoticed. Objects
// whose schema declares no properties (free-form maps) are not checked.
func undeclared(subject string, s *openapi3.Schema, v any, path []string) []Problem {
	if s == nil || v == nil {
		return nil
	}
	switch x := v.(type) {
	case []any:
		if s.Items == nil {
			return nil
		}
		var out []Problem
		for i, e := range x {
			out = append(out, undeclared(subject, s.Items.Value, e, append(path, strconv.Itoa(i)))...)
		}
		return out
	case map[string]any:
		// Of alternatives, follow the one the value matches.
		for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			for _, a := range alts {
				if a.Value != nil && a.Value.VisitJSON(v, openapi3.VisitAsResponse()) == nil {
					return undeclared(subject, a.Value, v, path)
				}
			}
		}
		props := map[string][]*openapi3.Schema{}
		open := false
		var collect func(s *openapi3.Schema)
		collect = func(s *openapi3.Schema) {
			for k, p := range s.Properties {
				props[k] = append(props[k], p.Value)
			}
			if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has || s.AdditionalProperties.Schema != nil {
				open = true
			}
			for _, a := range s.AllOf {
				if a.Value != nil {
					collect(a.Value)
				}
			}
		}
		collect(s)
		if len(props) == 0 {
			return nil
		}
		var out []Problem
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k]
			if !ok {
				if !open {
					out = append(out, Problem{Subject: subject, Pointer: pointer(append(path, k)),
						Message: "field not in GitHub's description of this response (invented or misspelt?)"})
				}
				continue
			}
			for _, p := range ps {
				out = append(out, undeclared(subject, p, x[k], append(path, k))...)
			}
		}
		return dedupe(out)
	}
	return nil
}
