package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/countersign/countersign/bot/gitfacts"
	"github.com/countersign/countersign/bot/policyfile"
	"github.com/countersign/countersign/checks"
	"github.com/countersign/countersign/config"
)

// runCheck runs 'countersign check': it judges what merging a branch of a
// local clone would need, with the policy of the base. A local clone has no
// reviews, so the answer is the approvals a merge would wait for.
func runCheck(ctx context.Context, args []string, s streams) int {
	fs := newFlags(s, "check",
		"check [--repo DIR] [--base REV] [--head REV] [--config FILE] [--format text|json]",
		"Judges the commits of --head that are not in --base, and the files they change since the",
		"merge base, with the policy as it is at --base. Exit status: 0 nothing required, 1 approval",
		"required, 2 error (including an invalid policy).",
	)
	repoDir := fs.String("repo", ".", "the git repository (any directory inside it)")
	base := fs.String("base", "", "the base revision to merge into (default: the default branch: origin/HEAD, main or master)")
	head := fs.String("head", "HEAD", "the revision to judge")
	configFile := fs.String("config", "", "a policy file to use instead of .github/countersign.yml at the base")
	format := fs.String("format", "text", "output format: text or json")
	if code, ok := parseFlags(fs, args, s); !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(s.err, "countersign check: --format must be text or json, not %q\n", *format)
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintf(s.err, "countersign check: %v\n", err)
		return exitError
	}

	repo, err := gitfacts.Open(*repoDir)
	if err != nil {
		return fail(err)
	}
	defer repo.Close()
	if *base == "" {
		if *base, err = repo.DefaultBranch(); err != nil {
			return fail(fmt.Errorf("%w (--base)", err))
		}
	}
	facts, err := repo.Facts(ctx, *base, *head)
	if err != nil {
		return fail(err)
	}

	var policy *config.Policy
	var perr error
	var src config.Source
	if *configFile != "" {
		src = config.Source{Path: *configFile}
		policy, perr = checkPolicyFile(*configFile)
	} else {
		src = config.Source{Repo: facts.Repo, Path: config.FileName, Ref: *base}
		if h, err := repo.Resolve(*base); err == nil {
			src.SHA = h.String()
		}
		policy, perr = repo.PolicyAt(ctx, *base)
		var pe *policyfile.Error
		if errors.As(perr, &pe) {
			src = pe.Source // the file at fault: the .yml, or a lone .yaml
		}
	}
	if perr == nil && len(facts.Commits) == 0 {
		// The head adds nothing to the base: there is no change to judge, so
		// say that rather than a verdict on an empty change.
		if err := checkWriteNothing(s.out, *format, facts); err != nil {
			return fail(err)
		}
		return exitOK
	}
	var v *checks.Verdict
	if perr != nil {
		v = checks.Invalid(perr, src, facts)
	} else if c, err := checks.Compile(policy); err != nil {
		v = checks.Evaluate(policy, facts) // fails closed, saying why
	} else {
		// Which agent changed each protected file, from the commits' trees.
		if need := c.CommitFilesNeeded(facts); len(need) > 0 {
			if facts.CommitFiles, err = repo.CommitFiles(ctx, need); err != nil {
				return fail(err)
			}
		}
		v = c.Evaluate(facts)
	}
	v.Local = true

	if err := checkWriteVerdict(s.out, v, *format, facts); err != nil {
		return fail(err)
	}
	switch v.Conclusion {
	case checks.Success:
		return exitOK
	case checks.ActionRequired:
		return exitRequired
	}
	// A failure: an invalid policy or facts that could not be gathered.
	// Say so on stderr too, where a script's log will show it.
	if perr != nil {
		where := src.Path
		if src.Ref != "" {
			where = fmt.Sprintf("%s at %s", src.Path, src.Ref)
		}
		fmt.Fprintf(s.err, "countersign check: invalid policy (%s):\n", where)
		for _, line := range v.Errors {
			fmt.Fprintf(s.err, "  %s\n", line)
		}
	} else {
		fmt.Fprintf(s.err, "countersign check: %s\n", v.Title)
	}
	return exitError
}

// checkPolicyFile reads and parses a policy file from disk.
func checkPolicyFile(path string) (*config.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := config.Parse(path, data)
	if err != nil {
		return nil, err
	}
	p.Source = config.Source{Path: path}
	return p, nil
}

// checkWriteVerdict prints the verdict as text (with a line saying what was
// compared) or as the verdict's JSON.
func checkWriteVerdict(w io.Writer, v *checks.Verdict, format string, f *checks.Facts) error {
	if format == "json" {
		b, err := v.JSON()
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = w.Write(b)
		return err
	}
	head := f.PR.HeadSHA
	if len(head) > 7 {
		head = head[:7]
	}
	mb := f.PR.BaseSHA
	if len(mb) > 7 {
		mb = mb[:7]
	}
	fmt.Fprintf(w, "%s (%s) into %s (merge base %s): %d %s, %d changed %s\n",
		checkOrDash(f.PR.HeadRef), head, checkOrDash(f.PR.BaseRef), mb,
		len(f.Commits), checkPlural(len(f.Commits), "commit", "commits"),
		len(f.Files), checkPlural(len(f.Files), "file", "files"))
	_, err := io.WriteString(w, v.Text())
	if err == nil && v.Conclusion == checks.ActionRequired {
		_, err = io.WriteString(w, "(local check: reviews are not known here; this is what a merge would need)\n")
	}
	return err
}

// checkWriteNothing says that the head has no commits the base lacks.
func checkWriteNothing(w io.Writer, format string, f *checks.Facts) error {
	msg := fmt.Sprintf("nothing to check: %s (%s) has no commits that %s (%s) lacks",
		checkOrDash(f.PR.HeadRef), checkShort(f.PR.HeadSHA), checkOrDash(f.PR.BaseRef), checkShort(f.PR.BaseSHA))
	if format == "json" {
		b, err := json.MarshalIndent(struct {
			NothingToCheck bool   `json:"nothing_to_check"`
			Message        string `json:"message"`
			HeadRef        string `json:"head_ref"`
			HeadSHA        string `json:"head_sha"`
			BaseRef        string `json:"base_ref"`
			BaseSHA        string `json:"base_sha"`
		}{true, msg, f.PR.HeadRef, f.PR.HeadSHA, f.PR.BaseRef, f.PR.BaseSHA}, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	_, err := fmt.Fprintln(w, msg)
	return err
}

func checkShort(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func checkOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func checkPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
