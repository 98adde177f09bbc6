package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// WebhookSchemas are the JSON schemas of GitHub's webhook payloads, from
// @octokit/webhooks-schemas (schema.json: one definition per event and
// action, named "event$action", or "event$event" for events without actions).
type WebhookSchemas struct {
	defs map[string]bool

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// webhookSchemaURL is the name schema.json is registered under in the compiler.
const webhookSchemaURL = "file:///octokit/webhooks-schemas/schema.json"

// LoadWebhookSchemas reads schema.json.
func LoadWebhookSchemas(file string) (*WebhookSchemas, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON object", file)
	}
	defs, ok := m["definitions"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: no definitions", file)
	}
	w := &WebhookSchemas{defs: map[string]bool{}, compiled: map[string]*jsonschema.Schema{}}
	for k := range defs {
		if strings.Contains(k, "$") {
			w.defs[k] = true
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	// jsonschema v6.0.3 splits a template on "/" before matching braces, so it
	// rejects RFC 6570 path expansions such as ".../git/blobs{/sha}" that every
	// GitHub payload carries; check templates whole instead.
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: validateURITemplate})
	if err := c.AddResource(webhookSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	w.compiler = c
	return w, nil
}

// uriTemplateExpr is one RFC 6570 expression: an optional operator and
// comma-separated variables, each with an optional prefix or explode modifier.
var uriTemplateExpr = regexp.MustCompile(`^[+#./;?&=,!@|]?([A-Za-z0-9_.]|%[0-9A-Fa-f]{2})+(:[1-9][0-9]{0,3}|\*)?(,([A-Za-z0-9_.]|%[0-9A-Fa-f]{2})+(:[1-9][0-9]{0,3}|\*)?)*$`)

// validateURITemplate checks a string is an RFC 6570 URI template.
func validateURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	rest := s
	for {
		open := strings.IndexByte(rest, '{')
		close := strings.IndexByte(rest, '}')
		if open < 0 {
			if close >= 0 {
				return errors.New("unmatched closing brace")
			}
			return nil
		}
		if close < open {
			return errors.New("unmatched closing brace")
		}
		if !uriTemplateExpr.MatchString(rest[open+1 : close]) {
			return fmt.Errorf("bad expression {%s}", rest[open+1:close])
		}
		rest = rest[close+1:]
	}
}

// Kinds returns the number of event/action pairs described.
func (w *WebhookSchemas) Kinds() int { return len(w.defs) }

// definition names the schema of an event and action.
func definition(event, action string) string {
	if action == "" {
		return event + "$event"
	}
	return event + "$" + action
}

// Has reports whether GitHub describes that event and action.
func (w *WebhookSchemas) Has(event, action string) bool { return w.defs[definition(event, action)] }

// schema compiles (once) the schema of an event and action.
func (w *WebhookSchemas) schema(event, action string) (*jsonschema.Schema, error) {
	name := definition(event, action)
	if !w.defs[name] {
		return nil, fmt.Errorf("GitHub describes no %q webhook", name)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.compiled[name]; ok {
		return s, nil
	}
	s, err := w.compiler.Compile(webhookSchemaURL + "#/definitions/" + url.PathEscape(name))
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	w.compiled[name] = s
	return s, nil
}

// Validate checks a webhook payload against the schema of its event and
// action, and that the payload's own "action" field says the same action.
func (w *WebhookSchemas) Validate(event, action string, body []byte) []Problem {
	subject := event + " webhook"
	if action != "" {
		subject = event + "." + action + " webhook"
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []Problem{{Subject: subject, Message: fmt.Sprintf("body is not JSON (%v): %q", err, clip(string(body), 120))}}
	}
	var probs []Problem
	if m, ok := v.(map[string]any); ok {
		got, _ := m["action"].(string)
		if got != action {
			probs = append(probs, Problem{Subject: subject, Pointer: "/action",
				Message: fmt.Sprintf("the delivery says action %q, the payload %q", action, got)})
		}
	}
	s, err := w.schema(event, action)
	if err != nil {
		return append(probs, Problem{Subject: subject, Message: err.Error()})
	}
	err = s.Validate(v)
	if err == nil {
		return probs
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return append(probs, Problem{Subject: subject, Message: err.Error()})
	}
	return append(probs, leafProblems(subject, ve)...)
}

// leafProblems turns a validation error tree into one problem per failing
// keyword. (jsonschema's BasicOutput loses the messages of errors reached
// through a $ref, so the tree is walked here.) A failed oneOf/anyOf is
// reported with the failures of its closest alternative only.
func leafProblems(subject string, ve *jsonschema.ValidationError) []Problem {
	var probs []Problem
	walkValidationError(subject, ve, &probs)
	if len(probs) == 0 {
		probs = append(probs, Problem{Subject: subject, Message: clip(ve.Error(), 400)})
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Pointer < probs[j].Pointer })
	return dedupe(probs)
}

