package githubsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzCheckRunBody feeds arbitrary bodies to the check-run validator: it must
// never panic, and whatever it accepts must apply cleanly.
func FuzzCheckRunBody(f *testing.F) {
	f.Add(`{"name":"c","head_sha":"` + strings.Repeat("a", 40) + `","status":"completed","conclusion":"success"}`)
	f.Add(`{"name":"c","head_sha":"x","output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":1,"annotation_level":"notice","message":"m"}]}}`)
	f.Add(`{"name":"c","head_sha":"x","actions":[{"label":"l","description":"d","identifier":"i"}]}`)
	f.Add(`{"output":{"annotations":[1,"x",null]}}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, body string) {
		var in checkRunInput
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		for _, create := range []bool{true, false} {
			if validateCheckRun(&in, create) == "" {
				s := &state{now: fixedNow}
				s.applyCheckRun(&checkRun{status: "queued"}, &in)
			}
		}
	})
}

// FuzzRouteMatch matches arbitrary paths against the route table: no panics,
// and a match binds every template parameter.
func FuzzRouteMatch(f *testing.F) {
	f.Add("repos/acme/widgets/commits/feature/x/check-runs")
	f.Add("repos/acme/widgets/contents/a/b/c.txt")
	f.Add("repos/acme/widgets/compare/main...feature")
	f.Add("repos//widgets")
	var routes []*route
	(&state{}).registerRoutes(func(method, tmpl string, auth authKind, h func(c *reqCtx)) {
		routes = append(routes, &route{method: method, tmpl: tmpl, segs: strings.Split(strings.TrimPrefix(tmpl, "/"), "/")})
	})
	f.Fuzz(func(t *testing.T, path string) {
		segs := strings.Split(path, "/")
		for _, rt := range routes {
			p, ok := rt.match(segs)
			if !ok {
				continue
			}
			for _, seg := range rt.segs {
				if strings.HasPrefix(seg, "{") {
					if _, bound := p[strings.Trim(seg, "{}")]; !bound {
						t.Fatalf("%s matched %q without binding %s", rt.tmpl, path, seg)
					}
				}
			}
		}
	})
}

func fixedNow() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
