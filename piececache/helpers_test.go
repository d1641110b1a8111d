package piececache

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfcache/dfcache/digest"
)

const testPieceSize = 4 << 10

func openTestCache(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PieceSize == 0 {
		opts.PieceSize = testPieceSize
	}
	c, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func testKey(name string) Key {
	return Key{Backend: "s3|us-east-1|http://127.0.0.1:9000", Bucket: "bucket", Object: name}
}

// testData returns n deterministic pseudo-random bytes for seed.
func testData(n int, seed uint64) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func md5Digest(b []byte) string {
	sum := md5.Sum(b)
	return digest.FormatMD5(sum[:])
}

// put writes data in chunks of 1000 bytes and commits it.
func put(t testing.TB, c *Cache, key Key, data []byte, m Meta, opts CommitOptions) Meta {
	t.Helper()
	w, err := c.Create(key)
	if err != nil {
		t.Fatalf("Create(%q): %v", key.Object, err)
	}
	for chunk := range slicesChunk(data, 1000) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("Write(%q): %v", key.Object, err)
		}
	}
	got, err := w.Commit(m, opts)
	if err != nil {
		t.Fatalf("Commit(%q): %v", key.Object, err)
	}
	return got
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

// readAll reads the whole object through ReadAt.
func readAll(t testing.TB, c *Cache, key Key, version string) []byte {
	t.Helper()
	obj, err := c.Open(key, version)
	if err != nil {
		t.Fatalf("Open(%q, %q): %v", key.Object, version, err)
	}
	defer obj.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.NewSectionReader(obj, 0, obj.Meta().Length)); err != nil {
		t.Fatalf("read %q: %v", key.Object, err)
	}
	return buf.Bytes()
}

// versionDirs lists the version directories of key on disk.
func versionDirs(t testing.TB, c *Cache, key Key) []string {
	t.Helper()
	children, err := os.ReadDir(c.objectDir(identity(key)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, ch := range children {
		if ch.IsDir() {
			dirs = append(dirs, ch.Name())
		}
	}
	return dirs
}

func dataPath(c *Cache, key Key) string {
	id := identity(key)
	dir, _ := readCurrent(c.objectDir(id))
	return filepath.Join(c.objectDir(id), dir, dataFile)
}

func stagingEntries(t testing.TB, c *Cache) int {
	t.Helper()
	children, err := os.ReadDir(c.stagingDir())
	if err != nil {
		t.Fatal(err)
	}
	return len(children)
}
