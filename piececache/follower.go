package piececache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// errReaderClosed is returned by a follower's Read after its Close.
var errReaderClosed = errors.New("piececache: reader closed")

// follower streams the bytes of a Writer from offset 0, one verified piece
// at a time.
type follower struct {
	w       *Writer
	f       *os.File
	err     error  // sticky error, returned by every later Read
	next    int    // index of the next piece to read
	buf     []byte // verified, unread bytes of the current piece
	storage []byte // backing array of buf, one piece long

	done      chan struct{} // closed by Close to end a waiting Read
	closeOnce sync.Once
}

// NewReader returns a reader of the bytes of this write from offset 0. It
// returns whole pieces as they complete, each checked against the sha256
// computed while writing, and blocks while the next piece is incomplete, so
// the last piece arrives only with Commit. After Commit it returns io.EOF
// once every byte has been read; after an abort, an error wrapping
// ErrAborted. Close ends a blocked Read. Each reader holds one piece of
// memory.
func (w *Writer) NewReader() io.ReadCloser {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := &follower{w: w, done: make(chan struct{})}
	if w.state == aborted {
		r.err = w.err
		return r
	}
	f, err := os.Open(filepath.Join(w.dir, dataFile))
	if err != nil {
		r.err = fmt.Errorf("open data of write: %w", err)
		return r
	}
	r.f = f
	return r
}

func (r *follower) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// fill waits for the next piece, reads it and checks its digest.
func (r *follower) fill() error {
	pieceSize := r.w.pieceSize
	i := r.next
	sum, length, err := r.wait(i)
	if err != nil {
		return err
	}
	off := int64(i) * pieceSize
	n := min(pieceSize, length-off)
	if int64(cap(r.storage)) < n {
		r.storage = make([]byte, n)
	}
	piece := r.storage[:n]
	if _, err := r.f.ReadAt(piece, off); err != nil {
		return fmt.Errorf("read piece %d of write: %w", i, err)
	}
	if ok, reason := checkPiece(piece, i, sum, r.w.crcsUpTo(i)); !ok {
		return fmt.Errorf("%w: piece %d of write: %s", ErrCorrupt, i, reason)
	}
	r.buf = piece
	r.next++
	return nil
}

// wait blocks until piece i is complete and returns its digest and the
// bytes written so far. It returns io.EOF when the write was committed with
// fewer pieces.
func (r *follower) wait(i int) (string, int64, error) {
	w := r.w
	for {
		w.mu.Lock()
		state, progress, written := w.state, w.progress, w.written
		sum := ""
		if i < len(w.pieces) {
			sum = w.pieces[i]
		}
		abortErr := w.err
		w.mu.Unlock()

		switch {
		case state == aborted:
			return "", 0, abortErr
		case sum != "":
			return sum, written, nil
		case state == committed:
			return "", 0, io.EOF
		}
		select {
		case <-progress:
		case <-r.done:
			return "", 0, errReaderClosed
		}
	}
}

func (r *follower) Close() error {
	r.closeOnce.Do(func() { close(r.done) })
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}
