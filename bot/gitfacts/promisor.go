package gitfacts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// promisorStorage is a partial clone's storage (git clone --filter=...):
// an object it lacks is read through the git binary, whose
// `git cat-file --batch` fetches missing objects from the promisor remote as
// git itself does (go-git cannot), so countersign works wherever git does.
type promisorStorage struct {
	*filesystem.Storage
	gitDir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	dead error
}

// isPartialClone reports whether the repository's configuration names a
// promisor remote (extensions.partialClone, remote.<name>.promisor).
func isPartialClone(cfg *config.Config) bool {
	if cfg == nil || cfg.Raw == nil {
		return false
	}
	if cfg.Raw.Section("extensions").Option("partialclone") != "" {
		return true
	}
	for _, sub := range cfg.Raw.Section("remote").Subsections {
		if strings.EqualFold(sub.Option("promisor"), "true") {
			return true
		}
	}
	return false
}

// EncodedObject returns the object from the clone, else through git (which
// fetches it from the promisor remote).
func (s *promisorStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := s.Storage.EncodedObject(t, h)
	if !errors.Is(err, plumbing.ErrObjectNotFound) {
		return obj, err
	}
	typ, data, gerr := s.catFile(h)
	if gerr != nil {
		return nil, fmt.Errorf("%w (partial clone: git could not fetch it: %v)", err, gerr)
	}
	if t != plumbing.AnyObject && typ != t {
		return nil, plumbing.ErrObjectNotFound
	}
	o := &plumbing.MemoryObject{}
	o.SetType(typ)
	o.SetSize(int64(len(data)))
	if _, err := o.Write(data); err != nil {
		return nil, err
	}
	return o, nil
}

// EncodedObjectSize returns the object's size, fetching it like EncodedObject.
func (s *promisorStorage) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	size, err := s.Storage.EncodedObjectSize(h)
	if !errors.Is(err, plumbing.ErrObjectNotFound) {
		return size, err
	}
	o, err := s.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, err
	}
	return o.Size(), nil
}

// HasEncodedObject reports an object the promisor remote can supply as present.
func (s *promisorStorage) HasEncodedObject(h plumbing.Hash) error {
	if err := s.Storage.HasEncodedObject(h); !errors.Is(err, plumbing.ErrObjectNotFound) {
		return err
	}
	_, err := s.EncodedObject(plumbing.AnyObject, h)
	return err
}

// catFile reads one object through a long-lived `git cat-file --batch`.
func (s *promisorStorage) catFile(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead != nil {
		return 0, nil, s.dead
	}
	if s.cmd == nil {
		cmd := exec.Command("git", "--git-dir", s.gitDir, "cat-file", "--batch")
		in, err := cmd.StdinPipe()
		if err == nil {
			var out io.ReadCloser
			if out, err = cmd.StdoutPipe(); err == nil {
				if err = cmd.Start(); err == nil {
					s.cmd, s.in, s.out = cmd, in, bufio.NewReader(out)
				}
			}
		}
		if err != nil {
			s.dead = fmt.Errorf("running git cat-file: %w", err)
			return 0, nil, s.dead
		}
	}
	fail := func(err error) (plumbing.ObjectType, []byte, error) {
		s.dead = fmt.Errorf("git cat-file: %w", err)
		return 0, nil, s.dead
	}
	if _, err := io.WriteString(s.in, h.String()+"\n"); err != nil {
		return fail(err)
	}
	header, err := s.out.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	fields := strings.Fields(header)
	if len(fields) == 2 && fields[1] == "missing" {
		return 0, nil, plumbing.ErrObjectNotFound
	}
	if len(fields) != 3 || fields[0] != h.String() {
		return fail(fmt.Errorf("unexpected answer %q", strings.TrimSpace(header)))
	}
	typ, err := plumbing.ParseObjectType(fields[1])
	if err != nil {
		return fail(err)
	}
	size, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 {
		return fail(fmt.Errorf("unexpected size in %q", strings.TrimSpace(header)))
	}
	data := make([]byte, size+1) // the content, then a newline
	if _, err := io.ReadFull(s.out, data); err != nil {
		return fail(err)
	}
	return typ, data[:size], nil
}

// Close stops git and releases the clone's files.
func (s *promisorStorage) Close() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.in.Close()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
	s.mu.Unlock()
	return s.Storage.Close()
}
