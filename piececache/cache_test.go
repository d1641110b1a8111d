package piececache

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/digest"
)

func TestRoundTripSizes(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	sizes := map[string]int{
		"empty":        0,
		"one byte":     1,
		"piece-1":      testPieceSize - 1,
		"one piece":    testPieceSize,
		"three pieces": 3 * testPieceSize,
		"piece+1":      testPieceSize + 1,
	}
	for name, size := range sizes {
		t.Run(name, func(t *testing.T) {
			key := testKey(name)
			data := testData(size, uint64(size))
			m := put(t, c, key, data, Meta{ContentType: "text/plain", ETag: `"e"`}, CommitOptions{})

			if m.Length != int64(size) || m.PieceSize != testPieceSize {
				t.Errorf("Length, PieceSize = %d, %d; want %d, %d", m.Length, m.PieceSize, size, testPieceSize)
			}
			if want := md5Digest(data); m.Digest != want || m.Version != want {
				t.Errorf("Digest, Version = %s, %s; want %s for both", m.Digest, m.Version, want)
			}
			var want []string
			for chunk := range slicesChunk(data, testPieceSize) {
				want = append(want, digest.PieceSum(chunk))
			}
			if !slices.Equal(m.Pieces, want) {
				t.Errorf("Pieces = %v; want %v", m.Pieces, want)
			}
			got, ok := c.Lookup(key)
			if !ok || got.ContentType != "text/plain" || got.Digest != m.Digest {
				t.Errorf("Lookup = %+v, %v; want the committed meta", got, ok)
			}
			if read := readAll(t, c, key, m.Version); !bytes.Equal(read, data) {
				t.Errorf("read %d bytes, not equal to the %d written", len(read), len(data))
			}
		})
	}
}

func TestReadPieceReturnsWholePieces(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("pieces")
	data := testData(2*testPieceSize+10, 7)
	m := put(t, c, key, data, Meta{}, CommitOptions{})
	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()

	buf := make([]byte, testPieceSize)
	for i := range 3 {
		for range 2 { // the second read goes to the verified piece
			piece, err := obj.ReadPiece(i, buf)
			if err != nil {
				t.Fatalf("ReadPiece(%d): %v", i, err)
			}
			end := min((i+1)*testPieceSize, len(data))
			if !bytes.Equal(piece, data[i*testPieceSize:end]) {
				t.Errorf("ReadPiece(%d) returned %d bytes that differ from the written ones", i, len(piece))
			}
		}
	}
	if _, err := obj.ReadPiece(3, buf); err == nil {
		t.Error("ReadPiece(3) of a 3-piece object succeeded; want an error")
	}
}

func TestReadAtContract(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("readat")
	data := testData(3*testPieceSize, 3)
	m := put(t, c, key, data, Meta{}, CommitOptions{})
	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()

	p := make([]byte, 100)
	n, err := obj.ReadAt(p, int64(len(data))-40)
	if n != 40 || err != io.EOF || !bytes.Equal(p[:n], data[len(data)-40:]) {
		t.Errorf("ReadAt over the end = %d, %v; want 40, io.EOF and the last 40 bytes", n, err)
	}
	n, err = obj.ReadAt(p, int64(len(data)))
	if n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if _, err := obj.ReadAt(p, -1); err == nil {
		t.Error("ReadAt(-1) succeeded; want an error")
	}
	span := make([]byte, testPieceSize+200) // crosses from piece 0 into piece 2
	n, err = obj.ReadAt(span, testPieceSize-100)
	if err != nil || !bytes.Equal(span[:n], data[testPieceSize-100:2*testPieceSize+100]) {
		t.Errorf("ReadAt across pieces = %d, %v; want the written bytes", n, err)
	}
}

func TestLargeObjectStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	c := openTestCache(t, t.TempDir(), Options{PieceSize: DefaultPieceSize})
	key := testKey("large")
	const size = 64 << 20
	w, err := c.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	src := md5.New()
	chunk := make([]byte, 1<<20)
	for i := range size / len(chunk) {
		copy(chunk, testData(len(chunk), uint64(i)))
		src.Write(chunk)
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	want := digest.FormatMD5(src.Sum(nil))
	m, err := w.Commit(Meta{Digest: want}, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pieces) != size/DefaultPieceSize {
		t.Errorf("%d pieces; want %d", len(m.Pieces), size/DefaultPieceSize)
	}

	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got := md5.New()
	n, err := io.Copy(got, io.NewSectionReader(obj, 0, size))
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v; want %d", n, err, size)
	}
	if sum := digest.FormatMD5(got.Sum(nil)); sum != want {
		t.Errorf("read digest %s; want %s", sum, want)
	}
}

func TestCommitDigestMismatch(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("mismatch")
	w, err := c.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	_, err = w.Commit(Meta{Digest: md5Digest([]byte("world"))}, CommitOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Commit = %v; want ErrDigestMismatch", err)
	}
	if _, ok := c.Lookup(key); ok {
		t.Error("mismatching write was published")
	}
	if n := stagingEntries(t, c); n != 0 {
		t.Errorf("%d staging entries; want 0", n)
	}
	if used, _ := c.Usage(); used != 0 {
		t.Errorf("Usage = %d; want 0", used)
	}
	if _, err := w.Commit(Meta{}, CommitOptions{}); !errors.Is(err, ErrAborted) {
		t.Errorf("second Commit = %v; want ErrAborted", err)
	}

	upper := strings.ToUpper(md5Digest([]byte("hello"))[4:])
	m := put(t, c, key, []byte("hello"), Meta{Digest: "md5:" + upper}, CommitOptions{})
	if m.Digest != md5Digest([]byte("hello")) {
		t.Errorf("Digest = %s; want the lower-case md5", m.Digest)
	}
}