var messagePrinter = message.NewPrinter(language.English)

func walkValidationError(subject string, ve *jsonschema.ValidationError, out *[]Problem) {
	switch ve.ErrorKind.(type) {
	case *kind.Group, *kind.AllOf, *kind.Reference, *kind.Schema:
		for _, c := range ve.Causes {
			walkValidationError(subject, c, out)
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		var best []Problem
		for _, c := range ve.Causes {
			var branch []Problem
			walkValidationError(subject, c, &branch)
			// A branch that failed only on its type (the null of a nullable
			// object) explains nothing.
			if len(branch) == 1 && strings.HasPrefix(branch[0].Message, "got ") {
				continue
			}
			if best == nil || len(branch) < len(best) {
				best = branch
			}
		}
		msg := ve.ErrorKind.LocalizedString(messagePrinter)
		if len(best) > 0 {
			msg += "; the closest alternative fails at " + best[0].Pointer + ": " + best[0].Message
			if len(best) > 1 {
				msg += fmt.Sprintf(" (and %d more)", len(best)-1)
			}
		}
		*out = append(*out, Problem{Subject: subject, Pointer: pointer(ve.InstanceLocation), Message: msg})
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			walkValidationError(subject, c, out)
		}
		return
	}
	msg := ve.ErrorKind.LocalizedString(messagePrinter)
	switch k := ve.ErrorKind.(type) {
	case *kind.Enum:
		msg += ", served " + display(k.Got)
	case *kind.Const:
		msg += ", served " + display(k.Got)
	}
	*out = append(*out, Problem{Subject: subject, Pointer: pointer(ve.InstanceLocation), Message: msg})
}

// display renders a JSON value briefly for a message.
func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), 120)
}

// shortKeyword trims a keyword location to its last few steps.
func shortKeyword(loc string) string {
	parts := strings.Split(loc, "/")
	if len(parts) > 4 {
		parts = append([]string{"…"}, parts[len(parts)-4:]...)
	}
	return strings.Join(parts, "/")
}

// Example is one real webhook payload from @octokit/webhooks-examples.
type Example struct {
	// Event is the X-GitHub-Event name, such as "pull_request".
	Event string
	// Action is the payload's action, "" for events without one.
	Action string
	// Index is the example's position among its event's examples.
	Index int
	// Body is the payload as JSON.
	Body []byte
}

// Name identifies the example in test output, such as "pull_request.opened#3".
func (e Example) Name() string {
	if e.Action == "" {
		return fmt.Sprintf("%s#%d", e.Event, e.Index)
	}
	return fmt.Sprintf("%s.%s#%d", e.Event, e.Action, e.Index)
}

// LoadExamples reads api.github.com/index.json of @octokit/webhooks-examples
// and returns the examples of the given events (all when none are given).
func LoadExamples(dir string, events ...string) ([]Example, error) {
	file := filepath.Join(dir, "api.github.com", "index.json")
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var idx []struct {
		Name     string            `json:"name"`
		Examples []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	want := map[string]bool{}
	for _, e := range events {
		want[e] = true
	}
	var out []Example
	for _, ev := range idx {
		if len(events) > 0 && !want[ev.Name] {
			continue
		}
		delete(want, ev.Name)
		for i, raw := range ev.Examples {
			var head struct {
				Action string `json:"action"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("%s: %s example %d: %w", file, ev.Name, i, err)
			}
			out = append(out, Example{Event: ev.Name, Action: head.Action, Index: i, Body: raw})
		}
	}
	if len(want) > 0 {
		var missing []string
		for e := range want {
			missing = append(missing, e)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("%s: no examples of %s", file, strings.Join(missing, ", "))
	}
	return out, nil
}
