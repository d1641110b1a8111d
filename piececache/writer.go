package piececache

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dfcache/dfcache/digest"
)

type writeState int

const (
	writing writeState = iota
	committed
	aborted
)

// Writer stores one object version in staging until Commit publishes it.
// All methods are safe for concurrent use, and Write, Commit and Abort are
// serialized.
type Writer struct {
	c         *Cache
	key       Key
	id        string
	pieceSize int64

	mu        sync.Mutex // guards the fields below
	state     writeState
	err       error    // cause of the abort, wrapping ErrAborted
	dir       string   // staging directory, or the version directory after Commit
	file      *os.File // staging data file while writing
	written   int64
	md5       hash.Hash
	piece     hash.Hash     // sha256 of the piece being written
	pieceFill int64         // bytes of the piece being written
	pieces    []string      // digests of the complete pieces, and of all pieces after Commit
	crc       hash.Hash32   // CRC-32C of the piece being written
	crcs      []uint32      // CRC-32C of the complete pieces
	progress  chan struct{} // closed and replaced whenever pieces or state change
}

// Create starts a staging write of a new version of key. Several writers
// for one key may exist at once; the last one to Commit wins. The caller
// must Commit or Abort the writer.
func (c *Cache) Create(key Key) (*Writer, error) {
	if key.Bucket == "" || key.Object == "" {
		return nil, fmt.Errorf("invalid key %q/%q: bucket and object must not be empty", key.Bucket, key.Object)
	}
	dir := filepath.Join(c.stagingDir(), rand.Text())
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, dataFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create staging file: %w", err)
	}
	w := &Writer{
		c: c, key: key, id: identity(key), pieceSize: c.pieceSize,
		dir: dir, file: f, md5: digest.NewMD5(), piece: sha256.New(), crc: crc32.New(_castagnoli),
		progress: make(chan struct{}),
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		f.Close()
		os.RemoveAll(dir)
		return nil, ErrClosed
	}
	c.inflight[w.id] = append(c.inflight[w.id], w)
	return w, nil
}

// Inflight returns the newest writer of key that is neither committed nor
// aborted, or nil. Use its NewReader to follow the bytes as they arrive.
func (c *Cache) Inflight(key Key) *Writer {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.inflight[identity(key)]
	if len(ws) == 0 {
		return nil
	}
	return ws[len(ws)-1]
}

func (c *Cache) dropInflight(w *Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.inflight[w.id]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(c.inflight, w.id)
	} else {
		c.inflight[w.id] = ws
	}
}

// Write appends p to the staging file, hashing pieces (sha256) and the
// whole object (md5) in the same pass. Bytes count against the quota as
// they are written. When they do not fit even after evicting every unpinned
// entry, Write returns an error wrapping ErrQuotaExceeded. Any error aborts
// the write.
func (w *Writer) Write(p []byte) (int, error) {
	// Reserve before locking, so that followers do not wait for evictions.
	reserveErr := w.c.reserve(int64(len(p)))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != writing {
		if reserveErr == nil {
			w.c.release(int64(len(p)))
		}
		return 0, w.stateErrLocked()
	}
	if reserveErr != nil {
		w.abortLocked(reserveErr)
		return 0, reserveErr
	}
	n, err := w.file.Write(p)
	w.hashLocked(p[:n])
	w.c.release(int64(len(p) - n))
	if err != nil {
		err = fmt.Errorf("write staging file: %w", err)
		w.abortLocked(err)
		return n, err
	}
	return n, nil
}

// hashLocked adds b to the digests and records each piece it completes.
func (w *Writer) hashLocked(b []byte) {
	w.md5.Write(b)
	w.written += int64(len(b))
	grew := false
	for len(b) > 0 {
		chunk := min(int64(len(b)), w.pieceSize-w.pieceFill)
		w.piece.Write(b[:chunk])
		w.crc.Write(b[:chunk])
		w.pieceFill += chunk
		b = b[chunk:]
		if w.pieceFill == w.pieceSize {
			w.finishPieceLocked()
			grew = true
		}
	}
	if grew {
		w.notifyLocked()
	}
}

