package gitfacts

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// This file is a lean reader of packed objects for the audit walk. go-git's
// own object storage computes the SHA-1 of every object it reads from a pack
// (to key its cache) and keeps LRU bookkeeping per object, which costs more
// than the walk itself over a long history. Here, objects are found through
// the pack indexes, inflated, and delta chains resolved with a cache keyed by
// pack offset. Anything not in a pack (loose objects, alternates) is read
// through go-git.

// packIndex is a version 2 pack index (.idx) held in memory, with its pack.
type packIndex struct {
	fanout  [256]uint32
	names   []byte // n * 20
	offsets []byte // n * 4
	large   []byte // m * 8
	pack    *os.File
	size    int64  // pack size
	num     int    // position in the packSet
	data    []byte // the pack mapped into memory, when it could be
	unmap   func() error
}

// errNoMap says a pack could not be mapped into memory; it is read with
// ReadAt instead.
var errNoMap = errors.New("cannot map file")

// packSet is the packs of a repository; it is safe for concurrent use.
type packSet struct {
	packs []*packIndex
}

// openPacks reads every pack index of the git directory gitDir (following
// a worktree's commondir).
func openPacks(gitDir string) (*packSet, error) {
	if b, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		common := strings.TrimSpace(string(b))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gitDir, common)
		}
		gitDir = common
	}
	dir := filepath.Join(gitDir, "objects", "pack")
	infos, err := os.ReadDir(dir)
	if err != nil {
		return &packSet{}, nil // no packs: everything is loose
	}
	ps := &packSet{}
	for _, fi := range infos {
		name := fi.Name()
		if !strings.HasPrefix(name, "pack-") || !strings.HasSuffix(name, ".idx") {
			continue
		}
		idx, err := readIndex(filepath.Join(dir, name))
		if err != nil {
			ps.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pf, err := os.Open(filepath.Join(dir, strings.TrimSuffix(name, ".idx")+".pack"))
		if err != nil {
			ps.Close()
			return nil, err
		}
		st, err := pf.Stat()
		if err != nil {
			pf.Close()
			ps.Close()
			return nil, err
		}
		idx.pack, idx.size = pf, st.Size()
		if data, unmap, err := mapFile(pf.Fd(), idx.size); err == nil {
			idx.data, idx.unmap = data, unmap
		}
		idx.num = len(ps.packs)
		ps.packs = append(ps.packs, idx)
	}
	return ps, nil
}

// Close closes the pack files.
func (ps *packSet) Close() error {
	var first error
	for _, p := range ps.packs {
		if p.unmap != nil {
			if err := p.unmap(); err != nil && first == nil {
				first = err
			}
		}
		if err := p.pack.Close(); err != nil && first == nil {
			first = err
		}
	}
	ps.packs = nil
	return first
}

func readIndex(name string) (*packIndex, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if len(b) < 8+256*4 || !bytes.Equal(b[:4], []byte{0xff, 't', 'O', 'c'}) || binary.BigEndian.Uint32(b[4:8]) != 2 {
		return nil, errors.New("not a version 2 pack index")
	}
	idx := &packIndex{}
	for i := range idx.fanout {
		idx.fanout[i] = binary.BigEndian.Uint32(b[8+4*i:])
	}
	n := int(idx.fanout[255])
	p := 8 + 256*4
	need := p + n*20 + n*4 + n*4
	if len(b) < need+40 {
		return nil, errors.New("truncated pack index")
	}
	idx.names = b[p : p+n*20]
	p += n*20 + n*4 // names, then CRCs
	idx.offsets = b[p : p+n*4]
	p += n * 4
	idx.large = b[p : len(b)-40]
	return idx, nil
}

// find returns the pack offset of h, or -1. Object ids are uniformly
// distributed, so it interpolates on their first eight bytes within the
// fanout bucket before it bisects: on large packs this reads a handful of
// names instead of a dozen scattered ones.
func (idx *packIndex) find(h plumbing.Hash) int64 {
	lo := 0
	if h[0] > 0 {
		lo = int(idx.fanout[h[0]-1])
	}
	hi := int(idx.fanout[h[0]]) // exclusive
	key := binary.BigEndian.Uint64(h[:])
	// The keys between lo and hi lie strictly within (ka, kb).
	ka := uint64(h[0]) << 56
	kb := ka | (1<<56 - 1)
	for probes := 0; lo < hi; probes++ {
		m := int(uint(lo+hi) >> 1)
		if probes < 3 && hi-lo > 16 && kb > ka {
			frac := float64(key-ka) / float64(kb-ka)
			m = lo + int(frac*float64(hi-lo))
			m = max(lo, min(m, hi-1))
		}
		name := idx.names[m*20 : m*20+20]
		v := binary.BigEndian.Uint64(name)
		c := cmp.Compare(v, key)
		if c == 0 {
			c = bytes.Compare(name[8:], h[8:])
		}
		switch {
		case c == 0:
			return idx.offset(m)
		case c < 0:
			lo, ka = m+1, v
		default:
			hi, kb = m, v
		}
	}
	return -1
}

