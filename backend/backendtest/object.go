package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/backend"
)

func (s *suite) testBucket(t *testing.T) {
	b, bucket := s.setup(t)
	ctx := context.Background()
	if err := b.HeadBucket(ctx, bucket); err != nil {
		t.Errorf("HeadBucket of a created bucket: %v", err)
	}
	if err := b.CreateBucket(ctx, bucket); err != nil {
		t.Errorf("CreateBucket of an existing bucket: %v", err)
	}

	missing := randomBucket()
	assertIs(t, "HeadBucket of a missing bucket", b.HeadBucket(ctx, missing), backend.ErrBucketNotFound)
	_, err := b.PutObject(ctx, missing, "k", strings.NewReader("x"), 1, backend.PutOptions{})
	assertIs(t, "PutObject into a missing bucket", err, backend.ErrBucketNotFound)
	_, _, err = b.GetObject(ctx, missing, "k", nil)
	assertIs(t, "GetObject from a missing bucket", err, backend.ErrBucketNotFound)
	_, err = b.ListObjects(ctx, missing, backend.ListOptions{})
	assertIs(t, "ListObjects of a missing bucket", err, backend.ErrBucketNotFound)
	// S3 sends HEAD responses without a body, so a backend may not be
	// able to tell a missing bucket from a missing key here.
	_, err = b.HeadObject(ctx, missing, "k")
	if !errors.Is(err, backend.ErrBucketNotFound) && !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject in a missing bucket: got %v, want ErrBucketNotFound or ErrNotFound", err)
	}
}

func (s *suite) testMissingObject(t *testing.T) {
	b, bucket := s.setup(t)
	ctx := context.Background()
	_, err := b.HeadObject(ctx, bucket, "no/such key")
	assertIs(t, "HeadObject of a missing key", err, backend.ErrNotFound)
	_, _, err = b.GetObject(ctx, bucket, "no/such key", nil)
	assertIs(t, "GetObject of a missing key", err, backend.ErrNotFound)
	_, _, err = b.GetObject(ctx, bucket, "no/such key", &backend.Range{Start: 0, End: 0})
	assertIs(t, "ranged GetObject of a missing key", err, backend.ErrNotFound)
	_, err = b.CopyObject(ctx, bucket, "no/such key", "dst")
	assertIs(t, "CopyObject from a missing key", err, backend.ErrNotFound)
}

func (s *suite) testPutGetSizes(t *testing.T) {
	b, bucket := s.setup(t)
	for _, size := range []int64{0, 1, 1000, 64<<10 + 3} {
		data := payload(size, 1)
		key := "sizes/" + strings.Repeat("x", int(size%7)) + "object"
		s.checkRoundTrip(t, b, bucket, key, data, bytes.NewReader(data))
	}
}

// checkRoundTrip puts data from r and checks what PutObject, HeadObject
// and GetObject return.
func (s *suite) checkRoundTrip(t *testing.T, b backend.Backend, bucket, key string, data []byte, r io.Reader) {
	t.Helper()
	ctx := context.Background()
	size := int64(len(data))
	opts := putOptions(data)
	put, err := b.PutObject(ctx, bucket, key, r, size, opts)
	if err != nil {
		t.Fatalf("PutObject(%q, %d bytes): %v", key, size, err)
	}
	checkInfo(t, "PutObject", put, key, size, opts)
	if s.opts.MultipartThreshold == 0 || size < s.opts.MultipartThreshold {
		if !strings.EqualFold(put.ETag, md5Hex(data)) {
			t.Errorf("PutObject(%q) ETag = %q, want the hex md5 %q of a single-part upload", key, put.ETag, md5Hex(data))
		}
	}

	head, err := b.HeadObject(ctx, bucket, key)
	if err != nil {
		t.Fatalf("HeadObject(%q): %v", key, err)
	}
	checkInfo(t, "HeadObject", head, key, size, opts)
	if head.ETag != put.ETag {
		t.Errorf("HeadObject(%q) ETag = %q, want %q as PutObject returned", key, head.ETag, put.ETag)
	}
	if head.LastModified.IsZero() {
		t.Errorf("HeadObject(%q) LastModified is zero", key)
	}

	got, info := mustGet(t, b, bucket, key, nil)
	assertSameBytes(t, "GetObject("+key+")", got, data)
	checkInfo(t, "GetObject", info, key, size, opts)
}

