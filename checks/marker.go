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

// Values of Verdict.CodeOwners and RunMarker.CodeOwners besides a blob id.
const (
	// NoCodeOwners says the base branch had no CODEOWNERS file.
	NoCodeOwners = "-"
	// UnknownCodeOwners says which CODEOWNERS file was read is not known.
	UnknownCodeOwners = "?"
)

// RunMarker is the structured record a check run carries in its
// external_id, so that nothing reads a check run's rendered text back.
type RunMarker struct {
	// State is one of the Mark* states.
	State string
	// Policy is the commit the applied policy was read at; empty when not
	// known or the built-in default applied.
	Policy string
	// Files is true when the marker records the files the verdict read
	// at the base branch's tip (PolicyBlob, CodeOwners); a marker of an
	// earlier version does not, and cannot tell whether they changed since.
	Files bool
	// PolicyBlob is the git blob id of the policy file that applied; empty
	// for the built-in default or when unknown.
	PolicyBlob string
	// CodeOwners is the CODEOWNERS file the verdict read when the policy
	// has code owners approve (Verdict.CodeOwners); empty when it does not.
	CodeOwners string
}

// String renders the marker: cs1:<state>:<policy commit>, then, when it
// records the files, :<policy blob>:<code owners>.
func (m RunMarker) String() string {
	s := MarkerVersion + ":" + m.State + ":" + m.Policy
	if m.Files {
		s += ":" + m.PolicyBlob + ":" + m.CodeOwners
	}
	return s
}

// MarkerOf is the marker of a check run showing verdict v.
func MarkerOf(v *Verdict) RunMarker {
	m := RunMarker{State: MarkJudged, Files: true}
	if isHex(v.Policy.SHA) {
		m.Policy = v.Policy.SHA
	}
	if isHex(v.Policy.Blob) {
		m.PolicyBlob = v.Policy.Blob
	}
	switch c := v.CodeOwners; {
	case c == "" || c == NoCodeOwners || isHex(c):
		m.CodeOwners = c
	default:
		m.CodeOwners = UnknownCodeOwners
	}
	if v.Incomplete {
		m.State = MarkIncomplete
	}
	return m
}

// ParseMarker reads a check run's external_id; ok is false for anything
// this version did not write (another version, another app, none at all),
// which a reader must treat as unknown. A marker of three fields, as
// earlier versions wrote, reads with Files false.
func ParseMarker(s string) (m RunMarker, ok bool) {
	parts := strings.Split(s, ":")
	if (len(parts) != 3 && len(parts) != 5) || parts[0] != MarkerVersion {
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
	m = RunMarker{State: parts[1], Policy: parts[2]}
	if len(parts) == 5 {
		if parts[3] != "" && !isHex(parts[3]) {
			return RunMarker{}, false
		}
		switch c := parts[4]; {
		case c == "", c == NoCodeOwners, c == UnknownCodeOwners, isHex(c):
		default:
			return RunMarker{}, false
		}
		m.Files, m.PolicyBlob, m.CodeOwners = true, parts[3], parts[4]
	}
	return m, true
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
