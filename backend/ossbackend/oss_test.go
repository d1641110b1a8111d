package ossbackend_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/ossbackend"
	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
	"github.com/dfcache/dfcache/digest"
)

const (
	testBucket = "cache-bucket"
	testRegion = "cn-hangzhou"
)

var _creds = ossfake.Credentials{AccessKey: "LTAItestkey", SecretKey: "test-secret"}

// newFake starts a fake with one bucket and returns it with a backend
// configured by cfg on top of the fake's endpoint and credentials.
func newFake(t *testing.T, creds ossfake.Credentials, cfg backend.Config) (*ossfake.Server, *ossbackend.Backend) {
	t.Helper()
	srv := ossfake.New(t, ossfake.Options{Credentials: creds, Region: testRegion})
	srv.CreateBucket(testBucket)
	cfg.Name = "oss"
	cfg.Endpoint = srv.URL
	cfg.Region = testRegion
	if cfg.AccessKey == "" {
		cfg.AccessKey, cfg.SecretKey, cfg.SecurityToken = creds.AccessKey, creds.SecretKey, creds.SecurityToken
	}
	b, err := ossbackend.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv, b
}

func md5Digest(data []byte) string {
	sum := md5.Sum(data)
	return digest.FormatMD5(sum[:])
}

func put(t *testing.T, b backend.Backend, key string, data []byte) backend.ObjectInfo {
	t.Helper()
	info, err := b.PutObject(context.Background(), testBucket, key, bytes.NewReader(data), int64(len(data)),
		backend.PutOptions{Digest: md5Digest(data), ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("PutObject(%q): %v", key, err)
	}
	return info
}

func readAll(t *testing.T, b backend.Backend, key string, rng *backend.Range) ([]byte, backend.ObjectInfo) {
	t.Helper()
	body, info, err := b.GetObject(context.Background(), testBucket, key, rng)
	if err != nil {
		t.Fatalf("GetObject(%q): %v", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data, info
}

var _awkwardKeys = []string{
	"plain.txt",
	"with space.txt",
	"plus+sign.txt",
	"percent%25and%.txt",
	"equals=sign&amp.txt",
	"unicode/数据/ファイル-é.bin",
	"nested/a/b/c/d.txt",
	"trailing/slash/",
	"tilde~and*star(1).txt",
}

func TestRoundTripAwkwardKeys(t *testing.T) {
	for _, tc := range []struct{ version, scheme, otherScheme string }{
		{"v1", ossfake.SchemeV1, ossfake.SchemeV4},
		{"v4", ossfake.SchemeV4, ossfake.SchemeV1},
		{"", ossfake.SchemeV4, ossfake.SchemeV1},
	} {
		t.Run("signature "+tc.version, func(t *testing.T) {
			srv, b := newFake(t, _creds, backend.Config{SignatureVersion: tc.version})
			t.Cleanup(func() {
				if srv.Count(tc.scheme) == 0 || srv.Count(tc.otherScheme) != 0 || srv.Count("Rejected") != 0 {
					t.Errorf("fake saw %d %s, %d %s and %d rejected requests; want only %s",
						srv.Count(tc.scheme), tc.scheme, srv.Count(tc.otherScheme), tc.otherScheme, srv.Count("Rejected"), tc.scheme)
				}
			})
			ctx := context.Background()
			for _, key := range _awkwardKeys {
				data := []byte("contents of " + key)
				put(t, b, key, data)

				info, err := b.HeadObject(ctx, testBucket, key)
				if err != nil {
					t.Fatalf("HeadObject(%q): %v", key, err)
				}
				if info.Size != int64(len(data)) || info.Digest != md5Digest(data) || info.ContentType != "text/plain" {
					t.Errorf("HeadObject(%q) = size %d digest %q type %q; want %d %q text/plain",
						key, info.Size, info.Digest, info.ContentType, len(data), md5Digest(data))
				}
				got, _ := readAll(t, b, key, nil)
				if !bytes.Equal(got, data) {
					t.Errorf("GetObject(%q) = %q; want %q", key, got, data)
				}
				if err := b.DeleteObject(ctx, testBucket, key); err != nil {
					t.Fatalf("DeleteObject(%q): %v", key, err)
				}
				if _, err := b.HeadObject(ctx, testBucket, key); !errors.Is(err, backend.ErrNotFound) {
					t.Errorf("HeadObject(%q) after delete: %v; want ErrNotFound", key, err)
				}
			}
		})
	}
}

func TestMissingObjectAndBucket(t *testing.T) {
	_, b := newFake(t, _creds, backend.Config{})
	ctx := context.Background()

	if _, err := b.HeadObject(ctx, testBucket, "missing"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject(missing) = %v; want ErrNotFound", err)
	}
	if _, _, err := b.GetObject(ctx, testBucket, "missing", nil); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("GetObject(missing) = %v; want ErrNotFound", err)
	}
	if err := b.DeleteObject(ctx, testBucket, "missing"); err != nil {
		t.Errorf("DeleteObject(missing) = %v; want nil", err)
	}
	if _, _, err := b.GetObject(ctx, "no-such-bucket", "k", nil); !errors.Is(err, backend.ErrBucketNotFound) {
		t.Errorf("GetObject(no-such-bucket) = %v; want ErrBucketNotFound", err)
	}
	if err := b.HeadBucket(ctx, "no-such-bucket"); !errors.Is(err, backend.ErrBucketNotFound) {
		t.Errorf("HeadBucket(no-such-bucket) = %v; want ErrBucketNotFound", err)
	}
	if _, err := b.ListObjects(ctx, "no-such-bucket", backend.ListOptions{}); !errors.Is(err, backend.ErrBucketNotFound) {
		t.Errorf("ListObjects(no-such-bucket) = %v; want ErrBucketNotFound", err)
	}
}

func TestCreateAndHeadBucket(t *testing.T) {
	srv, b := newFake(t, _creds, backend.Config{})
	ctx := context.Background()
	for range 2 {
		if err := b.CreateBucket(ctx, "new-bucket"); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}
	}
	if err := b.HeadBucket(ctx, "new-bucket"); err != nil {
		t.Errorf("HeadBucket after create: %v", err)
	}
	if n := srv.Count("CreateBucket"); n != 2 {
		t.Errorf("CreateBucket requests = %d; want 2", n)
	}
}

func TestRangeGet(t *testing.T) {
	_, b := newFake(t, _creds, backend.Config{})
	data := []byte("0123456789abcdef")
	put(t, b, "range.bin", data)

	got, info := readAll(t, b, "range.bin", &backend.Range{Start: 2, End: 5})
	if string(got) != "2345" {
		t.Errorf("range 2-5 = %q; want %q", got, "2345")
	}
	if info.Size != int64(len(data)) {
		t.Errorf("range info size = %d; want whole object size %d", info.Size, len(data))
	}
	got, _ = readAll(t, b, "range.bin", &backend.Range{Start: 15, End: 15})
	if string(got) != "f" {
		t.Errorf("range 15-15 = %q; want %q", got, "f")
	}
	_, _, err := b.GetObject(context.Background(), testBucket, "range.bin", &backend.Range{Start: 100, End: 200})
	if !errors.Is(err, backend.ErrInvalidArgument) {
		t.Errorf("range beyond the end = %v; want ErrInvalidArgument", err)
	}
}

func TestCopySourceWithSpaceAndPlus(t *testing.T) {
	_, b := newFake(t, _creds, backend.Config{})
	data := []byte("copy me")
	src := "source dir/a b+c=d.txt"
	put(t, b, src, data)

	info, err := b.CopyObject(context.Background(), testBucket, src, "copies/a b+c.txt")
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if info.Size != int64(len(data)) || info.Digest != md5Digest(data) {
		t.Errorf("copy info = size %d digest %q; want %d %q", info.Size, info.Digest, len(data), md5Digest(data))
	}
	got, _ := readAll(t, b, "copies/a b+c.txt", nil)
	if !bytes.Equal(got, data) {
		t.Errorf("copied data = %q; want %q", got, data)
	}
	if _, err := b.CopyObject(context.Background(), testBucket, "missing source", "x"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("CopyObject(missing source) = %v; want ErrNotFound", err)
	}
}

func TestListDelimiterAndPaging(t *testing.T) {
	srv, b := newFake(t, _creds, backend.Config{})
	ctx := context.Background()
	const many = 1030
	for i := range many {
		put(t, b, fmt.Sprintf("many/%04d", i), []byte{byte(i)})
	}
	for _, key := range []string{"top.txt", "dir1/a", "dir1/b", "dir2/sub/c"} {
		put(t, b, key, []byte(key))
	}

	res, err := b.ListObjects(ctx, testBucket, backend.ListOptions{Delimiter: "/"})
	if err != nil {
		t.Fatalf("ListObjects with delimiter: %v", err)
	}
	if fmt.Sprint(res.CommonPrefixes) != "[dir1/ dir2/ many/]" || len(res.Objects) != 1 || res.Objects[0].Key != "top.txt" {
		t.Errorf("delimiter listing = prefixes %v objects %v; want [dir1/ dir2/ many/] and top.txt", res.CommonPrefixes, res.Objects)
	}

	before := srv.Count("ListObjects")
	res, err = b.ListObjects(ctx, testBucket, backend.ListOptions{Prefix: "many/", Limit: 1020})
	if err != nil {
		t.Fatalf("ListObjects limit 1020: %v", err)
	}
	if len(res.Objects) != 1020 || !res.IsTruncated || res.NextMarker != "many/1019" {
		t.Errorf("limit 1020 = %d objects truncated %v next %q; want 1020 true many/1019", len(res.Objects), res.IsTruncated, res.NextMarker)
	}
	if pages := srv.Count("ListObjects") - before; pages != 2 {
		t.Errorf("limit 1020 took %d requests; want 2 pages", pages)
	}
	rest, err := b.ListObjects(ctx, testBucket, backend.ListOptions{Prefix: "many/", Marker: res.NextMarker, Limit: 2000})
	if err != nil {
		t.Fatalf("ListObjects after marker: %v", err)
	}
	if len(rest.Objects) != many-1020 || rest.IsTruncated || rest.Objects[0].Key != "many/1020" {
		t.Errorf("rest = %d objects truncated %v; want %d from many/1020, not truncated", len(rest.Objects), rest.IsTruncated, many-1020)
	}
}

// streamOnly hides every interface but io.Reader, so uploads cannot seek.
type streamOnly struct{ io.Reader }

func TestMultipartAboveThreshold(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{"reader-at", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"stream", func(b []byte) io.Reader { return streamOnly{bytes.NewReader(b)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, b := newFake(t, _creds, backend.Config{MultipartThreshold: 1 << 20, PartSize: backend.MinPartSize})
			data := make([]byte, 2*backend.MinPartSize+12345)
			for i := range data {
				data[i] = byte(i * 7)
			}
			_, err := b.PutObject(context.Background(), testBucket, "big/object.bin", tc.wrap(data), int64(len(data)),
				backend.PutOptions{Digest: md5Digest(data)})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if parts, puts := srv.Count("UploadPart"), srv.Count("PutObject"); parts != 3 || puts != 0 {
				t.Errorf("requests: %d UploadPart, %d PutObject; want 3 and 0", parts, puts)
			}
			got, info := readAll(t, b, "big/object.bin", nil)
			if !bytes.Equal(got, data) {
				t.Errorf("multipart object differs: %d bytes, md5 %s; want %d bytes, %s", len(got), md5Digest(got), len(data), md5Digest(data))
			}
			if info.Digest != md5Digest(data) {
				t.Errorf("digest metadata = %q; want %q", info.Digest, md5Digest(data))
			}
		})
	}
}

func TestSmallObjectUsesSinglePut(t *testing.T) {
	srv, b := newFake(t, _creds, backend.Config{MultipartThreshold: 1 << 20, PartSize: backend.MinPartSize})
	put(t, b, "small", make([]byte, 1<<20-1))
	if parts, puts := srv.Count("UploadPart"), srv.Count("PutObject"); parts != 0 || puts != 1 {
		t.Errorf("requests: %d UploadPart, %d PutObject; want 0 and 1", parts, puts)
	}
}

func TestWrongSecretIsAccessDenied(t *testing.T) {
	for _, version := range []string{"v1", "v4"} {
		t.Run(version, func(t *testing.T) {
			srv, b := newFake(t, _creds, backend.Config{
				SignatureVersion: version, AccessKey: _creds.AccessKey, SecretKey: "wrong-secret",
			})
			ctx := context.Background()
			_, err := b.PutObject(ctx, testBucket, "k", bytes.NewReader([]byte("x")), 1, backend.PutOptions{})
			if !errors.Is(err, backend.ErrAccessDenied) {
				t.Errorf("PutObject = %v; want ErrAccessDenied", err)
			}
			if _, err := b.HeadObject(ctx, testBucket, "k"); !errors.Is(err, backend.ErrAccessDenied) {
				t.Errorf("HeadObject = %v; want ErrAccessDenied", err)
			}
			if _, err := b.ListObjects(ctx, testBucket, backend.ListOptions{}); !errors.Is(err, backend.ErrAccessDenied) {
				t.Errorf("ListObjects = %v; want ErrAccessDenied", err)
			}
			if backend.IsRetryable(err) {
				t.Errorf("access denied is retryable: %v", err)
			}
			if n := srv.Count("Rejected"); n < 3 {
				t.Errorf("fake rejected %d requests; want at least 3", n)
			}
		})
	}
}

func TestSecurityToken(t *testing.T) {
	creds := _creds
	creds.SecurityToken = "sts-token-123"
	for _, version := range []string{"v1", "v4"} {
		t.Run(version, func(t *testing.T) {
			srv, b := newFake(t, creds, backend.Config{SignatureVersion: version})
			put(t, b, "sts.txt", []byte("via sts"))
			if got, _ := readAll(t, b, "sts.txt", nil); string(got) != "via sts" {
				t.Errorf("GetObject with token = %q; want %q", got, "via sts")
			}

			noToken, err := ossbackend.New(backend.Config{
				Endpoint: srv.URL, Region: testRegion, SignatureVersion: version,
				AccessKey: creds.AccessKey, SecretKey: creds.SecretKey,
			})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := noToken.HeadObject(context.Background(), testBucket, "sts.txt"); !errors.Is(err, backend.ErrAccessDenied) {
				t.Errorf("HeadObject without token = %v; want ErrAccessDenied", err)
			}
		})
	}
}

func TestServerErrorIsRetryable(t *testing.T) {
	srv, b := newFake(t, _creds, backend.Config{})
	srv.FailNext(10, 503, "ServiceUnavailable")
	_, err := b.HeadObject(context.Background(), testBucket, "k")
	if !errors.Is(err, backend.ErrRetryable) || !backend.IsRetryable(err) {
		t.Errorf("HeadObject during 503s = %v; want ErrRetryable", err)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	b, err := ossbackend.New(backend.Config{
		Endpoint: "http://127.0.0.1:1", Region: testRegion, AccessKey: "ak", SecretKey: "sk",
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = b.HeadObject(context.Background(), testBucket, "k")
	if !backend.IsRetryable(err) {
		t.Errorf("HeadObject on a closed port = %v; want a retryable error", err)
	}
}

func TestConfigValidation(t *testing.T) {
	valid := backend.Config{Endpoint: "127.0.0.1:9", Region: testRegion, AccessKey: "ak", SecretKey: "sk"}
	for _, tc := range []struct {
		name   string
		change func(*backend.Config)
	}{
		{"no endpoint", func(c *backend.Config) { c.Endpoint = "" }},
		{"no secret", func(c *backend.Config) { c.SecretKey = "" }},
		{"v4 without region", func(c *backend.Config) { c.Region = "" }},
		{"unknown signature", func(c *backend.Config) { c.SignatureVersion = "v2" }},
		{"tiny part size", func(c *backend.Config) { c.PartSize = 1024 }},
		{"negative threshold", func(c *backend.Config) { c.MultipartThreshold = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			if _, err := ossbackend.New(cfg); !errors.Is(err, backend.ErrInvalidArgument) {
				t.Errorf("New = %v; want ErrInvalidArgument", err)
			}
		})
	}
	v1 := valid
	v1.Region, v1.SignatureVersion = "", "v1"
	if _, err := ossbackend.New(v1); err != nil {
		t.Errorf("v1 without region: %v; want no error", err)
	}
}

func TestOpenRegisteredName(t *testing.T) {
	b, err := backend.Open(backend.Config{Name: "oss", Endpoint: "127.0.0.1:9", Region: testRegion, AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := backend.Info{Name: "oss", Region: testRegion, Endpoint: "127.0.0.1:9"}
	if got := b.Info(); got != want {
		t.Errorf("Info() = %+v; want %+v", got, want)
	}
}