func checkInfo(t *testing.T, op string, got backend.ObjectInfo, key string, size int64, opts backend.PutOptions) {
	t.Helper()
	want := backend.ObjectInfo{
		Key: key, Size: size, Digest: opts.Digest, ContentType: opts.ContentType,
		ContentDisposition: opts.ContentDisposition, ContentEncoding: opts.ContentEncoding,
		ContentLanguage: opts.ContentLanguage,
	}
	got.ETag, got.LastModified, got.StorageClass = "", want.LastModified, ""
	if got != want {
		t.Errorf("%s(%q) info:\n got %+v\nwant %+v", op, key, got, want)
	}
}

func (s *suite) testPutShortBody(t *testing.T) {
	b, bucket := s.setup(t)
	ctx := context.Background()
	_, err := b.PutObject(ctx, bucket, "short", onlyReader{strings.NewReader("only 15 bytes..")}, 100, backend.PutOptions{})
	if err == nil {
		t.Fatal("PutObject with a body shorter than size: got nil error")
	}
	_, err = b.HeadObject(ctx, bucket, "short")
	assertIs(t, "HeadObject after a failed put", err, backend.ErrNotFound)
}

func (s *suite) testMultipart(t *testing.T) {
	if s.opts.MultipartThreshold == 0 {
		t.Skip("Options.MultipartThreshold is 0")
	}
	b, bucket := s.setup(t)
	data := payload(s.opts.MultipartThreshold+1, 2)
	t.Run("ReaderAt", func(t *testing.T) {
		s.checkRoundTrip(t, b, bucket, "multipart/reader-at", data, bytes.NewReader(data))
	})
	t.Run("PlainReader", func(t *testing.T) {
		s.checkRoundTrip(t, b, bucket, "multipart/plain", data, onlyReader{bytes.NewReader(data)})
	})
	// The range crosses the end of the first part of the smallest size.
	size := int64(len(data))
	rng := &backend.Range{Start: min(backend.MinPartSize, size) - 10, End: min(backend.MinPartSize+9, size-1)}
	got, _ := mustGet(t, b, bucket, "multipart/plain", rng)
	assertSameBytes(t, "range across a part boundary", got, data[rng.Start:rng.End+1])
}

func (s *suite) testRange(t *testing.T) {
	b, bucket := s.setup(t)
	data := payload(1000, 3)
	mustPut(t, b, bucket, "ranged", data)
	for _, rng := range []backend.Range{{Start: 0, End: 0}, {Start: 0, End: 999}, {Start: 10, End: 19}, {Start: 999, End: 999}} {
		got, info := mustGet(t, b, bucket, "ranged", &rng)
		assertSameBytes(t, fmt.Sprintf("range %d-%d", rng.Start, rng.End), got, data[rng.Start:rng.End+1])
		if info.Size != 1000 {
			t.Errorf("range %d-%d: info.Size = %d, want the whole object's 1000", rng.Start, rng.End, info.Size)
		}
	}
	got, _ := mustGet(t, b, bucket, "ranged", &backend.Range{Start: 990, End: 5000})
	assertSameBytes(t, "range 990-5000 clamped to the object", got, data[990:])

	for _, rng := range []backend.Range{{Start: 1000, End: 1001}, {Start: 5, End: 4}} {
		_, _, err := b.GetObject(context.Background(), bucket, "ranged", &rng)
		assertIs(t, fmt.Sprintf("invalid range %d-%d", rng.Start, rng.End), err, backend.ErrInvalidArgument)
	}
}

func (s *suite) testOverwrite(t *testing.T) {
	b, bucket := s.setup(t)
	mustPut(t, b, bucket, "over", []byte("first version"))
	second := []byte("the second, longer version")
	mustPut(t, b, bucket, "over", second)
	got, info := mustGet(t, b, bucket, "over", nil)
	assertSameBytes(t, "GetObject after overwrite", got, second)
	if info.Digest != md5Digest(second) || info.Size != int64(len(second)) {
		t.Errorf("info after overwrite: digest %q size %d, want %q and %d", info.Digest, info.Size, md5Digest(second), len(second))
	}
}

