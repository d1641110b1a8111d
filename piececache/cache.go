// Package piececache is the on-disk piece cache of a peer: it stores whole
// object versions, split into fixed-size pieces with a sha256 digest each,
// and checks every piece before a reader sees its bytes.
//
// An object version lives in one directory with a data file and meta.json.
// A version becomes visible only when a small "current" file naming its
// directory is renamed into place, after data, metadata and directories have
// been fsynced. After a crash at any moment, Open therefore finds every
// committed version intact and removes everything else (staging files,
// replaced versions, objects whose current file is missing or invalid).
//
// On-disk names are sha256 hashes of the identity and of the version, so no
// backend, bucket or object key can name a path outside the cache directory.
//
// Removed and evicted files are unlinked while readers may still hold them
// open. On Linux those readers keep reading the old bytes, and the file
// system frees the space when the last one closes.
package piececache

import (
	"container/list"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Errors returned by the cache. Match them with errors.Is: most are wrapped
// with the value that failed.
var (
	// ErrNotFound means that the requested key or version is not current in the cache.
	ErrNotFound = errors.New("piececache: not found")
	// ErrDigestMismatch means that the md5 of the written bytes differs from
	// the digest given to Commit.
	ErrDigestMismatch = errors.New("piececache: digest mismatch")
	// ErrCorrupt means that a piece on disk no longer matches its sha256
	// digest; the entry has been removed from the cache.
	ErrCorrupt = errors.New("piececache: corrupt piece")
	// ErrQuotaExceeded means that a write does not fit in the quota even
	// after evicting every unpinned entry.
	ErrQuotaExceeded = errors.New("piececache: quota exceeded")
	// ErrAborted means that a write was aborted, by Abort or by a failed
	// Write or Commit, before it was committed.
	ErrAborted = errors.New("piececache: write aborted")
	// ErrClosed means that the cache was closed.
	ErrClosed = errors.New("piececache: cache closed")
	// ErrNoSuchPiece means that a requested piece is not there: it lies
	// beyond the end of a committed write or object, or Writer.ReadPiece
	// was called before the piece was complete.
	ErrNoSuchPiece = errors.New("piececache: no such piece")
)

// DefaultPieceSize is the piece size used when Options.PieceSize is 0.
const DefaultPieceSize = 4 << 20

// MaxPieceSize is the largest accepted piece size. The first read of each
// piece buffers the whole piece in memory, so this bounds the memory of one
// reader.
const MaxPieceSize = 64 << 20

// Key is the identity of an object: the backend it comes from (such as
// backend.Info.ID()), the bucket and the object key. Any strings are
// accepted, but Bucket and Object must not be empty.
type Key struct{ Backend, Bucket, Object string }

// Meta describes one committed object version.
type Meta struct {
	Key Key
	// Version is the content identity: "md5:<hex>" for uploads, or a value
	// derived from the backend's ETag, size and mtime. Commit defaults it to
	// Digest.
	Version string
	// Length is the object size in bytes.
	Length int64
	// PieceSize is the size in bytes of every piece but the last, which may
	// be shorter.
	PieceSize int64
	// Pieces holds the "sha256:<hex>" digest of each piece:
	// ceil(Length/PieceSize) entries, none for an empty object.
	Pieces []string
	// PieceCRCs holds the CRC-32C (Castagnoli) of each piece. Reads from
	// this cache check pieces against it, which costs a fraction of sha256;
	// the sha256 digests are what other peers check. Entries written before
	// it existed have none and are checked with sha256.
	PieceCRCs []uint32 `json:",omitempty"`
	// Digest is the md5 of the whole object, "md5:<hex>".
	Digest       string
	ETag         string
	LastModified time.Time

	ContentType, ContentDisposition, ContentEncoding, ContentLanguage, StorageClass string

	// CreatedAt is when Commit published this version.
	CreatedAt time.Time
	// Ephemeral marks a version that exists only in peer caches and not in
	// the backend; the caller sets it and the cache stores it.
	Ephemeral bool
}

func (m Meta) clone() Meta {
	m.Pieces = slices.Clone(m.Pieces)
	m.PieceCRCs = slices.Clone(m.PieceCRCs)
	return m
}

// Options configures a Cache. Zero values select the documented defaults.
type Options struct {
	// PieceSize is the piece size in bytes of new writes: 0 means
	// DefaultPieceSize (4 MiB), at most MaxPieceSize (64 MiB). Entries
	// already on disk keep the piece size they were written with.
	PieceSize int64
	// Quota is the maximum of bytes of published data and metadata files
	// plus bytes written to staging; 0 means unlimited. File system block
	// overhead is not counted.
	Quota int64
	// Logger receives the summary and cleanup warnings of Open, and errors
	// about corrupt pieces or files that could not be deleted. Nil means
	// slog.Default().
	Logger *slog.Logger
	// OnEvict, when set, is called after an entry has been evicted, removed
	// by Remove or dropped as corrupt (not when a newer version replaces
	// it). It runs in the goroutine that caused the removal, with no lock
	// held, so it may call the cache.
	OnEvict func(Meta)
}

// entry is one published object version in the index.
type entry struct {
	id   string // identity hash, the object directory name
	dir  string // version directory name inside the object directory
	meta Meta
	size int64 // bytes of the data and meta.json files
	pins int
	elem *list.Element // position in Cache.lru
}

// Cache is a piece cache rooted at one directory. It is safe for concurrent
// use. Only one Cache may open a directory at a time, which Open enforces
// with a file lock on Unix.
type Cache struct {
	dir       string
	pieceSize int64
	quota     int64
	log       *slog.Logger
	onEvict   func(Meta)
	lock      *os.File
	buffers   sync.Pool // *[]byte piece buffers

	// stripes serialize changes to one object directory (its current file
	// and version directories) by publish and removal. They are taken one
	// at a time and never while holding mu.
	stripes [256]sync.Mutex

	mu       sync.Mutex // guards the fields below
	entries  map[string]*entry
	lru      *list.List // of *entry, most recently used at the front
	used     int64      // published entry sizes plus staging reservations
	inflight map[string][]*Writer
	closed   bool
}

// Open opens or creates the cache in dir and rebuilds the index from disk.
// It deletes staging leftovers, versions that are not current and objects
// without a valid current version. It never evicts, even when the entries
// found exceed the quota; the next write evicts as needed.
//
// Access order is kept only in memory, so after Open the least recently used
// entry is the one committed first.
func Open(dir string, opts Options) (*Cache, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	c := &Cache{
		dir:       dir,
		pieceSize: opts.PieceSize,
		quota:     opts.Quota,
		log:       opts.Logger,
		onEvict:   opts.OnEvict,
		entries:   make(map[string]*entry),
		lru:       list.New(),
		inflight:  make(map[string][]*Writer),
	}
	for _, d := range []string{dir, c.objectsDir(), c.stagingDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create cache directory: %w", err)
		}
	}
	lock, err := lockDir(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	c.lock = lock
	if err := c.load(); err != nil {
		lock.Close()
		return nil, err
	}
	c.log.Info("piece cache opened", "dir", dir, "entries", len(c.entries), "bytes", c.used, "quota", c.quota)
	return c, nil
}

func checkOptions(opts *Options) error {
	if opts.PieceSize == 0 {
		opts.PieceSize = DefaultPieceSize
	}
	if opts.PieceSize < 0 || opts.PieceSize > MaxPieceSize {
		return fmt.Errorf("invalid piece size %d: want 1 to %d bytes, or 0 for %d", opts.PieceSize, MaxPieceSize, DefaultPieceSize)
	}
	if opts.Quota < 0 {
		return fmt.Errorf("invalid quota %d: want bytes > 0, or 0 for unlimited", opts.Quota)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return nil
}

// Close aborts open writers and releases the directory lock. Objects that
// are open keep working until they are closed. Later calls return ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closed = true
	var writers []*Writer
	for _, ws := range c.inflight {
		writers = append(writers, ws...)
	}
	c.mu.Unlock()

	for _, w := range writers {
		w.Abort()
	}
	return c.lock.Close()
}

// Lookup returns the current version of key and marks it as used for LRU
// eviction.
func (c *Cache) Lookup(key Key) (Meta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[identity(key)]
	if e == nil {
		return Meta{}, false
	}
	c.lru.MoveToFront(e.elem)
	return e.meta.clone(), true
}

// Remove deletes the current version of key and its pins. A missing key is
// not an error. Writers open for key are not affected and may publish later.
func (c *Cache) Remove(key Key) error {
	c.mu.Lock()
	e := c.entries[identity(key)]
	if e != nil {
		c.unindexLocked(e)
	}
	c.mu.Unlock()
	if e == nil {
		return nil
	}
	return c.dropFiles(e)
}

// Pin protects the current version of key from eviction until a matching
// Unpin. Pins are counted, so each Pin needs its own Unpin. They are kept in
// memory only: after a restart the caller pins again what it still needs.
// It returns ErrNotFound when version is not the current version of key.
func (c *Cache) Pin(key Key, version string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[identity(key)]
	if e == nil || e.meta.Version != version {
		return fmt.Errorf("pin version %q: %w", version, ErrNotFound)
	}
	e.pins++
	return nil
}

// Unpin releases one Pin of key at version. It does nothing when the version
// is no longer current or not pinned. It does not evict; the next write does.
func (c *Cache) Unpin(key Key, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[identity(key)]
	if e != nil && e.meta.Version == version && e.pins > 0 {
		e.pins--
	}
}

// Usage returns the bytes counted against the quota (published entries plus
// staging writes) and the quota, 0 meaning unlimited.
func (c *Cache) Usage() (used, quota int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.quota
}

// Walk calls fn for each current entry, in no particular order, until fn
// returns false. It iterates over a snapshot taken at the start, so fn may
// call the cache. It does not count as an access for LRU eviction.
func (c *Cache) Walk(fn func(Meta) bool) {
	c.mu.Lock()
	metas := make([]Meta, 0, len(c.entries))
	for _, e := range c.entries {
		metas = append(metas, e.meta.clone())
	}
	c.mu.Unlock()

	for _, m := range metas {
		if !fn(m) {
			return
		}
	}
}

// indexLocked adds e as the most recently used entry. The caller holds c.mu.
func (c *Cache) indexLocked(e *entry) {
	e.elem = c.lru.PushFront(e)
	c.entries[e.id] = e
	c.used += e.size
}

// unindexLocked removes e from the index. The caller holds c.mu.
func (c *Cache) unindexLocked(e *entry) {
	c.lru.Remove(e.elem)
	delete(c.entries, e.id)
	c.used -= e.size
}
