package checks

import "strings"

// MarkerVersion begins every check-run marker this version writes.
const MarkerVersion = "cs1"

// Marker states: what a check run showed when it was written.
const (
	// MarkEvaluating marks a run shown while a pull request is evaluated.
	MarkEvaluating = "evaluating"
	// MarkJudged marks a run that shows a verdict on complete facts.
	MarkJudged = "judged"
	// MarkIncomplete marks a run that shows a failure because the facts
	// could not be gathered; a sweep evaluates it again.
	MarkIncomplete = "incomplete"
	// MarkGroup marks a merge group's run.
	MarkGroup = "group"
)

// RunMarker is the structured record a check run carries in its
// external_id, so that nothing reads a check run's rendered text back.
type RunMarker struct {
	// State is one of the Mark* states.
	State string
	// Policy is the commit the applied policy was read at; empty when not
	// known or the built-in default applied.
	Policy string
}

// String renders the marker as cs1:<state>:<policy>.
func (m RunMarker) String() string {
	return MarkerVersion + ":" + m.State + ":" + m.Policy
}

// MarkerOf is the marker of a check run showing verdict v.
func MarkerOf(v *Verdict) RunMarker {
	m := RunMarker{State: MarkJudged}
	if isHex(v.Policy.SHA) {
		m.Policy = v.Policy.SHA
	}
	if v.Incomplete {
		m.State = MarkIncomplete
	}
	return m
}

// ParseMarker reads a check run's external_id; ok is false for anything
// this version did not write (another version, another app, none at all),
// which a reader must treat as unknown.
func ParseMarker(s string) (m RunMarker, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != MarkerVersion {
		return RunMarker{}, false
	}
	switch parts[1] {
	case MarkEvaluating, MarkJudged, MarkIncomplete, MarkGroup:
	default:
		return RunMarker{}, false
	}
	if parts[2] != "" && !isHex(parts[2]) {
		return RunMarker{}, false
	}
	return RunMarker{State: parts[1], Policy: parts[2]}, true
}

// isHex reports whether s is a non-empty lowercase hexadecimal string, as a
// commit SHA is.
func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return s != ""
}
