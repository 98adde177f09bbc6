package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/google/go-github/v62/github"

	"github.com/countersign/countersign/bot/ghfacts"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/checks/detect"
	"github.com/countersign/countersign/config"
)

// maxDetectInput bounds what 'countersign detect' reads from stdin.
const maxDetectInput = 64 << 20

// detectResult is one output line of 'countersign detect'.
type detectResult struct {
	Type       string           `json:"type"`
	Number     *int             `json:"number,omitempty"`
	SHA        *string          `json:"sha,omitempty"`
	Class      detect.Class     `json:"class"`
	Agent      *string          `json:"agent"`
	AgentName  *string          `json:"agent_name"`
	Automation *string          `json:"automation"`
	Signals    []detect.Signal  `json:"signals"`
	Operator   *detect.Identity `json:"operator"`
}

// runDetect runs 'countersign detect': it reads GitHub REST pull-request or
// commit objects (one, an array, or several arrays as 'gh api --paginate'
// prints them) on stdin and prints one JSON line per object.
func runDetect(ctx context.Context, args []string, s streams) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(s.err)
	configFile := fs.String("config", "", "policy `file` whose agents section adjusts detection (default: the built-in catalogue)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: countersign detect [--config FILE] < objects.json")
		fmt.Fprintln(fs.Output())
		fmt.Fprintln(fs.Output(), "Reads GitHub REST JSON on stdin: a pull request (GET /repos/{o}/{r}/pulls/{n}),")
		fmt.Fprintln(fs.Output(), "a commit (GET /repos/{o}/{r}/commits/{sha} or an element of .../pulls/{n}/commits),")
		fmt.Fprintln(fs.Output(), "or arrays of them, and prints one JSON line per object, in input order.")
		fmt.Fprintln(fs.Output(), "Elements are numbered from 0 in error messages. Exit 2 on bad input.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(s.err, "countersign detect: unexpected argument %q; the objects are read from stdin\n", fs.Arg(0))
		return exitError
	}
	det, err := detectorFor(*configFile)
	if err != nil {
		fmt.Fprintf(s.err, "countersign detect: %v\n", err)
		return exitError
	}
	data, err := io.ReadAll(io.LimitReader(s.in, maxDetectInput+1))
	if err != nil {
		fmt.Fprintf(s.err, "countersign detect: stdin: %v\n", err)
		return exitError
	}
	if len(data) > maxDetectInput {
		fmt.Fprintf(s.err, "countersign detect: stdin: more than %d bytes\n", maxDetectInput)
		return exitError
	}
	results, err := detectAll(ctx, det, data)
	if err != nil {
		fmt.Fprintf(s.err, "countersign detect: stdin: %v\n", err)
		return exitError
	}
	// Nothing is printed unless the whole input is good.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintf(s.err, "countersign detect: %v\n", err)
			return exitError
		}
	}
	if _, err := s.out.Write(out.Bytes()); err != nil {
		fmt.Fprintf(s.err, "countersign detect: stdout: %v\n", err)
		return exitError
	}
	return exitOK
}

// detectorFor builds the detector: the policy file's, or the built-in catalogue.
func detectorFor(file string) (*detect.Detector, error) {
	p := config.Default()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if p, err = config.Parse(file, data); err != nil {
			return nil, err
		}
	}
	c, err := checks.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c.Detector(), nil
}

// detectAll splits the input into objects and classifies each.
func detectAll(ctx context.Context, det *detect.Detector, data []byte) ([]detectResult, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var results []detectResult
	index, values := 0, 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("element %d: invalid JSON: %v", index, err)
		}
		values++
		var elems []json.RawMessage
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '[' {
			if err := json.Unmarshal(raw, &elems); err != nil {
				return nil, fmt.Errorf("element %d: invalid JSON: %v", index, err)
			}
		} else {
			elems = []json.RawMessage{raw}
		}
		for _, e := range elems {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r, err := detectOne(det, e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %v", index, err)
			}
			results = append(results, r)
			index++
		}
	}
	if values == 0 {
		return nil, errors.New("no input: expected a pull request or commit object, or an array of them")
	}
	return results, nil
}

// detectOne classifies one pull-request or commit object.
func detectOne(det *detect.Detector, raw json.RawMessage) (detectResult, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return detectResult{}, fmt.Errorf("not a JSON object (%s)", kindOf(raw))
	}
	isPR := keys["number"] != nil && keys["head"] != nil
	isCommit := keys["sha"] != nil && keys["commit"] != nil
	switch {
	case isPR && isCommit:
		return detectResult{}, errors.New(`both a pull request ("number", "head") and a commit ("sha", "commit")`)
	case isPR:
		var pr github.PullRequest
		if err := json.Unmarshal(raw, &pr); err != nil {
			return detectResult{}, fmt.Errorf("pull request: %v", jsonErr(err))
		}
		in, err := pullRequestInput(&pr)
		if err != nil {
			return detectResult{}, err
		}
		n := in.Number
		return result("pull_request", &n, nil, det.PullRequest(in)), nil
	case isCommit:
		var rc github.RepositoryCommit
		if err := json.Unmarshal(raw, &rc); err != nil {
			return detectResult{}, fmt.Errorf("commit: %v", jsonErr(err))
		}
		in, err := commitInput(&rc)
		if err != nil {
			return detectResult{}, err
		}
		sha := in.SHA
		return result("commit", nil, &sha, det.Commit(in)), nil
	}
	return detectResult{}, errors.New(`neither a pull request nor a commit (a pull request has "number" and "head", a commit has "sha" and "commit")`)
}

// pullRequestInput checks that a pull request on stdin has what detection
// needs and converts it as the server does.
func pullRequestInput(pr *github.PullRequest) (detect.PullRequest, error) {
	if pr.GetNumber() <= 0 {
		return detect.PullRequest{}, errors.New("pull request: number must be a positive integer")
	}
	u := pr.GetUser()
	if u.GetLogin() == "" {
		return detect.PullRequest{}, fmt.Errorf("pull request #%d: no user.login", pr.GetNumber())
	}
	return ghfacts.PullRequest(pr), nil
}

// commitInput checks that a commit on stdin has what detection needs and
// converts it as the server does.
func commitInput(rc *github.RepositoryCommit) (detect.Commit, error) {
	sha := rc.GetSHA()
	if sha == "" {
		return detect.Commit{}, errors.New("commit: empty sha")
	}
	c := rc.GetCommit()
	if c == nil {
		return detect.Commit{}, fmt.Errorf("commit %s: no commit object", sha)
	}
	if c.Author == nil || c.Committer == nil {
		return detect.Commit{}, fmt.Errorf("commit %s: no commit.author or commit.committer", sha)
	}
	return ghfacts.Commit(rc), nil
}

func result(typ string, number *int, sha *string, d detect.Detection) detectResult {
	r := detectResult{Type: typ, Number: number, SHA: sha, Class: d.Class, Signals: d.Signals, Operator: d.Operator}
	if r.Signals == nil {
		r.Signals = []detect.Signal{}
	}
	if d.Agent != "" {
		r.Agent, r.AgentName = &d.Agent, &d.AgentName
	}
	if d.Automation != "" {
		r.Automation = &d.Automation
	}
	return r
}

// jsonErr shortens encoding/json type errors to the field and the types.
func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: %s where %s is expected", field, te.Value, te.Type)
	}
	return err.Error()
}

// kindOf names the JSON type of a value for error messages.
func kindOf(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "empty"
	}
	switch t[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
