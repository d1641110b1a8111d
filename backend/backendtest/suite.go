// Package backendtest is the contract suite that every backend.Backend
// implementation passes. A backend's own tests call Run with a constructor
// for the store under test:
//
//	func TestContract(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) },
//			backendtest.Options{MultipartThreshold: 5 << 20})
//	}
//
// Each case creates its own bucket with a random name, so cases do not see
// each other's objects, and leaves it behind.
package backendtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	mathrand "math/rand/v2"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/digest"
)

// Options describe what the backend under test can do.
type Options struct {
	// TrailingSlashKeys is true when the backend stores keys that end in
	// '/' (S3 directory markers); the fs backend cannot.
	TrailingSlashKeys bool
	// MultipartThreshold is the size in bytes from which the backend under
	// test was configured to upload in parts. The suite then writes objects
	// of this size plus one byte, so keep it small (such as 5 MiB). 0 skips
	// those cases.
	MultipartThreshold int64
}

// Run runs every case of the contract as a subtest of t. newBackend is
// called once per case and must return a ready backend; it may share one
// server between calls. The case of 1100 objects is skipped under
// testing.Short.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend, opts Options) {
	s := &suite{newBackend: newBackend, opts: opts}
	t.Run("Bucket", s.testBucket)
	t.Run("MissingObject", s.testMissingObject)
	t.Run("PutGetSizes", s.testPutGetSizes)
	t.Run("PutShortBody", s.testPutShortBody)
	t.Run("Multipart", s.testMultipart)
	t.Run("Range", s.testRange)
	t.Run("Overwrite", s.testOverwrite)
	t.Run("Delete", s.testDelete)
	t.Run("Copy", s.testCopy)
	t.Run("OddKeys", s.testOddKeys)
	t.Run("List", s.testList)
	t.Run("ListPaging", s.testListPaging)
	t.Run("ListDelimiterPaging", s.testListDelimiterPaging)
	t.Run("ListAboveOneThousand", s.testListAboveOneThousand)
}

type suite struct {
	newBackend func(t *testing.T) backend.Backend
	opts       Options
}

// setup returns a backend and a new, empty bucket in it.
func (s *suite) setup(t *testing.T) (backend.Backend, string) {
	t.Helper()
	b := s.newBackend(t)
	bucket := randomBucket()
	if err := b.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatalf("CreateBucket(%q): %v", bucket, err)
	}
	return b, bucket
}

// randomBucket returns a valid, unused bucket name.
func randomBucket() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "contract-" + hex.EncodeToString(b[:])
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int64, seed uint64) []byte {
	data := make([]byte, n)
	r := mathrand.New(mathrand.NewPCG(seed, uint64(n)))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return data
}

func md5Digest(data []byte) string {
	sum := md5.Sum(data)
	return digest.FormatMD5(sum[:])
}

func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// putOptions returns content headers and the digest of data.
func putOptions(data []byte) backend.PutOptions {
	return backend.PutOptions{
		Digest:             md5Digest(data),
		ContentType:        "application/x-contract-test",
		ContentDisposition: `attachment; filename="contract test.bin"`,
		ContentEncoding:    "identity",
		ContentLanguage:    "en-GB",
	}
}

// onlyReader hides io.ReaderAt and io.Seeker, so the backend gets a plain
// stream.
type onlyReader struct{ io.Reader }

func mustPut(t *testing.T, b backend.Backend, bucket, key string, data []byte) backend.ObjectInfo {
	t.Helper()
	info, err := b.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), putOptions(data))
	if err != nil {
		t.Fatalf("PutObject(%q, %d bytes): %v", key, len(data), err)
	}
	return info
}

// mustGet reads the object, or its range, whole.
func mustGet(t *testing.T, b backend.Backend, bucket, key string, rng *backend.Range) ([]byte, backend.ObjectInfo) {
	t.Helper()
	rc, info, err := b.GetObject(context.Background(), bucket, key, rng)
	if err != nil {
		t.Fatalf("GetObject(%q, %v): %v", key, rng, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read object %q: %v", key, err)
	}
	return data, info
}

// assertSameBytes compares by length and md5, so a failure does not print
// megabytes.
func assertSameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) || !bytes.Equal(got, want) {
		t.Errorf("%s: got %d bytes (md5 %s), want %d bytes (md5 %s)", what, len(got), md5Hex(got), len(want), md5Hex(want))
	}
}

func assertIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want one wrapping %q", what, err, target)
	}
}