func (w *Writer) finishPieceLocked() {
	w.pieces = append(w.pieces, digest.FormatSHA256(w.piece.Sum(nil)))
	w.crcs = append(w.crcs, w.crc.Sum32())
	w.piece.Reset()
	w.crc.Reset()
	w.pieceFill = 0
}

// notifyLocked wakes every follower waiting for progress.
func (w *Writer) notifyLocked() {
	close(w.progress)
	w.progress = make(chan struct{})
}

// Written returns the number of bytes written so far.
func (w *Writer) Written() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// Digest returns the md5 of the bytes written so far, "md5:<hex>".
func (w *Writer) Digest() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return digest.FormatMD5(w.md5.Sum(nil))
}

// Abort discards the write and removes its staging files, and followers get
// ErrAborted. It does nothing after Commit or a previous Abort.
func (w *Writer) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == writing {
		w.abortLocked(nil)
	}
}

// abortLocked ends the write because of cause, which may be nil.
func (w *Writer) abortLocked(cause error) {
	w.err = ErrAborted
	if cause != nil {
		w.err = fmt.Errorf("%w: %w", ErrAborted, cause)
	}
	w.state = aborted
	w.file.Close()
	if err := os.RemoveAll(w.dir); err != nil {
		w.c.log.Error("piece cache: remove staging files", "path", w.dir, "err", err)
	}
	w.c.release(w.written)
	w.c.dropInflight(w)
	w.notifyLocked()
}

func (w *Writer) stateErrLocked() error {
	if w.state == committed {
		return errors.New("piececache: write already committed")
	}
	return w.err
}

// CommitOptions are the options of Writer.Commit.
type CommitOptions struct {
	// Pin pins the new version as part of publishing it, so that no
	// eviction can happen in between. Release it with Cache.Unpin.
	Pin bool
}

// Commit publishes the written bytes as the current version of the key.
//
// It fills m's Key, Length, PieceSize, Pieces, Digest and CreatedAt, and
// sets Version to the digest when it is empty. When m.Digest is set and
// differs from the md5 of the written bytes, it aborts the write and returns
// an error wrapping ErrDigestMismatch. It fsyncs data and metadata, renames
// them into place and then replaces the current version, so that a crash
// leaves either the old or the new version. It then deletes the replaced
// version and evicts unpinned entries, least recently used first, while
// usage exceeds the quota. Any error aborts the write.
func (w *Writer) Commit(m Meta, opts CommitOptions) (Meta, error) {
	m, err := w.commit(m, opts)
	if err != nil {
		return Meta{}, err
	}
	w.c.evictOverQuota(w.id)
	return m, nil
}

func (w *Writer) commit(m Meta, opts CommitOptions) (Meta, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state != writing {
		return Meta{}, w.stateErrLocked()
	}
	m, err := w.finishMetaLocked(m)
	if err == nil {
		err = w.syncStagingLocked()
	}
	var metaSize int64
	if err == nil {
		metaSize, err = writeMeta(w.dir, m)
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	if err != nil {
		w.abortLocked(err)
		return Meta{}, err
	}
	if err := w.publishLocked(m, metaSize, opts.Pin); err != nil {
		w.abortLocked(err)
		return Meta{}, err
	}
	return m.clone(), nil
}

// finishMetaLocked completes the last piece and fills m from the write.
func (w *Writer) finishMetaLocked(m Meta) (Meta, error) {
	if w.pieceFill > 0 {
		w.finishPieceLocked()
	}
	sum := digest.FormatMD5(w.md5.Sum(nil))
	if m.Digest != "" {
		given, err := digest.Parse(m.Digest)
		if err != nil {
			return m, fmt.Errorf("commit: %w", err)
		}
		if given != sum {
			return m, fmt.Errorf("%w: expected %s, written bytes have %s", ErrDigestMismatch, given, sum)
		}
	}
	m.Key = w.key
	m.Length = w.written
	m.PieceSize = w.pieceSize
	m.Pieces = w.pieces
	m.PieceCRCs = w.crcs
	m.Digest = sum
	m.CreatedAt = time.Now().UTC()
	if m.Version == "" {
		m.Version = sum
	}
	return m, nil
}

func (w *Writer) syncStagingLocked() error {
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("sync staging file: %w", err)
	}
	if err := w.file.Close(); err != nil {
		return fmt.Errorf("close staging file: %w", err)
	}
	return nil
}