// offset returns the pack offset of the i-th object of the index.
func (idx *packIndex) offset(i int) int64 {
	o := binary.BigEndian.Uint32(idx.offsets[i*4:])
	if o&0x80000000 == 0 {
		return int64(o)
	}
	k := int(o & 0x7fffffff)
	if (k+1)*8 > len(idx.large) {
		return -1
	}
	return int64(binary.BigEndian.Uint64(idx.large[k*8:]))
}

// Pack object types.
const (
	packCommit   = 1
	packTree     = 2
	packBlob     = 3
	packTag      = 4
	packOfsDelta = 6
	packRefDelta = 7
)

// rawObject is an inflated object.
type rawObject struct {
	typ  plumbing.ObjectType
	data []byte
}

// cacheKey identifies an object by pack number (top 16 bits) and offset.
type cacheKey uint64

func keyOf(p *packIndex, off int64) cacheKey { return cacheKey(uint64(p.num)<<48 | uint64(off)) }

// objectReader reads objects; one per goroutine (it keeps inflate state and
// a cache of its own), over a shared packSet.
type objectReader struct {
	packs    *packSet
	fallback storer.EncodedObjectStorer
	zr       io.ReadCloser
	br       *bufio.Reader
	mr       bytes.Reader
	hdr      [64]byte
	// cache is generational: lookups look in cur then old; when cur grows
	// past half the budget it becomes old and old is dropped.
	cur, old   map[cacheKey]rawObject
	curBytes   int
	cacheBytes int
}

// defaultReaderCache is the delta-base cache of one objectReader.
const defaultReaderCache = 96 << 20

func newObjectReader(ps *packSet, fallback storer.EncodedObjectStorer) *objectReader {
	return &objectReader{
		packs: ps, fallback: fallback,
		br:  bufio.NewReaderSize(nil, 16<<10),
		cur: map[cacheKey]rawObject{}, old: map[cacheKey]rawObject{},
		cacheBytes: defaultReaderCache,
	}
}

// read returns the type and content of the object h; the content must not be
// modified.
func (o *objectReader) read(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	if o.packs != nil {
		for _, p := range o.packs.packs {
			if off := p.find(h); off >= 0 {
				ob, err := o.readAt(p, off, 0)
				if err != nil {
					return 0, nil, fmt.Errorf("object %s: %w", h, err)
				}
				return ob.typ, ob.data, nil
			}
		}
	}
	obj, err := o.fallback.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return 0, nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return 0, nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	return obj.Type(), data, err
}

func (o *objectReader) cached(k cacheKey) (rawObject, bool) {
	if ob, ok := o.cur[k]; ok {
		return ob, true
	}
	if ob, ok := o.old[k]; ok {
		o.put(k, ob)
		return ob, true
	}
	return rawObject{}, false
}

func (o *objectReader) put(k cacheKey, ob rawObject) {
	if o.curBytes > o.cacheBytes/2 {
		o.old, o.cur = o.cur, o.old
		clear(o.cur)
		o.curBytes = 0
	}
	o.cur[k] = ob
	o.curBytes += len(ob.data) + 64
}

// maxDeltaDepth bounds delta chains (git's own limit is 4095).
const maxDeltaDepth = 10000

