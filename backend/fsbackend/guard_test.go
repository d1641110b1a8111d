package fsbackend_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/fsbackend"
)

func put(t *testing.T, b *fsbackend.Backend, bucket, key, data string, opts backend.PutOptions) (backend.ObjectInfo, error) {
	t.Helper()
	return b.PutObject(context.Background(), bucket, key, strings.NewReader(data), int64(len(data)), opts)
}

func newBucket(t *testing.T) (*fsbackend.Backend, string, string) {
	t.Helper()
	root := t.TempDir()
	b, err := fsbackend.New(backend.Config{Endpoint: root})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.CreateBucket(context.Background(), "bucket"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return b, root, "bucket"
}

// listFiles returns every file and directory below dir, relative to it.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		paths = append(paths, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestInvalidKeysTouchNothing(t *testing.T) {
	b, root, bucket := newBucket(t)
	outside := filepath.Dir(root)
	before := listFiles(t, outside)
	for _, key := range []string{
		"", "/abs", "../escape", "a/../../escape", "a/./b", ".", "..", "a//b",
		"trailing/", "a/.dfcache-tmp-x", "nul\x00byte", strings.Repeat("k", 251),
		"bad-utf8-\xff",
	} {
		_, err := put(t, b, bucket, key, "data", backend.PutOptions{})
		if !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("PutObject(%q): got %v, want ErrInvalidArgument", key, err)
		}
		if err != nil && key != "" && !strings.Contains(err.Error(), "invalid key") {
			t.Errorf("PutObject(%q) error %q does not say the key is invalid", key, err)
		}
		_, err = b.HeadObject(context.Background(), bucket, key)
		if !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("HeadObject(%q): got %v, want ErrInvalidArgument", key, err)
		}
	}
	if after := listFiles(t, outside); !slices.Equal(before, after) {
		t.Errorf("files changed:\nbefore %q\nafter  %q", before, after)
	}
}

func TestInvalidBucketNames(t *testing.T) {
	b, _, _ := newBucket(t)
	for _, bucket := range []string{"", "ab", ".meta", "..", "Upper", "a/b", "-start", "end-", "dots..dots", strings.Repeat("b", 64)} {
		err := b.CreateBucket(context.Background(), bucket)
		if !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("CreateBucket(%q): got %v, want ErrInvalidArgument", bucket, err)
		}
	}
}

func TestSymlinkOutOfRootRejected(t *testing.T) {
	b, root, bucket := newBucket(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, bucket, "link")); err != nil {
		t.Fatal(err)
	}

	if _, _, err := b.GetObject(context.Background(), bucket, "link/secret", nil); err == nil {
		t.Error("GetObject through a symlink out of root: got nil error")
	}
	if _, err := put(t, b, bucket, "link/planted", "x", backend.PutOptions{}); err == nil {
		t.Error("PutObject through a symlink out of root: got nil error")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside root: stat error %v", err)
	}
	res, err := b.ListObjects(context.Background(), bucket, backend.ListOptions{})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if len(res.Objects) != 0 {
		t.Errorf("listing follows the symlink out of root: %+v", res.Objects)
	}
}

func TestKeyPrefixClash(t *testing.T) {
	b, _, bucket := newBucket(t)
	if _, err := put(t, b, bucket, "a/b", "x", backend.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := put(t, b, bucket, "a", "x", backend.PutOptions{}); !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("PutObject of a key that is a directory: got %v, want ErrInvalidArgument", err)
	}
	if _, err := put(t, b, bucket, "a/b/c", "x", backend.PutOptions{}); !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("PutObject below an object: got %v, want ErrInvalidArgument", err)
	}
	_, err := b.HeadObject(context.Background(), bucket, "a")
	if !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject of a key prefix: got %v, want ErrNotFound", err)
	}
	if err := b.DeleteObject(context.Background(), bucket, "a"); err != nil {
		t.Errorf("DeleteObject of a key prefix: %v, want nil", err)
	}
	if info, err := b.HeadObject(context.Background(), bucket, "a/b"); err != nil || info.Size != 1 {
		t.Errorf("HeadObject(a/b) after the rejected writes: %+v, %v", info, err)
	}
}

