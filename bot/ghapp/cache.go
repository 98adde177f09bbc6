package ghapp

import (
	"bytes"
	"container/list"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// etagCache remembers GET responses that carry an ETag or Last-Modified, so
// that a repeated GET can be made conditional: GitHub answers 304 Not
// Modified without charging the rate limit. It is bounded (least recently
// used entries go first) and keyed per installation, URL and Accept header,
// so one installation never sees another's data.
type etagCache struct {
	max     int
	maxBody int

	mu  sync.Mutex
	ll  *list.List
	idx map[string]*list.Element
}

type cacheEntry struct {
	key          string
	etag         string
	lastModified string
	status       int
	header       http.Header
	body         []byte
}

func newETagCache(entries, maxBody int) *etagCache {
	if entries < 0 {
		return nil
	}
	return &etagCache{max: entries, maxBody: maxBody, ll: list.New(), idx: map[string]*list.Element{}}
}

func cacheKey(inst int64, req *http.Request) string {
	return strconv.FormatInt(inst, 10) + "\x00" + req.Header.Get("Accept") + "\x00" + req.URL.String()
}

func (c *etagCache) get(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.idx[key]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (c *etagCache) put(key string, resp *http.Response, body []byte) {
	e := &cacheEntry{
		key:          key,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		status:       resp.StatusCode,
		header:       resp.Header.Clone(),
		body:         body,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.idx[key]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	c.idx[key] = c.ll.PushFront(e)
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.idx, old.Value.(*cacheEntry).key)
	}
}

func (c *etagCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// response rebuilds the cached response, taking the rate-limit headers of
// the 304 that confirmed it.
func (e *cacheEntry) response(req *http.Request, fresh http.Header) *http.Response {
	h := e.header.Clone()
	for k, v := range fresh {
		if len(k) > 12 && http.CanonicalHeaderKey(k)[:12] == "X-Ratelimit-" {
			h[k] = v
		}
	}
	h.Set("X-From-Cache", "1")
	return &http.Response{
		Status:        strconv.Itoa(e.status) + " " + http.StatusText(e.status),
		StatusCode:    e.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
	}
}