func (s *suite) testDelete(t *testing.T) {
	b, bucket := s.setup(t)
	ctx := context.Background()
	mustPut(t, b, bucket, "dir/gone", []byte("bytes"))
	mustPut(t, b, bucket, "dir/kept", []byte("bytes"))
	if err := b.DeleteObject(ctx, bucket, "dir/gone"); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	_, err := b.HeadObject(ctx, bucket, "dir/gone")
	assertIs(t, "HeadObject after delete", err, backend.ErrNotFound)
	_, _, err = b.GetObject(ctx, bucket, "dir/gone", nil)
	assertIs(t, "GetObject after delete", err, backend.ErrNotFound)
	if err := b.DeleteObject(ctx, bucket, "dir/gone"); err != nil {
		t.Errorf("second DeleteObject of the same key: %v, want nil", err)
	}
	if err := b.DeleteObject(ctx, bucket, "never/existed"); err != nil {
		t.Errorf("DeleteObject of a missing key: %v, want nil", err)
	}
	res, err := b.ListObjects(ctx, bucket, backend.ListOptions{})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if keys := objectKeys(res); !slices.Equal(keys, []string{"dir/kept"}) {
		t.Errorf("keys after delete = %q, want [dir/kept]", keys)
	}
}

func (s *suite) testCopy(t *testing.T) {
	b, bucket := s.setup(t)
	ctx := context.Background()
	data := payload(3000, 4)
	src, dst := "dir/source key+plus.bin", "copies/dst key+1=2.bin"
	mustPut(t, b, bucket, src, data)
	copied, err := b.CopyObject(ctx, bucket, src, dst)
	if err != nil {
		t.Fatalf("CopyObject(%q, %q): %v", src, dst, err)
	}
	if copied.Key != dst || copied.Size != int64(len(data)) {
		t.Errorf("CopyObject returned key %q size %d, want %q and %d", copied.Key, copied.Size, dst, len(data))
	}
	head, err := b.HeadObject(ctx, bucket, dst)
	if err != nil {
		t.Fatalf("HeadObject of the copy: %v", err)
	}
	checkInfo(t, "HeadObject of the copy", head, dst, int64(len(data)), putOptions(data))
	got, _ := mustGet(t, b, bucket, dst, nil)
	assertSameBytes(t, "GetObject of the copy", got, data)
	got, _ = mustGet(t, b, bucket, src, nil)
	assertSameBytes(t, "GetObject of the source after the copy", got, data)
}

// oddKeys are keys that need escaping in URLs, signatures or paths.
var oddKeys = []string{
	"odd/space key.txt",
	"odd/plus+key",
	"odd/percent%20key",
	"odd/percent%key",
	"odd/equals=key&amp",
	"odd/question?hash#key",
	"odd/unicode-ключ-鍵-🙂",
	"odd/nested/a/b/c/deep.txt",
	"odd/tilde~quote'key",
}

func (s *suite) testOddKeys(t *testing.T) {
	b, bucket := s.setup(t)
	keys := slices.Clone(oddKeys)
	if s.opts.TrailingSlashKeys {
		keys = append(keys, "odd/dir-marker/", "odd/dir-marker/inside")
	}
	for _, key := range keys {
		data := []byte("content of " + key)
		if strings.HasSuffix(key, "/") {
			// Directory markers are empty; some servers reject data there.
			data = nil
		}
		mustPut(t, b, bucket, key, data)
		got, info := mustGet(t, b, bucket, key, nil)
		assertSameBytes(t, "GetObject("+key+")", got, data)
		if info.Key != key || info.Digest != md5Digest(data) {
			t.Errorf("GetObject(%q) info key %q digest %q, want %q and %q", key, info.Key, info.Digest, key, md5Digest(data))
		}
	}
	res, err := b.ListObjects(context.Background(), bucket, backend.ListOptions{Prefix: "odd/"})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	slices.Sort(keys)
	if got := objectKeys(res); !slices.Equal(got, keys) {
		t.Errorf("listed keys:\n got %q\nwant %q", got, keys)
	}
}
