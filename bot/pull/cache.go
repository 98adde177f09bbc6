package pull

import (
	"container/list"
	"sync"
)

// DefaultCacheEntries bounds a Cache made with NewCache(0).
const DefaultCacheEntries = 2048

// Cache keeps, across evaluations, what a commit pins and so cannot change:
// the policy file and CODEOWNERS at a base commit, the commits and files of
// a base/head pair. Everything else is re-read each evaluation (cheaply, as
// conditional requests). It is bounded, least recently used first out, and
// safe for concurrent use.
type Cache struct {
	max int
	mu  sync.Mutex
	ll  *list.List
	idx map[string]*list.Element
}

type cacheItem struct {
	key string
	val any
}

// NewCache returns a cache of at most entries items (DefaultCacheEntries when 0).
func NewCache(entries int) *Cache {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	return &Cache{max: entries, ll: list.New(), idx: map[string]*list.Element{}}
}

// Get returns the value cached under key.
func (c *Cache) Get(key string) (any, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.idx[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*cacheItem).val, true
}

// Put caches val under key, evicting the least recently used item beyond the bound.
func (c *Cache) Put(key string, val any) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.idx[key]; ok {
		el.Value.(*cacheItem).val = val
		c.ll.MoveToFront(el)
		return
	}
	c.idx[key] = c.ll.PushFront(&cacheItem{key: key, val: val})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.idx, old.Value.(*cacheItem).key)
	}
}

// GetOrPut returns the value cached under key and true, or caches val under
// key and returns it and false, atomically.
func (c *Cache) GetOrPut(key string, val any) (any, bool) {
	if c == nil {
		return val, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.idx[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheItem).val, true
	}
	c.idx[key] = c.ll.PushFront(&cacheItem{key: key, val: val})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.idx, old.Value.(*cacheItem).key)
	}
	return val, false
}

// Len returns the number of cached items.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// memo runs its function once and remembers the answer, error included.
type memo[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (m *memo[T]) get(f func() (T, error)) (T, error) {
	m.once.Do(func() { m.v, m.err = f() })
	return m.v, m.err
}