func TestLayoutOnDisk(t *testing.T) {
	b, root, bucket := newBucket(t)
	info, err := put(t, b, bucket, "dir/obj", "hello", backend.PutOptions{Digest: "md5:5d41402abc4b2a76b9719d911017c592", ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, bucket, "dir", "obj"))
	if err != nil || string(data) != "hello" {
		t.Errorf("object file: %q, %v; want \"hello\"", data, err)
	}
	raw, err := os.ReadFile(filepath.Join(root, ".meta", bucket, "dir", "obj.json"))
	if err != nil {
		t.Fatalf("metadata file: %v", err)
	}
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatalf("metadata is not JSON: %v", err)
	}
	if meta["etag"] != "5d41402abc4b2a76b9719d911017c592" || meta["digest"] != info.Digest || meta["contentType"] != "text/plain" {
		t.Errorf("metadata = %s", raw)
	}

	if err := b.DeleteObject(context.Background(), bucket, "dir/obj"); err != nil {
		t.Fatal(err)
	}
	want := []string{".", ".meta", ".meta/bucket", "bucket"}
	if got := listFiles(t, root); !slices.Equal(got, want) {
		t.Errorf("files after delete = %q, want %q (empty directories removed)", got, want)
	}
}

func TestDigestMismatchStoresNothing(t *testing.T) {
	b, _, bucket := newBucket(t)
	_, err := put(t, b, bucket, "obj", "hello", backend.PutOptions{Digest: "md5:00000000000000000000000000000000"})
	if !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("PutObject with a wrong md5 digest: got %v, want ErrInvalidArgument", err)
	}
	if _, err := b.HeadObject(context.Background(), bucket, "obj"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject after the rejected put: got %v, want ErrNotFound", err)
	}
}

func TestFileWithoutMetadata(t *testing.T) {
	b, root, bucket := newBucket(t)
	if err := os.WriteFile(filepath.Join(root, bucket, "by-hand"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := b.HeadObject(context.Background(), bucket, "by-hand")
	if err != nil || info.Size != 5 || info.LastModified.IsZero() {
		t.Errorf("HeadObject of a file without metadata: %+v, %v; want size 5 and its mtime", info, err)
	}
}

func TestTempFilesNotListed(t *testing.T) {
	b, root, bucket := newBucket(t)
	if err := os.WriteFile(filepath.Join(root, bucket, ".dfcache-tmp-left-by-crash"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := put(t, b, bucket, "real", "x", backend.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := b.ListObjects(context.Background(), bucket, backend.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Key != "real" {
		t.Errorf("listed %+v, want only \"real\"", res.Objects)
	}
}

func TestPutStopsOnCancel(t *testing.T) {
	b, _, bucket := newBucket(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.PutObject(ctx, bucket, "obj", strings.NewReader("data"), 4, backend.PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("PutObject with a cancelled context: got %v, want context.Canceled", err)
	}
}

func TestOpenByName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "created", "on", "demand")
	b, err := backend.Open(backend.Config{Name: "fs", Endpoint: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if info := b.Info(); info.Name != "fs" || info.Endpoint != dir {
		t.Errorf("Info() = %+v, want Name fs and Endpoint %q", info, dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("root directory not created: %v", err)
	}
	if _, err := fsbackend.New(backend.Config{}); !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("New with an empty endpoint: got %v, want ErrInvalidArgument", err)
	}
}

func TestRangeReaderStopsAtEnd(t *testing.T) {
	b, _, bucket := newBucket(t)
	if _, err := put(t, b, bucket, "obj", "0123456789", backend.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := b.GetObject(context.Background(), bucket, "obj", &backend.Range{Start: 2, End: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "234" {
		t.Errorf("range 2-4 = %q, %v; want \"234\"", got, err)
	}
}

func TestCheckKeyBeforeWrite(t *testing.T) {
	b, _, bucket := newBucket(t)
	if err := backend.CheckKey(b, bucket, "a/../b"); !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("CheckKey(a/../b): got %v, want ErrInvalidArgument", err)
	}
	if err := backend.CheckKey(b, bucket, "dir/ok key+1"); err != nil {
		t.Errorf("CheckKey of a valid key: %v", err)
	}
	if _, err := put(t, b, bucket, "file", "x", backend.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"file/below", "dir"} {
		if key == "dir" {
			if _, err := put(t, b, bucket, "dir/inner", "x", backend.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := backend.CheckKey(b, bucket, key); !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("CheckKey(%q) clashing with a stored object: got %v, want ErrInvalidArgument", key, err)
		}
	}
}
