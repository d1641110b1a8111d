package piececache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Object is an open cached object version. It is safe for concurrent use.
// It keeps reading its version after that version is replaced or evicted
// (on Linux), but a corrupt piece removes the entry from the cache.
type Object struct {
	c        *Cache
	id       string
	dir      string // version directory name
	meta     Meta
	f        *os.File
	verified []atomic.Bool // per piece: its sha256 matched once through this handle
}

// Open opens version of key for reading and marks it as used for LRU
// eviction. It returns an error wrapping ErrNotFound when version is not the
// current version of key.
func (c *Cache) Open(key Key, version string) (*Object, error) {
	id := identity(key)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	e := c.entries[id]
	if e == nil || e.meta.Version != version {
		c.mu.Unlock()
		return nil, fmt.Errorf("open %s/%s version %q: %w", key.Bucket, key.Object, version, ErrNotFound)
	}
	c.lru.MoveToFront(e.elem)
	meta, dir := e.meta, e.dir
	c.mu.Unlock()

	f, err := os.Open(filepath.Join(c.objectDir(id), dir, dataFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s/%s version %q: removed meanwhile: %w", key.Bucket, key.Object, version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open data: %w", err)
	}
	return &Object{c: c, id: id, dir: dir, meta: meta, f: f, verified: make([]atomic.Bool, len(meta.Pieces))}, nil
}

// Meta returns the metadata of the object version.
func (o *Object) Meta() Meta { return o.meta.clone() }

// Close closes the data file.
func (o *Object) Close() error { return o.f.Close() }

// ReadAt implements io.ReaderAt. The first time this handle touches a piece,
// it reads the whole piece and checks its sha256 before returning any byte
// of it. Later reads of that piece go straight to the file. On a mismatch it
// removes the entry from the cache and returns an error wrapping ErrCorrupt,
// with n counting only bytes of earlier, verified pieces.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at invalid offset %d: must not be negative", off)
	}
	if off >= o.meta.Length {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.meta.Length-off)
	var n int64
	for n < want {
		pos := off + n
		i := int(pos / o.meta.PieceSize)
		end := min(int64(i+1)*o.meta.PieceSize, off+want)
		m, err := o.readInPiece(i, p[n:end-off], pos)
		n += int64(m)
		if err != nil {
			return int(n), err
		}
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// readInPiece fills p, which lies within piece i, from offset pos.
func (o *Object) readInPiece(i int, p []byte, pos int64) (int, error) {
	if o.verified[i].Load() {
		n, err := o.f.ReadAt(p, pos)
		if err != nil {
			return n, fmt.Errorf("read piece %d: %w", i, unexpectedEOF(err))
		}
		return n, nil
	}
	bufp := o.c.getBuffer(o.meta.PieceSize)
	defer o.c.buffers.Put(bufp)
	piece, err := o.verifyPiece(i, *bufp)
	if err != nil {
		return 0, err
	}
	return copy(p, piece[pos-int64(i)*o.meta.PieceSize:]), nil
}

// ReadPiece returns piece i, verified as in ReadAt. It reads into buf when
// buf has the capacity, and allocates otherwise.
func (o *Object) ReadPiece(i int, buf []byte) ([]byte, error) {
	if i < 0 || i >= len(o.meta.Pieces) {
		return nil, fmt.Errorf("read invalid piece %d: object has %d pieces", i, len(o.meta.Pieces))
	}
	size := o.pieceLen(i)
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	if !o.verified[i].Load() {
		return o.verifyPiece(i, buf)
	}
	piece := buf[:size]
	if _, err := o.f.ReadAt(piece, int64(i)*o.meta.PieceSize); err != nil {
		return nil, fmt.Errorf("read piece %d: %w", i, unexpectedEOF(err))
	}
	return piece, nil
}

func (o *Object) pieceLen(i int) int64 {
	return min(o.meta.PieceSize, o.meta.Length-int64(i)*o.meta.PieceSize)
}

// verifyPiece reads piece i into buf, which has room for it, and checks its
// digest. A short or mismatching piece removes the entry.
func (o *Object) verifyPiece(i int, buf []byte) ([]byte, error) {
	piece := buf[:o.pieceLen(i)]
	_, err := o.f.ReadAt(piece, int64(i)*o.meta.PieceSize)
	if errors.Is(err, io.EOF) {
		return nil, o.corrupt(i, "data file is truncated")
	}
	if err != nil {
		return nil, fmt.Errorf("read piece %d: %w", i, err)
	}
	if ok, reason := checkPiece(piece, i, o.meta.Pieces[i], o.meta.PieceCRCs); !ok {
		return nil, o.corrupt(i, reason)
	}
	o.verified[i].Store(true)
	return piece, nil
}

// corrupt removes the entry and returns the error describing piece i.
func (o *Object) corrupt(i int, reason string) error {
	k := o.meta.Key
	o.c.log.Error("piece cache: removing corrupt entry",
		"bucket", k.Bucket, "object", k.Object, "version", o.meta.Version, "piece", i, "reason", reason)
	if err := o.c.removeEntry(o.id, o.dir); err != nil {
		o.c.log.Error("piece cache: remove corrupt entry", "id", o.id, "err", err)
	}
	return fmt.Errorf("%w: piece %d of %s/%s version %q: %s", ErrCorrupt, i, k.Bucket, k.Object, o.meta.Version, reason)
}

// unexpectedEOF turns io.EOF inside the known length into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// getBuffer returns a pooled buffer of at least n bytes.
func (c *Cache) getBuffer(n int64) *[]byte {
	if bufp, ok := c.buffers.Get().(*[]byte); ok && int64(cap(*bufp)) >= n {
		*bufp = (*bufp)[:n]
		return bufp
	}
	b := make([]byte, n)
	return &b
}
