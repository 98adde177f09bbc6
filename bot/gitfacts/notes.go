package gitfacts

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/countersign/countersign/checks/detect"
)

// NotesRefs are the notes refs whose notes detection reads: git-ai's
// authorship logs and whogitit's attributions. A ref that does not exist is
// skipped.
var NotesRefs = []string{"refs/notes/ai", "refs/notes/whogitit"}

// maxNote bounds one note's size; a larger note is an error, not a skip.
const maxNote = 64 << 20

// notesIndex maps commits to their note blobs, per notes ref.
type notesIndex struct {
	r    *Repo
	refs []notesRef
}

type notesRef struct {
	name  string
	blobs map[plumbing.Hash]plumbing.Hash // annotated commit -> note blob
}

// loadNotes reads the trees of the notes refs that exist. A notes tree names
// each note by the annotated commit's hash, whole or split into fan-out
// directories ("ab/cdef…", "ab/cd/ef…"); other entries are ignored, as git
// ignores them.
func (r *Repo) loadNotes() (*notesIndex, error) {
	idx := &notesIndex{r: r}
	for _, name := range NotesRefs {
		ref, err := r.repo.Reference(plumbing.ReferenceName(name), true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notes %s: %w", name, err)
		}
		c, err := r.repo.CommitObject(ref.Hash())
		if err != nil {
			return nil, fmt.Errorf("notes %s: %w", name, err)
		}
		nr := notesRef{name: name, blobs: map[plumbing.Hash]plumbing.Hash{}}
		if err := r.notesTree(c.TreeHash, "", nr.blobs); err != nil {
			return nil, fmt.Errorf("notes %s: %w", name, err)
		}
		if len(nr.blobs) > 0 {
			idx.refs = append(idx.refs, nr)
		}
	}
	return idx, nil
}

func (r *Repo) notesTree(h plumbing.Hash, prefix string, out map[plumbing.Hash]plumbing.Hash) error {
	t, err := r.repo.TreeObject(h)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		name := prefix + e.Name
		if !isHex(e.Name) || len(name) > 40 {
			continue
		}
		switch {
		case e.Mode == filemode.Dir && len(name) < 40:
			if err := r.notesTree(e.Hash, name, out); err != nil {
				return err
			}
		case e.Mode.IsFile() && len(name) == 40:
			out[plumbing.NewHash(name)] = e.Hash
		}
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// attach sets the commit's notes from every notes ref that has one for it.
func (n *notesIndex) attach(c *detect.Commit) error {
	if n == nil || len(n.refs) == 0 {
		return nil
	}
	h := plumbing.NewHash(c.SHA)
	for _, nr := range n.refs {
		b, ok := nr.blobs[h]
		if !ok {
			continue
		}
		blob, err := n.r.repo.BlobObject(b)
		if err != nil {
			return fmt.Errorf("note %s of %s: %w", nr.name, c.SHA, err)
		}
		if blob.Size > maxNote {
			return fmt.Errorf("note %s of %s: %d bytes, more than the %d read", nr.name, c.SHA, blob.Size, maxNote)
		}
		rd, err := blob.Reader()
		if err != nil {
			return fmt.Errorf("note %s of %s: %w", nr.name, c.SHA, err)
		}
		text, err := io.ReadAll(rd)
		rd.Close()
		if err != nil {
			return fmt.Errorf("note %s of %s: %w", nr.name, c.SHA, err)
		}
		c.Notes = append(c.Notes, detect.Note{Ref: nr.name, Text: string(text)})
	}
	return nil
}
