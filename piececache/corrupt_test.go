package piececache

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for a concurrent slog handler.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// flipByte inverts one byte of the file at path.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptPieceDetected(t *testing.T) {
	var logs syncBuffer
	var evicted []Meta
	c := openTestCache(t, t.TempDir(), Options{
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		OnEvict: func(m Meta) { evicted = append(evicted, m) },
	})
	key := testKey("corrupt")
	data := testData(3*testPieceSize, 1)
	m := put(t, c, key, data, Meta{}, CommitOptions{Pin: true})
	const badOff = testPieceSize + 100 // in piece 1
	flipByte(t, dataPath(c, key), badOff)

	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	p := make([]byte, 2*testPieceSize)
	n, err := obj.ReadAt(p, testPieceSize/2) // half of piece 0, then piece 1
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadAt = %d, %v; want ErrCorrupt", n, err)
	}
	if n != testPieceSize/2 {
		t.Errorf("ReadAt returned %d bytes; want %d, the verified part of piece 0 only", n, testPieceSize/2)
	}
	if !bytes.Equal(p[:n], data[testPieceSize/2:testPieceSize/2+n]) {
		t.Error("the returned bytes differ from the written ones")
	}
	if _, ok := c.Lookup(key); ok {
		t.Error("corrupt entry is still in the cache")
	}
	if _, err := os.Stat(c.objectDir(identity(key))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("corrupt entry still on disk: %v", err)
	}
	if len(evicted) != 1 {
		t.Errorf("OnEvict called %d times; want 1", len(evicted))
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "piece=1") {
		t.Errorf("log has no error for piece 1:\n%s", logs.String())
	}
	if used, _ := c.Usage(); used != 0 {
		t.Errorf("Usage = %d; want 0", used)
	}
}

func TestCorruptPieceByReadPiece(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("corrupt-piece")
	m := put(t, c, key, testData(2*testPieceSize, 2), Meta{}, CommitOptions{})
	flipByte(t, dataPath(c, key), 2*testPieceSize-1)
	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if _, err := obj.ReadPiece(0, nil); err != nil {
		t.Errorf("ReadPiece(0) of an intact piece = %v", err)
	}
	if piece, err := obj.ReadPiece(1, nil); !errors.Is(err, ErrCorrupt) || piece != nil {
		t.Errorf("ReadPiece(1) = %d bytes, %v; want nil, ErrCorrupt", len(piece), err)
	}
}

func TestTruncatedDataIsCorrupt(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("truncated")
	m := put(t, c, key, testData(2*testPieceSize, 3), Meta{}, CommitOptions{})
	if err := os.Truncate(dataPath(c, key), testPieceSize+10); err != nil {
		t.Fatal(err)
	}
	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	p := make([]byte, 10)
	if _, err := obj.ReadAt(p, testPieceSize+5); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadAt of a truncated piece = %v; want ErrCorrupt", err)
	}
}

func TestCorruptOldHandleKeepsNewVersion(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("replaced")
	m1 := put(t, c, key, testData(testPieceSize, 4), Meta{}, CommitOptions{})
	flipByte(t, dataPath(c, key), 0)
	old, err := c.Open(key, m1.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	m2 := put(t, c, key, testData(testPieceSize, 5), Meta{}, CommitOptions{})

	if _, err := old.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadAt of the corrupt old version = %v; want ErrCorrupt", err)
	}
	if got, ok := c.Lookup(key); !ok || got.Version != m2.Version {
		t.Errorf("Lookup = %v, %v; want the new version %s to stay", got.Version, ok, m2.Version)
	}
}