func TestCommitRejectsInvalidDigest(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("bad"))
	w.Write([]byte("x"))
	if _, err := w.Commit(Meta{Digest: "md5:xyz"}, CommitOptions{}); err == nil || !strings.Contains(err.Error(), "invalid digest") {
		t.Errorf("Commit = %v; want an invalid digest error", err)
	}
}

func TestOverwriteLastCommitWins(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("overwrite")
	v1, v2, v3 := testData(9000, 1), testData(3000, 2), testData(100, 3)
	m1 := put(t, c, key, v1, Meta{}, CommitOptions{})
	old, err := c.Open(key, m1.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	// Two writers at once: the one committed last wins.
	w2, _ := c.Create(key)
	w3, _ := c.Create(key)
	w2.Write(v2)
	w3.Write(v3)
	if c.Inflight(key) != w3 {
		t.Error("Inflight is not the newest writer")
	}
	m3, err := w3.Commit(Meta{}, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := w2.Commit(Meta{}, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Inflight(key) != nil {
		t.Error("Inflight after both commits is not nil")
	}

	got, _ := c.Lookup(key)
	if got.Version != m2.Version {
		t.Errorf("current version %s; want the last committed %s (not %s)", got.Version, m2.Version, m3.Version)
	}
	if dirs := versionDirs(t, c, key); len(dirs) != 1 {
		t.Errorf("version dirs = %v; want one", dirs)
	}
	if _, err := c.Open(key, m1.Version); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(old version) = %v; want ErrNotFound", err)
	}
	if read := readAll(t, c, key, m2.Version); !bytes.Equal(read, v2) {
		t.Error("current bytes differ from the last commit")
	}
	buf := make([]byte, len(v1))
	if n, err := old.ReadAt(buf, 0); err != nil || !bytes.Equal(buf[:n], v1) {
		t.Errorf("open handle of the replaced version read %d bytes, %v; want all of v1", n, err)
	}
	if used, _ := c.Usage(); used < int64(len(v2)) || used > int64(len(v2))+4096 {
		t.Errorf("Usage = %d; want the size of v2 (%d) plus its metadata", used, len(v2))
	}
}

func TestKeysCannotEscape(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cache")
	c := openTestCache(t, dir, Options{})
	keys := []Key{
		{Backend: "../..", Bucket: "..", Object: "../../../escape"},
		{Bucket: "/", Object: "/etc/passwd"},
		{Bucket: "b", Object: "a/../../x\x00y"},
		{Bucket: "b/..", Object: "a"},
		{Bucket: "b", Object: "../a"},
	}
	for i, key := range keys {
		put(t, c, key, testData(100, uint64(i)), Meta{}, CommitOptions{})
	}
	for i, key := range keys {
		got, ok := c.Lookup(key)
		if !ok || got.Key != key || got.Digest != md5Digest(testData(100, uint64(i))) {
			t.Errorf("Lookup(%+v) = %+v, %v; want its own entry", key, got, ok)
		}
	}

	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "cache" {
		t.Errorf("parent directory holds %v; want only the cache directory", entries)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if strings.Contains(d.Name(), "escape") || strings.Contains(d.Name(), "passwd") {
			t.Errorf("a key became the file name %s", path)
		}
		return nil
	})
}

func TestCreateRejectsEmptyKey(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	for _, key := range []Key{{Bucket: "b"}, {Object: "o"}} {
		if _, err := c.Create(key); err == nil {
			t.Errorf("Create(%+v) succeeded; want an error", key)
		}
	}
}

func TestRemove(t *testing.T) {
	var evicted []Meta
	c := openTestCache(t, t.TempDir(), Options{OnEvict: func(m Meta) { evicted = append(evicted, m) }})
	key := testKey("removed")
	m := put(t, c, key, testData(100, 1), Meta{}, CommitOptions{Pin: true})

	if err := c.Remove(key); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(key); ok {
		t.Error("removed entry still found")
	}
	if _, err := os.Stat(c.objectDir(identity(key))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("object directory still on disk: %v", err)
	}
	if len(evicted) != 1 || evicted[0].Version != m.Version {
		t.Errorf("OnEvict calls = %v; want one with version %s", evicted, m.Version)
	}
	if err := c.Remove(key); err != nil {
		t.Errorf("Remove of a missing key = %v; want nil", err)
	}
	if used, _ := c.Usage(); used != 0 {
		t.Errorf("Usage = %d; want 0", used)
	}
}

func TestWalkListsCurrentEntries(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	for _, name := range []string{"x", "y", "z"} {
		put(t, c, testKey(name), []byte(name), Meta{}, CommitOptions{})
	}
	var names []string
	c.Walk(func(m Meta) bool {
		names = append(names, m.Key.Object)
		return true
	})
	slices.Sort(names)
	if !slices.Equal(names, []string{"x", "y", "z"}) {
		t.Errorf("Walk visited %v; want [x y z]", names)
	}
	calls := 0
	c.Walk(func(Meta) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Walk called fn %d times after it returned false; want 1", calls)
	}
}

func TestClosedCacheRejectsCalls(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	m := put(t, c, testKey("a"), []byte("a"), Meta{}, CommitOptions{})
	w, _ := c.Create(testKey("b"))
	c.Close()
	if _, err := w.Write([]byte("b")); !errors.Is(err, ErrAborted) {
		t.Errorf("Write after Close = %v; want ErrAborted", err)
	}
	if _, err := c.Create(testKey("c")); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close = %v; want ErrClosed", err)
	}
	if _, err := c.Open(testKey("a"), m.Version); !errors.Is(err, ErrClosed) {
		t.Errorf("Open after Close = %v; want ErrClosed", err)
	}
}
