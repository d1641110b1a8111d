package piececache

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReopenFindsEntries(t *testing.T) {
	dir := t.TempDir()
	c := openTestCache(t, dir, Options{})
	a, b := testData(10000, 1), testData(0, 2)
	ma := put(t, c, testKey("a"), a, Meta{ContentType: "image/jpeg", LastModified: time.Unix(1700000000, 0).UTC()}, CommitOptions{})
	mb := put(t, c, testKey("b"), b, Meta{}, CommitOptions{})
	used, _ := c.Usage()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := openTestCache(t, dir, Options{})
	got, ok := c2.Lookup(testKey("a"))
	if !ok || got.Digest != ma.Digest || got.ContentType != "image/jpeg" || !got.LastModified.Equal(ma.LastModified) {
		t.Errorf("Lookup(a) after reopen = %+v, %v; want %+v", got, ok, ma)
	}
	if read := readAll(t, c2, testKey("a"), ma.Version); !bytes.Equal(read, a) {
		t.Error("bytes of a differ after reopen")
	}
	if _, ok := c2.Lookup(testKey("b")); !ok {
		t.Errorf("Lookup(b) after reopen found nothing; want %+v", mb)
	}
	if used2, _ := c2.Usage(); used2 != used {
		t.Errorf("Usage after reopen = %d; want %d", used2, used)
	}
}

func TestOpenTwiceRejected(t *testing.T) {
	dir := t.TempDir()
	openTestCache(t, dir, Options{})
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open = %v; want an error saying the directory is in use", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, opts := range []Options{{PieceSize: -1}, {PieceSize: MaxPieceSize + 1}, {Quota: -1}} {
		if _, err := Open(t.TempDir(), opts); err == nil {
			t.Errorf("Open(%+v) succeeded; want an error", opts)
		}
	}
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	c := openTestCache(t, dir, Options{})
	key := testKey("kept")
	m := put(t, c, key, testData(5000, 1), Meta{}, CommitOptions{})
	orphan := testKey("orphan")
	put(t, c, orphan, testData(10, 2), Meta{}, CommitOptions{})
	c.Close()

	objDir := c.objectDir(identity(key))
	stale := filepath.Join(objDir, newVersionDir("md5:stale"))
	mustMkdir(t, stale)
	mustWrite(t, filepath.Join(objDir, currentFile+".tmp"), "garbage")
	mustMkdir(t, filepath.Join(dir, "staging", "half-written"))
	mustWrite(t, filepath.Join(dir, "staging", "half-written", dataFile), "partial")
	if err := os.Remove(filepath.Join(c.objectDir(identity(orphan)), currentFile)); err != nil {
		t.Fatal(err)
	}

	c2 := openTestCache(t, dir, Options{})
	if _, ok := c2.Lookup(orphan); ok {
		t.Error("object without a current file is still indexed")
	}
	if _, err := os.Stat(c2.objectDir(identity(orphan))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("object without a current file still on disk: %v", err)
	}
	if n := stagingEntries(t, c2); n != 0 {
		t.Errorf("%d staging entries after Open; want 0", n)
	}
	if dirs := versionDirs(t, c2, key); len(dirs) != 1 {
		t.Errorf("version dirs after Open = %v; want only the current one", dirs)
	}
	if _, err := os.Stat(filepath.Join(objDir, currentFile+".tmp")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("current.tmp still on disk: %v", err)
	}
	if got, ok := c2.Lookup(key); !ok || got.Digest != m.Digest {
		t.Errorf("Lookup(kept) = %+v, %v; want %s", got, ok, m.Digest)
	}
}

func TestOpenDropsTruncatedData(t *testing.T) {
	dir := t.TempDir()
	c := openTestCache(t, dir, Options{})
	key := testKey("truncated")
	put(t, c, key, testData(5000, 1), Meta{}, CommitOptions{})
	path := dataPath(c, key)
	c.Close()
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}

	c2 := openTestCache(t, dir, Options{})
	if _, ok := c2.Lookup(key); ok {
		t.Error("entry with truncated data is still indexed")
	}
	if used, _ := c2.Usage(); used != 0 {
		t.Errorf("Usage = %d; want 0", used)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDropsInvalidMetadata(t *testing.T) {
	cases := map[string]func(m Meta) string{
		"not json":     func(Meta) string { return "{" },
		"wrong format": func(m Meta) string { return mustJSON(t, storedMeta{Format: 99, Meta: m}) },
		"wrong key": func(m Meta) string {
			m.Key.Object = "other"
			return mustJSON(t, storedMeta{Format: metaFormat, Meta: m})
		},
		"missing pieces": func(m Meta) string {
			m.Pieces = m.Pieces[1:]
			return mustJSON(t, storedMeta{Format: metaFormat, Meta: m})
		},
		"bad piece sum": func(m Meta) string {
			m.Pieces[0] = "md5:00"
			return mustJSON(t, storedMeta{Format: metaFormat, Meta: m})
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := openTestCache(t, dir, Options{})
			key := testKey("meta")
			m := put(t, c, key, testData(2*testPieceSize, 1), Meta{}, CommitOptions{})
			c.Close()
			mustWrite(t, filepath.Join(filepath.Dir(dataPath(c, key)), metaFile), edit(m))

			c2 := openTestCache(t, dir, Options{})
			if _, ok := c2.Lookup(key); ok {
				t.Error("entry with invalid metadata is still indexed")
			}
			if dirs := versionDirs(t, c2, key); len(dirs) != 0 {
				t.Errorf("version dirs = %v; want none", dirs)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
