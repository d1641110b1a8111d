package download

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dfcache/dfcache/peer/upload"
	"github.com/dfcache/dfcache/piececache"
)

// signalWriter collects the bytes and closes first on the first write.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return w.buf.Write(p)
}

// countingWriter counts whole pieces written.
type countingWriter struct {
	buf    bytes.Buffer
	pieces atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	w.pieces.Store(int64(w.buf.Len() / testPieceSize))
	return n, err
}

func TestReorderBufferBounded(t *testing.T) {
	const concurrency = 4
	data := randomBytes(24 * testPieceSize)
	p := newObjectParent(t, data)
	dst := &countingWriter{}
	// Piece 0 is held until pieces 1 to 3 were requested, so they wait in
	// the reorder buffer. No request may reach past the window.
	var others atomic.Int32
	othersIn, markOthersIn := closeOnce()
	var beyond atomic.Int32
	p.beforePiece = func(n int) bool {
		if int64(n)-dst.pieces.Load() >= concurrency {
			beyond.Add(1)
		}
		if n == 0 {
			<-othersIn
		} else if others.Add(1) == concurrency-1 {
			markOthersIn()
		}
		return true
	}

	d := newDownloader(Options{Concurrency: concurrency, PerParent: concurrency})
	stats, err := d.Download(context.Background(), testTask(data), parentsOf(p), dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.buf.Bytes(), data) {
		t.Fatal("downloaded bytes differ from the object")
	}
	if n := beyond.Load(); n != 0 {
		t.Errorf("%d piece requests reached %d or more pieces past the last written one", n, concurrency)
	}
	if stats.MaxPiecesInMemory != concurrency {
		t.Errorf("MaxPiecesInMemory = %d, want %d: the window should fill and never grow past it", stats.MaxPiecesInMemory, concurrency)
	}
}

func TestZeroLengthTask(t *testing.T) {
	p := newObjectParent(t, nil)
	task := testTask(nil)
	task.Digest = "" // learn the length from the parent

	var dst bytes.Buffer
	stats, err := newDownloader(Options{}).Download(context.Background(), task, parentsOf(p), &dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 0 || stats != (Stats{}) {
		t.Errorf("download of an empty task wrote %d bytes, stats %+v; want nothing", dst.Len(), stats)
	}

	// With the digest of empty content, no parent is needed.
	if _, err := newDownloader(Options{}).Download(context.Background(), testTask(nil), nil, &dst, nil); err != nil {
		t.Errorf("empty task without parents: %v, want no error", err)
	}
	if dst.Len() != 0 {
		t.Errorf("empty task without parents wrote %d bytes, want 0", dst.Len())
	}
}

func TestParentWithoutTaskDropped(t *testing.T) {
	data := randomBytes(4 * testPieceSize)
	holder := newObjectParent(t, data)
	stranger := newObjectParent(t, data)
	stranger.src.open = func() (upload.Task, error) { return nil, fmt.Errorf("gone: %w", piececache.ErrNotFound) }

	got, _, err := download(t, newDownloader(Options{}), testTask(data), parentsOf(stranger, holder), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the object")
	}
	if n := stranger.pieces.Load(); n != 0 {
		t.Errorf("parent without the task got %d piece requests, want 0", n)
	}
}

func TestNoParentsUnknownLengthFails(t *testing.T) {
	task := testTask([]byte("x"))
	task.Length = 0
	_, err := newDownloader(Options{}).Download(context.Background(), task, nil, &bytes.Buffer{}, (&backend{}).read)
	if err == nil {
		t.Fatal("download without parents or length succeeded")
	}
}
