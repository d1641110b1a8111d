package s3backend_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/internal/testenv"
)

// proxied returns a backend that reaches a fresh server through a proxy,
// and the bucket it created there.
func proxied(t *testing.T) (*testenv.S3Server, *testenv.Proxy, backend.Backend, string) {
	t.Helper()
	srv := testenv.StartS3(t)
	proxy := testenv.NewProxy(t, srv.Endpoint)
	cfg := srv.Config("bucket")
	cfg.Endpoint = proxy.URL
	return srv, proxy, newBackend(t, cfg), "bucket"
}

func md5Digest(data []byte) string {
	sum := md5.Sum(data)
	return "md5:" + hex.EncodeToString(sum[:])
}

func TestLargeObjectUploadsInParts(t *testing.T) {
	srv, proxy, b, bucket := proxied(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16) // 11 MiB: parts of 5, 5 and 1 MiB
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"ReaderAt", bytes.NewReader(data)},
		{"PlainReader", struct{ io.Reader }{bytes.NewReader(data)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy.Reset()
			key := "large/" + tc.name
			_, err := b.PutObject(context.Background(), bucket, key, tc.body, int64(len(data)), backend.PutOptions{Digest: md5Digest(data)})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if got := proxy.CountUploadParts(); got != 3 {
				t.Errorf("UploadPart requests = %d, want 3", got)
			}
			if got := proxy.CountPath(http.MethodPut, "/bucket/"+key); got != 3 {
				t.Errorf("PUT requests to the key = %d, want 3 parts and no single PutObject", got)
			}
			out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject through the SDK: %v", err)
			}
			if aws.ToInt64(out.ContentLength) != int64(len(data)) || out.Metadata["digest"] != md5Digest(data) {
				t.Errorf("stored object: size %d, metadata %v; want %d and digest %s", aws.ToInt64(out.ContentLength), out.Metadata, len(data), md5Digest(data))
			}
		})
	}
}

func TestSmallObjectIsOnePut(t *testing.T) {
	_, proxy, b, bucket := proxied(t)
	data := bytes.Repeat([]byte("x"), 1000)
	proxy.Reset()
	_, err := b.PutObject(context.Background(), bucket, "small", struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data)), backend.PutOptions{})
	if err != nil {
		t.Fatalf("PutObject of a plain reader: %v", err)
	}
	if got := proxy.Count(http.MethodPut); got != 1 {
		t.Errorf("PUT requests = %d, want 1", got)
	}
	if got := proxy.CountUploadParts(); got != 0 {
		t.Errorf("UploadPart requests = %d, want 0", got)
	}
}

func TestShortBodyLeavesNoUpload(t *testing.T) {
	srv, _, b, bucket := proxied(t)
	data := bytes.Repeat([]byte("y"), _threshold+1)
	_, err := b.PutObject(context.Background(), bucket, "short", struct{ io.Reader }{bytes.NewReader(data)}, int64(len(data))+100, backend.PutOptions{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("PutObject of a short multipart body: got %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := b.HeadObject(context.Background(), bucket, "short"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject after the failed upload: got %v, want ErrNotFound", err)
	}
	out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("multipart uploads left behind: %d, want 0 (aborted)", len(out.Uploads))
	}
}

func TestServerErrorIsRetryable(t *testing.T) {
	_, proxy, b, bucket := proxied(t)
	proxy.Reset()
	proxy.FailNext(3, http.StatusServiceUnavailable)
	_, _, err := b.GetObject(context.Background(), bucket, "any", nil)
	if !errors.Is(err, backend.ErrRetryable) || !backend.IsRetryable(err) {
		t.Errorf("GetObject after three 503s: got %v, want ErrRetryable", err)
	}
	if err != nil && !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not carry the server's status 503", err)
	}
	if got := proxy.Count(http.MethodGet); got != 3 {
		t.Errorf("GET requests = %d, want 3 attempts", got)
	}

	_, _, err = b.GetObject(context.Background(), bucket, "any", nil)
	if !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetObject once the faults are used up: got %v, want ErrNotFound from the server", err)
	}
}

func TestConnectionErrorIsRetryable(t *testing.T) {
	_, proxy, b, bucket := proxied(t)
	proxy.SetDown(true)
	err := b.HeadBucket(context.Background(), bucket)
	if !errors.Is(err, backend.ErrRetryable) {
		t.Errorf("HeadBucket while the server is down: got %v, want ErrRetryable", err)
	}
	proxy.SetDown(false)
	if err := b.HeadBucket(context.Background(), bucket); err != nil {
		t.Errorf("HeadBucket once the server is back: %v", err)
	}
}

func TestForbiddenIsAccessDenied(t *testing.T) {
	srv, proxy, b, bucket := proxied(t)
	proxy.Reset()
	proxy.FailNext(1, http.StatusForbidden)
	_, err := b.HeadObject(context.Background(), bucket, "any")
	if !errors.Is(err, backend.ErrAccessDenied) {
		t.Errorf("HeadObject answered 403: got %v, want ErrAccessDenied", err)
	}
	if got := proxy.Count(http.MethodHead); got != 1 {
		t.Errorf("HEAD requests = %d, want 1 (403 is not retried)", got)
	}

	cfg := srv.Config()
	cfg.SecretKey = "wrong-secret"
	_, err = newBackend(t, cfg).ListObjects(context.Background(), bucket, backend.ListOptions{})
	if !errors.Is(err, backend.ErrAccessDenied) {
		t.Errorf("ListObjects with a wrong secret key: got %v, want ErrAccessDenied", err)
	}
}

func TestListAboveOneThousandPages(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1100 objects; skipped with -short")
	}
	_, proxy, b, bucket := proxied(t)
	for i := 0; i < 1100; i++ {
		key := fmt.Sprintf("k%04d", i)
		if _, err := b.PutObject(context.Background(), bucket, key, strings.NewReader(key), int64(len(key)), backend.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Reset()
	res, err := b.ListObjects(context.Background(), bucket, backend.ListOptions{Limit: 1100})
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	if len(res.Objects) != 1100 || res.IsTruncated {
		t.Errorf("got %d objects (truncated %v), want 1100 and not truncated", len(res.Objects), res.IsTruncated)
	}
	if got := proxy.CountPath(http.MethodGet, "/bucket"); got != 2 {
		t.Errorf("ListObjectsV2 requests = %d, want 2 pages", got)
	}
}
