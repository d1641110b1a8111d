package upload

import (
	"context"

	"github.com/dfcache/dfcache/piececache"
)

// Source finds the tasks this host can serve. The daemon implements it over
// its task index.
type Source interface {
	// OpenTask returns the task with the given id. It returns an error
	// wrapping ErrNotFound (or piececache.ErrNotFound) when this host holds
	// no part of the task. The server closes the task after each request.
	OpenTask(id string) (Task, error)
}

// Task is one task held by this host, complete or in progress. Its methods
// may be called from several requests at once.
type Task interface {
	// Length returns the object size in bytes, or -1 while it is unknown.
	Length() int64
	// PieceSize returns the size in bytes of every piece but the last.
	PieceSize() int64
	// Complete reports whether every piece is present.
	Complete() bool
	// Pieces returns the "sha256:<hex>" digests of the pieces present now,
	// from piece 0 without gaps. The caller must not modify the slice.
	Pieces() []string
	// WaitPiece blocks until piece i is present or ctx ends. It returns an
	// error wrapping piececache.ErrNoSuchPiece or piececache.ErrAborted
	// when the piece can never come.
	WaitPiece(ctx context.Context, i int) error
	// ReadPiece returns present piece i, checked against its digest, read
	// into buf when buf has the capacity.
	ReadPiece(i int, buf []byte) ([]byte, error)
	// Close releases what OpenTask acquired.
	Close() error
}

// FromObject serves a committed object version. Close closes the object.
func FromObject(o *piececache.Object) Task {
	return &objectTask{Object: o, meta: o.Meta()}
}

type objectTask struct {
	*piececache.Object
	meta piececache.Meta
}

func (t *objectTask) Length() int64    { return t.meta.Length }
func (t *objectTask) PieceSize() int64 { return t.meta.PieceSize }
func (t *objectTask) Complete() bool   { return true }
func (t *objectTask) Pieces() []string { return t.meta.Pieces }

func (t *objectTask) PieceDigest(i int) string {
	if i < 0 || i >= len(t.meta.Pieces) {
		return ""
	}
	return t.meta.Pieces[i]
}

// pieceDigester is implemented by tasks that return one piece digest
// without copying the list, as both adapters do.
type pieceDigester interface {
	PieceDigest(i int) string
}

// pieceDigest returns the digest of present piece i of task, or "".
func pieceDigest(task Task, i int) string {
	if d, ok := task.(pieceDigester); ok {
		return d.PieceDigest(i)
	}
	if pieces := task.Pieces(); i < len(pieces) {
		return pieces[i]
	}
	return ""
}

// FromWriter serves a write in progress, and keeps serving it after Commit
// until the committed version is replaced or evicted. Reads then fail with
// piececache.ErrNotFound, so OpenTask should prefer Cache.Open for a
// committed task. length is the object size when the daemon knows it in
// advance, or -1; after Commit the written size is reported. Close does
// not touch the writer, which stays owned by the daemon.
func FromWriter(w *piececache.Writer, length int64) Task {
	return &writerTask{Writer: w, length: length}
}

type writerTask struct {
	*piececache.Writer
	length int64
}

func (t *writerTask) Length() int64 {
	if t.Committed() {
		return t.Written()
	}
	return t.length
}

func (t *writerTask) Complete() bool { return t.Committed() }
func (t *writerTask) Close() error   { return nil }
