package githubsim

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

// gitPath splits /{owner}/{repo}.git/{rest}.
func gitPath(p string) (owner, name, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) != 3 || !strings.HasSuffix(parts[1], ".git") {
		return "", "", "", false
	}
	return parts[0], strings.TrimSuffix(parts[1], ".git"), parts[2], true
}

func isGitPath(p string) bool {
	_, _, rest, ok := gitPath(p)
	return ok && (rest == "info/refs" || rest == "git-upload-pack" || rest == "git-receive-pack")
}

// storerLoader hands go-git's server the in-memory storer of one repository.
type storerLoader struct{ st storer.Storer }

func (l storerLoader) Load(*transport.Endpoint) (storer.Storer, error) { return l.st, nil }

func gitError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// serveGit serves git smart HTTP (upload-pack only, protocol v0/v1),
// authenticated with basic auth x-access-token:<installation token>.
func (s *state) serveGit(w http.ResponseWriter, r *http.Request) {
	owner, name, rest, _ := gitPath(r.URL.Path)
	_, pass, hasAuth := r.BasicAuth()
	if !hasAuth || pass == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		gitError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	s.mu.Lock()
	t, ok := s.tokens[pass]
	valid := ok && s.now().Before(t.expires)
	rp := s.repos[strings.ToLower(owner+"/"+name)]
	covered := valid && rp != nil && t.inst.covers(rp) && (t.repos == nil || t.repos[rp])
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		gitError(w, http.StatusUnauthorized, "Invalid username or token. Password authentication is not supported for Git operations.")
		return
	}
	if !covered {
		gitError(w, http.StatusNotFound, "Repository not found.")
		return
	}
	if rest == "git-receive-pack" || r.URL.Query().Get("service") == "git-receive-pack" {
		gitError(w, http.StatusForbidden, "Write access to repository not granted.")
		return
	}

	s.gitMu.RLock()
	defer s.gitMu.RUnlock()
	srv := server.NewServer(storerLoader{rp.storer})
	ep, err := transport.NewEndpoint(s.base + owner + "/" + name + ".git")
	if err != nil {
		gitError(w, http.StatusInternalServerError, err.Error())
		return
	}
	sess, err := srv.NewUploadPackSession(ep, nil)
	if err != nil {
		gitError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer sess.Close()
	w.Header().Set("Cache-Control", "no-cache")

	switch {
	case rest == "info/refs" && r.Method == http.MethodGet:
		if r.URL.Query().Get("service") != "git-upload-pack" {
			gitError(w, http.StatusForbidden, "Dumb HTTP protocol is not supported.")
			return
		}
		ar, err := sess.AdvertisedReferencesContext(r.Context())
		if err != nil {
			gitError(w, http.StatusInternalServerError, err.Error())
			return
		}
		ar.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		_ = ar.Encode(w)
	case rest == "git-upload-pack" && r.Method == http.MethodPost:
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				gitError(w, http.StatusBadRequest, err.Error())
				return
			}
			defer gz.Close()
			body = gz
		}
		req := packp.NewUploadPackRequest()
		if err := req.Decode(body); err != nil {
			gitError(w, http.StatusBadRequest, "bad upload-pack request: "+err.Error())
			return
		}
		resp, err := sess.UploadPack(r.Context(), req)
		if err != nil {
			gitError(w, http.StatusInternalServerError, err.Error())
			return
		}
		defer resp.Close()
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		_ = resp.Encode(w)
	default:
		gitError(w, http.StatusNotFound, "Not Found")
	}
}
