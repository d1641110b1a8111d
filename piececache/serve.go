package piececache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// This file lets an upload server hand out the pieces of a write while it
// is still in progress, so other peers can fetch them before Commit.

// PieceSize returns the piece size in bytes of this write.
func (w *Writer) PieceSize() int64 { return w.pieceSize }

// Committed reports whether Commit has published the write.
func (w *Writer) Committed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state == committed
}

// Pieces returns the sha256 digests of the pieces complete so far. A piece
// is complete once all its bytes are written; the last, short piece of an
// object completes only with Commit.
func (w *Writer) Pieces() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.pieces)
}

// WaitPiece blocks until piece i is complete. It returns an error wrapping
// ErrNoSuchPiece when the write was committed with fewer pieces, the abort
// error (wrapping ErrAborted) when the write was aborted, and ctx.Err()
// when ctx ends first.
func (w *Writer) WaitPiece(ctx context.Context, i int) error {
	if i < 0 {
		return fmt.Errorf("wait for piece %d: %w", i, ErrNoSuchPiece)
	}
	for {
		w.mu.Lock()
		state, progress, count, abortErr := w.state, w.progress, len(w.pieces), w.err
		w.mu.Unlock()

		switch {
		case state == aborted:
			return abortErr
		case i < count:
			return nil
		case state == committed:
			return fmt.Errorf("wait for piece %d: write has %d pieces: %w", i, count, ErrNoSuchPiece)
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ReadPiece returns complete piece i, checked against the sha256 computed
// while writing. It reads into buf when buf has the capacity, and allocates
// otherwise. It does not wait: an incomplete piece is an error wrapping
// ErrNoSuchPiece, so call WaitPiece first.
//
// After Commit it reads the published version. Once that version has been
// replaced or evicted it returns an error wrapping ErrNotFound, and the
// caller should use Cache.Open for the current version. After an abort it
// returns the abort error. A digest mismatch returns an error wrapping
// ErrCorrupt but removes nothing: the caller decides whether to Abort.
func (w *Writer) ReadPiece(i int, buf []byte) ([]byte, error) {
	f, sum, size, err := w.openPiece(i)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	piece := buf[:size]
	if _, err := f.ReadAt(piece, int64(i)*w.pieceSize); err != nil {
		return nil, fmt.Errorf("read piece %d of write: %w", i, unexpectedEOF(err))
	}
	if ok, reason := checkPiece(piece, i, sum, w.crcsUpTo(i)); !ok {
		return nil, fmt.Errorf("%w: piece %d of write: %s", ErrCorrupt, i, reason)
	}
	return piece, nil
}

// openPiece opens the data file holding complete piece i and returns it
// with the piece's digest and length. It opens the file under w.mu, because
// Commit renames the staging directory under the same lock.
func (w *Writer) openPiece(i int) (*os.File, string, int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == aborted {
		return nil, "", 0, w.err
	}
	if i < 0 || i >= len(w.pieces) {
		return nil, "", 0, fmt.Errorf("read piece %d: write has %d complete pieces: %w", i, len(w.pieces), ErrNoSuchPiece)
	}
	f, err := os.Open(filepath.Join(w.dir, dataFile))
	if errors.Is(err, fs.ErrNotExist) && w.state == committed {
		return nil, "", 0, fmt.Errorf("read piece %d: committed version was replaced or evicted: %w", i, ErrNotFound)
	}
	if err != nil {
		return nil, "", 0, fmt.Errorf("open data of write: %w", err)
	}
	size := min(w.pieceSize, w.written-int64(i)*w.pieceSize)
	return f, w.pieces[i], size, nil
}

// WaitPiece returns nil when the object has piece i, and an error wrapping
// ErrNoSuchPiece otherwise. It never blocks; it exists so that a committed
// object and a write in progress can be served through one interface.
func (o *Object) WaitPiece(_ context.Context, i int) error {
	if i < 0 || i >= len(o.meta.Pieces) {
		return fmt.Errorf("wait for piece %d: object has %d pieces: %w", i, len(o.meta.Pieces), ErrNoSuchPiece)
	}
	return nil
}

// PieceDigest returns the sha256 digest of complete piece i, or "" when
// piece i is not complete. Unlike Pieces it copies nothing, so serving one
// piece costs the same for any object size.
func (w *Writer) PieceDigest(i int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i < 0 || i >= len(w.pieces) {
		return ""
	}
	return w.pieces[i]
}

// Key returns the object key the writer stores.
func (w *Writer) Key() Key { return w.key }

// crcsUpTo returns the CRC-32C of the complete pieces when piece i is one
// of them, and nil otherwise.
func (w *Writer) crcsUpTo(i int) []uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i >= len(w.crcs) {
		return nil
	}
	return w.crcs[: i+1 : i+1]
}
