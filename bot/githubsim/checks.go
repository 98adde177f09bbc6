package githubsim

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"
)

type checkRun struct {
	id, suiteID            int64
	repo                   *repo
	headSHA, name          string
	status, conclusion     string
	externalID, detailsURL string
	startedAt, completedAt time.Time
	title, summary, text   string
	hasOutput              bool
	annotations            int
	actions                []obj
}

// checkRunInput is the body of POST /check-runs and PATCH /check-runs/{id}; pointers record presence.
type checkRunInput struct {
	Name        *string           `json:"name"`
	HeadSHA     *string           `json:"head_sha"`
	DetailsURL  *string           `json:"details_url"`
	ExternalID  *string           `json:"external_id"`
	Status      *string           `json:"status"`
	Conclusion  *string           `json:"conclusion"`
	StartedAt   *string           `json:"started_at"`
	CompletedAt *string           `json:"completed_at"`
	Output      *checkRunOutput   `json:"output"`
	Actions     *[]checkRunAction `json:"actions"`
}

type checkRunOutput struct {
	Title       *string           `json:"title"`
	Summary     *string           `json:"summary"`
	Text        *string           `json:"text"`
	Annotations []json.RawMessage `json:"annotations"`
	Images      []json.RawMessage `json:"images"`
}

type checkRunAction struct {
	Label       *string `json:"label"`
	Description *string `json:"description"`
	Identifier  *string `json:"identifier"`
}

type annotationInput struct {
	Path            *string `json:"path"`
	StartLine       *int    `json:"start_line"`
	EndLine         *int    `json:"end_line"`
	AnnotationLevel *string `json:"annotation_level"`
	Message         *string `json:"message"`
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
)

func oneOf(v string, set []string) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}