// readAt reads the object at off in pack p, resolving deltas.
func (o *objectReader) readAt(p *packIndex, off int64, depth int) (rawObject, error) {
	k := keyOf(p, off)
	if ob, ok := o.cached(k); ok {
		return ob, nil
	}
	if depth > maxDeltaDepth {
		return rawObject{}, errors.New("delta chain too deep")
	}
	var hdr []byte
	if p.data != nil {
		if off < 0 || off >= int64(len(p.data)) {
			return rawObject{}, errors.New("object offset out of range")
		}
		hdr = p.data[off:min(off+int64(len(o.hdr)), int64(len(p.data)))]
	} else {
		n, err := p.pack.ReadAt(o.hdr[:], off)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return rawObject{}, err
		}
		hdr = o.hdr[:n]
	}
	var err error
	i := 0
	if len(hdr) == 0 {
		return rawObject{}, errors.New("truncated pack")
	}
	c := hdr[0]
	typ := (c >> 4) & 7
	size := uint64(c & 15)
	shift := 4
	i++
	for c&0x80 != 0 {
		if i >= len(hdr) {
			return rawObject{}, errors.New("bad object header")
		}
		c = hdr[i]
		i++
		size |= uint64(c&0x7f) << shift
		shift += 7
	}
	var base rawObject
	switch typ {
	case packOfsDelta:
		if i >= len(hdr) {
			return rawObject{}, errors.New("bad delta header")
		}
		c = hdr[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(hdr) {
				return rawObject{}, errors.New("bad delta offset")
			}
			c = hdr[i]
			i++
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		if rel <= 0 || rel > off {
			return rawObject{}, errors.New("bad delta offset")
		}
		base, err = o.readAt(p, off-rel, depth+1)
		if err != nil {
			return rawObject{}, err
		}
	case packRefDelta:
		if i+20 > len(hdr) {
			return rawObject{}, errors.New("bad delta reference")
		}
		var bh plumbing.Hash
		copy(bh[:], hdr[i:i+20])
		i += 20
		if boff := p.find(bh); boff >= 0 {
			base, err = o.readAt(p, boff, depth+1)
		} else {
			base.typ, base.data, err = o.read(bh)
		}
		if err != nil {
			return rawObject{}, err
		}
	case packCommit, packTree, packBlob, packTag:
	default:
		return rawObject{}, fmt.Errorf("unknown pack object type %d", typ)
	}
	data, err := o.inflate(p, off+int64(i), size)
	if err != nil {
		return rawObject{}, err
	}
	var ob rawObject
	if typ == packOfsDelta || typ == packRefDelta {
		out, err := patchDelta(base.data, data)
		if err != nil {
			return rawObject{}, err
		}
		ob = rawObject{typ: base.typ, data: out}
	} else {
		ob = rawObject{typ: plumbing.ObjectType(typ), data: data}
	}
	o.put(k, ob)
	return ob, nil
}

// inflate reads size bytes of zlib data at off.
func (o *objectReader) inflate(p *packIndex, off int64, size uint64) ([]byte, error) {
	if size > uint64(p.size)*1024 || off >= p.size {
		return nil, errors.New("object size out of range")
	}
	var src io.Reader
	if p.data != nil {
		o.mr.Reset(p.data[off:])
		src = &o.mr
	} else {
		o.br.Reset(io.NewSectionReader(p.pack, off, p.size-off))
		src = o.br
	}
	var err error
	if o.zr == nil {
		o.zr, err = zlib.NewReader(src)
	} else {
		err = o.zr.(zlib.Resetter).Reset(src, nil)
	}
	if err != nil {
		return nil, err
	}
	if size <= 64<<20 {
		out := make([]byte, size)
		if _, err := io.ReadFull(o.zr, out); err != nil {
			return nil, fmt.Errorf("inflating: %w", err)
		}
		return out, nil
	}
	// A large object: let the buffer grow with what really inflates rather
	// than trust the header's size.
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(o.zr, int64(size))); err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	if uint64(buf.Len()) != size {
		return nil, fmt.Errorf("inflating: %d bytes, the header says %d", buf.Len(), size)
	}
	return buf.Bytes(), nil
}

// patchDelta applies a git delta to base.
func patchDelta(base, delta []byte) ([]byte, error) {
	bad := errors.New("invalid delta")
	varint := func() (uint64, bool) {
		var v uint64
		var s uint
		for {
			if len(delta) == 0 {
				return 0, false
			}
			c := delta[0]
			delta = delta[1:]
			v |= uint64(c&0x7f) << s
			s += 7
			if c&0x80 == 0 {
				return v, true
			}
		}
	}
	srcSize, ok := varint()
	if !ok || srcSize != uint64(len(base)) {
		return nil, bad
	}
	dstSize, ok := varint()
	// Each instruction yields at most 16 MiB (a copy) and takes a byte, so a
	// larger claimed size is a lie; never allocate on its word alone.
	if !ok || dstSize > uint64(len(delta))<<24 {
		return nil, bad
	}
	out := make([]byte, 0, min(dstSize, 64<<20))
	for len(delta) > 0 {
		c := delta[0]
		delta = delta[1:]
		if c&0x80 != 0 {
			var off, n uint64
			for bit := 0; bit < 4; bit++ {
				if c&(1<<bit) != 0 {
					if len(delta) == 0 {
						return nil, bad
					}
					off |= uint64(delta[0]) << (8 * bit)
					delta = delta[1:]
				}
			}
			for bit := 0; bit < 3; bit++ {
				if c&(0x10<<bit) != 0 {
					if len(delta) == 0 {
						return nil, bad
					}
					n |= uint64(delta[0]) << (8 * bit)
					delta = delta[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || uint64(len(out))+n > dstSize {
				return nil, bad
			}
			out = append(out, base[off:off+n]...)
		} else if c != 0 {
			n := int(c)
			if n > len(delta) || uint64(len(out)+n) > dstSize {
				return nil, bad
			}
			out = append(out, delta[:n]...)
			delta = delta[n:]
		} else {
			return nil, bad
		}
	}
	if uint64(len(out)) != dstSize {
		return nil, bad
	}
	return out, nil
}