// validateCheckRun checks a create (create=true) or update body as GitHub does; the
// returned string is the 422 message ("" when valid).
func validateCheckRun(in *checkRunInput, create bool) string {
	const inv = "Invalid request.\n\n"
	if create {
		if in.Name == nil {
			return inv + "For 'properties/name', nil is not a string."
		}
		if in.HeadSHA == nil {
			return inv + "For 'properties/head_sha', nil is not a string."
		}
	}
	if in.Name != nil && *in.Name == "" {
		return inv + "name wasn't supplied."
	}
	if in.Status != nil && !oneOf(*in.Status, checkStatuses) {
		return fmt.Sprintf(inv+"%q is not a member of [\"queued\", \"in_progress\", \"completed\"].", *in.Status)
	}
	if in.Conclusion != nil && !oneOf(*in.Conclusion, checkConclusions) {
		return fmt.Sprintf(inv+"%q is not a member of [\"action_required\", \"cancelled\", \"failure\", \"neutral\", \"success\", \"skipped\", \"timed_out\"].", *in.Conclusion)
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil && create {
		return inv + "No conclusion provided: a completed check run requires one."
	}
	if in.Conclusion != nil && *in.Conclusion == "action_required" && (in.DetailsURL == nil || *in.DetailsURL == "") && create {
		return inv + "details_url is required when conclusion is action_required."
	}
	for _, t := range []*string{in.StartedAt, in.CompletedAt} {
		if t != nil {
			if _, err := time.Parse(time.RFC3339, *t); err != nil {
				return fmt.Sprintf(inv+"%q is not a valid ISO 8601 timestamp.", *t)
			}
		}
	}
	if o := in.Output; o != nil {
		if o.Title == nil {
			return inv + "For 'properties/title', nil is not a string."
		}
		if o.Summary == nil {
			return inv + "For 'properties/summary', nil is not a string."
		}
		if n := utf8.RuneCountInString(*o.Summary); n > 65535 {
			return fmt.Sprintf(inv+"Only 65535 characters are allowed; %d were supplied.", n)
		}
		if o.Text != nil {
			if n := utf8.RuneCountInString(*o.Text); n > 65535 {
				return fmt.Sprintf(inv+"Only 65535 characters are allowed; %d were supplied.", n)
			}
		}
		if len(o.Annotations) > 50 {
			return inv + "For 'properties/annotations', the array has more than 50 items."
		}
		for _, raw := range o.Annotations {
			var a annotationInput
			if err := json.Unmarshal(raw, &a); err != nil {
				return inv + "For 'items', annotation is not an object."
			}
			if a.Path == nil || a.StartLine == nil || a.EndLine == nil || a.AnnotationLevel == nil || a.Message == nil {
				return inv + "For 'items', an annotation is missing path, start_line, end_line, annotation_level or message."
			}
			if !oneOf(*a.AnnotationLevel, []string{"notice", "warning", "failure"}) {
				return fmt.Sprintf(inv+"%q is not a member of [\"notice\", \"warning\", \"failure\"].", *a.AnnotationLevel)
			}
		}
	}
	if in.Actions != nil {
		if len(*in.Actions) > 3 {
			return fmt.Sprintf(inv+"For 'properties/actions', %d items is more than the maximum of 3.", len(*in.Actions))
		}
		for _, a := range *in.Actions {
			for _, f := range []struct {
				name string
				v    *string
				max  int
			}{{"label", a.Label, 20}, {"description", a.Description, 40}, {"identifier", a.Identifier, 20}} {
				if f.v == nil {
					return fmt.Sprintf(inv+"For 'properties/%s', nil is not a string.", f.name)
				}
				if n := utf8.RuneCountInString(*f.v); n > f.max {
					return fmt.Sprintf(inv+"For 'properties/%s', %q is longer than %d characters.", f.name, *f.v, f.max)
				}
			}
		}
	}
	return ""
}

// applyCheckRun writes a validated input into a check run; it reports whether the run became completed.
func (s *state) applyCheckRun(cr *checkRun, in *checkRunInput) (completedNow bool) {
	wasCompleted := cr.status == "completed"
	str := func(p *string, dst *string) {
		if p != nil {
			*dst = *p
		}
	}
	str(in.Name, &cr.name)
	str(in.DetailsURL, &cr.detailsURL)
	str(in.ExternalID, &cr.externalID)
	if in.StartedAt != nil {
		cr.startedAt, _ = time.Parse(time.RFC3339, *in.StartedAt)
	}
	if in.Status != nil {
		cr.status = *in.Status
		if cr.status != "completed" {
			cr.conclusion, cr.completedAt = "", time.Time{}
		}
	}
	if in.Conclusion != nil {
		cr.conclusion = *in.Conclusion
		cr.status = "completed"
	}
	if in.CompletedAt != nil {
		cr.completedAt, _ = time.Parse(time.RFC3339, *in.CompletedAt)
	}
	if cr.status == "completed" && cr.completedAt.IsZero() {
		cr.completedAt = s.ts()
	}
	if o := in.Output; o != nil {
		cr.hasOutput = true
		cr.title, cr.summary = *o.Title, *o.Summary
		if o.Text != nil {
			cr.text = *o.Text
		}
		cr.annotations += len(o.Annotations)
	}
	if in.Actions != nil {
		cr.actions = nil
		for _, a := range *in.Actions {
			cr.actions = append(cr.actions, obj{"label": *a.Label, "description": *a.Description, "identifier": *a.Identifier})
		}
	}
	return !wasCompleted && cr.status == "completed"
}

func (s *state) suiteID(r *repo, sha string) int64 {
	key := fmt.Sprintf("%d/%s", r.id, sha)
	id, ok := s.suites[key]
	if !ok {
		id = s.nextID(idCheckSuite)
		s.suites[key] = id
	}
	return id
}

func (s *state) prRefsForSHA(r *repo, sha string) []obj {
	out := []obj{}
	for _, p := range r.prOrder {
		if p.state != "open" || p.headSHA != sha {
			continue
		}
		base, _ := r.branchHash(p.baseRef)
		ref := func(name, sha string) obj {
			return obj{"ref": name, "sha": sha, "repo": obj{"id": r.id, "url": s.api("repos/%s", r.fullName()), "name": r.name}}
		}
		out = append(out, obj{
			"url": s.api("repos/%s/pulls/%d", r.fullName(), p.number), "id": p.id, "number": p.number,
			"head": ref(p.headRef, p.headSHA), "base": ref(p.baseRef, base.String()),
		})
	}
	return out
}

func (s *state) checkSuiteObj(r *repo, sha, branch, before string) obj {
	id := s.suiteID(r, sha)
	var headBranch any
	if branch != "" {
		headBranch = branch
	}
	var runs []*checkRun
	for _, cr := range s.checkOrder {
		if cr.repo == r && cr.headSHA == sha {
			runs = append(runs, cr)
		}
	}
	status, conclusion := "queued", any(nil)
	if len(runs) > 0 {
		status = "completed"
		for _, cr := range runs {
			if cr.status != "completed" {
				status = "in_progress"
			}
		}
		if status == "completed" {
			conclusion = "success"
			for _, cr := range runs {
				if cr.conclusion != "success" && cr.conclusion != "neutral" && cr.conclusion != "skipped" {
					conclusion = cr.conclusion
				}
			}
		}
	}
	now := timeOrNil(s.ts())
	m := obj{
		"id": id, "node_id": nodeID("CheckSuite", id), "head_branch": headBranch, "head_sha": sha,
		"status": status, "conclusion": conclusion, "url": s.api("repos/%s/check-suites/%d", r.fullName(), id),
		"before": before, "after": sha, "pull_requests": s.prRefsForSHA(r, sha), "app": s.appObj(),
		"created_at": now, "updated_at": now, "latest_check_runs_count": len(runs),
		"check_runs_url": s.api("repos/%s/check-suites/%d/check-runs", r.fullName(), id),
		"rerequestable":  true, "runs_rerequestable": true,
	}
	if c, err := r.commit(plumbingHash(sha)); err == nil {
		m["head_commit"] = obj{
			"id": sha, "tree_id": c.TreeHash.String(), "message": trimNL(c.Message), "timestamp": timeOrNil(c.Committer.When),
			"author": obj{"name": c.Author.Name, "email": c.Author.Email}, "committer": obj{"name": c.Committer.Name, "email": c.Committer.Email},
		}
	}
	return m
}

func (s *state) checkRunObj(cr *checkRun) obj {
	r := cr.repo
	url := s.api("repos/%s/check-runs/%d", r.fullName(), cr.id)
	out := obj{
		"title": nil, "summary": nil, "text": nil, "annotations_count": cr.annotations,
		"annotations_url": url + "/annotations",
	}
	if cr.hasOutput {
		out["title"], out["summary"] = cr.title, cr.summary
		if cr.text != "" {
			out["text"] = cr.text
		}
	}
	str := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	m := obj{
		"id": cr.id, "node_id": nodeID("CheckRun", cr.id), "head_sha": cr.headSHA, "external_id": cr.externalID,
		"url": url, "html_url": s.html("%s/runs/%d", r.fullName(), cr.id), "details_url": str(cr.detailsURL),
		"status": cr.status, "conclusion": str(cr.conclusion), "started_at": timeOrNil(cr.startedAt),
		"completed_at": timeOrNil(cr.completedAt), "output": out, "name": cr.name,
		"check_suite": obj{"id": cr.suiteID}, "app": s.appObj(), "pull_requests": s.prRefsForSHA(r, cr.headSHA),
	}
	if cr.detailsURL == "" {
		m["details_url"] = s.base // GitHub falls back to the app's homepage
	}
	return m
}

func (s *state) checkRunEventLocked(cr *checkRun, action string, sender *user, extra obj) {
	p := obj{"action": action, "check_run": s.checkRunObj(cr)}
	cs := s.checkSuiteObj(cr.repo, cr.headSHA, "", "")
	for _, k := range []string{"check_runs_url", "head_commit", "latest_check_runs_count", "rerequestable", "runs_rerequestable"} {
		delete(cs, k)
	}
	p["check_run"].(obj)["check_suite"] = cs
	for k, v := range extra {
		p[k] = v
	}
	s.emitRepoLocked("check_run", action, cr.repo, sender, p)
}

func (s *state) recordWrite(cr *checkRun, method string) {
	s.writes = append(s.writes, CheckRunWrite{
		At: s.now(), Repo: cr.repo.fullName(), HeadSHA: cr.headSHA, Name: cr.name, Status: cr.status,
		Conclusion: cr.conclusion, Title: cr.title, ID: cr.id, Method: method, Summary: cr.summary,
	})
}

func (s *state) botUser() *user { return s.users[lower(s.opt.AppSlug+"[bot]")] }

func (s *state) checkRunLocked(fullName string, id int64) *checkRun {
	r := s.repoLocked(fullName)
	cr, ok := s.checkRuns[id]
	mustf(ok && cr.repo == r, "%s has no check run %d", fullName, id)
	return cr
}

// RerequestCheckRun re-requests a check run as login and emits check_run.rerequested.
func (s *Sim) RerequestCheckRun(fullName string, checkRunID int64, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRunLocked(fullName, checkRunID)
	s.checkRunEventLocked(cr, "rerequested", s.userLocked(login), nil)
}

// RequestAction clicks a check run's requested action as login and emits check_run.requested_action.
func (s *Sim) RequestAction(fullName string, checkRunID int64, login, identifier string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRunLocked(fullName, checkRunID)
	found := false
	for _, a := range cr.actions {
		found = found || a["identifier"] == identifier
	}
	mustf(found, "check run %d has no action %q", checkRunID, identifier)
	s.checkRunEventLocked(cr, "requested_action", s.userLocked(login), obj{"requested_action": obj{"identifier": identifier}})
}

// SetCheckRunExternalID sets a check run's external_id as its app (or an
// older version of it) could have written it, without an event.
func (s *Sim) SetCheckRunExternalID(fullName string, checkRunID int64, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkRunLocked(fullName, checkRunID).externalID = externalID
}

// CheckRuns returns the check runs on a commit, oldest first.
func (s *Sim) CheckRuns(fullName, sha string) []*github.CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	var out []*github.CheckRun
	for _, cr := range s.checkOrder {
		if cr.repo == r && cr.headSHA == sha {
			out = append(out, decode[github.CheckRun](s.checkRunObj(cr)))
		}
	}
	return out
}

// LatestCheckRun returns the newest check run with that name on a commit, or nil.
func (s *Sim) LatestCheckRun(fullName, sha, name string) *github.CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repoLocked(fullName)
	for i := len(s.checkOrder) - 1; i >= 0; i-- {
		cr := s.checkOrder[i]
		if cr.repo == r && cr.headSHA == sha && cr.name == name {
			return decode[github.CheckRun](s.checkRunObj(cr))
		}
	}
	return nil
}

// CheckRunWrites returns every successful check-run create and update, in order.
func (s *Sim) CheckRunWrites() []CheckRunWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CheckRunWrite(nil), s.writes...)
}
