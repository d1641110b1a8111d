package obsbackend

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/backend/obsbackend/obsfake"
	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
	"github.com/dfcache/dfcache/digest"
)

const (
	testBucket = "cache-bucket"
	testRegion = "cn-north-4"
	testDomain = "obs.test"
)

var _creds = ossfake.Credentials{AccessKey: "OBSTESTKEY", SecretKey: "obs-test-secret"}

// mode is one way of addressing the fake: path style, where the SDK signs
// with AWS v2, or virtual-hosted style with the native OBS signature.
type mode struct {
	name      string
	signature string // Config.SignatureVersion
	scheme    string
	// endpoint returns the endpoint for the fake's address.
	endpoint func(addr string) string
}

var _modes = []mode{
	{"path style", "", obsfake.SchemeAWS, pathStyle},
	{"virtual host", "", obsfake.SchemeOBS, virtualHost},
	{"aws v4", "v4", obsfake.SchemeAWS4, pathStyle},
}

func pathStyle(addr string) string { return "http://" + addr }

func virtualHost(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "http://" + testDomain + ":" + port
}

// newBackend builds a backend for srv in mode m. Every connection goes to
// the fake's 127.0.0.1 address whatever host the SDK names, so
// virtual-hosted names such as BUCKET.obs.test need no DNS.
func newBackend(t *testing.T, srv *ossfake.Server, m mode, cfg backend.Config) *Backend {
	t.Helper()
	cfg.Name, cfg.Endpoint, cfg.Region, cfg.SignatureVersion = "obs", m.endpoint(srv.Addr), testRegion, m.signature
	if cfg.AccessKey == "" {
		cfg.AccessKey, cfg.SecretKey = _creds.AccessKey, _creds.SecretKey
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	transport := b.httpClient.Transport.(*http.Transport)
	dialer := &net.Dialer{}
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Addr)
	}
	return b
}

func newFake(t *testing.T, creds ossfake.Credentials) *ossfake.Server {
	t.Helper()
	srv := obsfake.New(t, obsfake.Options{Credentials: creds, Region: testRegion, Domain: testDomain})
	srv.CreateBucket(testBucket)
	return srv
}

// forEachMode runs test once per addressing mode and checks that the fake
// saw only that mode's signature scheme.
func forEachMode(t *testing.T, test func(t *testing.T, srv *ossfake.Server, m mode)) {
	for _, m := range _modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newFake(t, _creds)
			test(t, srv, m)
			for _, scheme := range []string{obsfake.SchemeOBS, obsfake.SchemeAWS, obsfake.SchemeAWS4} {
				if n := srv.Count(scheme); (scheme == m.scheme) != (n > 0) {
					t.Errorf("fake saw %d %s requests; want requests signed with %s only", n, scheme, m.scheme)
				}
			}
		})
	}
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
	"plain.bin",
	"with space.bin",
	"plus+sign.bin",
	"percent%25and%.bin",
	"equals=sign&amp.bin",
	"unicode/数据/ファイル-é.bin",
	"nested/a/b/c/d.bin",
	"trailing/slash/",
	"tilde~and*star(1).bin",
}

func TestRoundTripAwkwardKeys(t *testing.T) {
	forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
		b := newBackend(t, srv, m, backend.Config{})
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
			if got, _ := readAll(t, b, key, nil); !bytes.Equal(got, data) {
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

func TestMissingObjectAndBucket(t *testing.T) {
	forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
		b := newBackend(t, srv, m, backend.Config{})
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
		if err := b.HeadBucket(ctx, testBucket); err != nil {
			t.Errorf("HeadBucket(%s) = %v; want nil", testBucket, err)
		}
	})
}

func TestRangeGet(t *testing.T) {
	forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
		b := newBackend(t, srv, m, backend.Config{})
		data := []byte("0123456789abcdef")
		put(t, b, "range.bin", data)

		got, info := readAll(t, b, "range.bin", &backend.Range{Start: 2, End: 5})
		if string(got) != "2345" || info.Size != int64(len(data)) {
			t.Errorf("range 2-5 = %q with size %d; want %q and the whole size %d", got, info.Size, "2345", len(data))
		}
		if got, _ := readAll(t, b, "range.bin", &backend.Range{Start: 0, End: 0}); string(got) != "0" {
			t.Errorf("range 0-0 = %q; want %q", got, "0")
		}
		_, _, err := b.GetObject(context.Background(), testBucket, "range.bin", &backend.Range{Start: 100, End: 200})
		if !errors.Is(err, backend.ErrInvalidArgument) {
			t.Errorf("range beyond the end = %v; want ErrInvalidArgument", err)
		}
	})
}

func TestCopySourceWithSpaceAndPlus(t *testing.T) {
	forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
		b := newBackend(t, srv, m, backend.Config{})
		data := []byte("copy me")
		src := "source dir/a b+c=d.bin"
		put(t, b, src, data)

		info, err := b.CopyObject(context.Background(), testBucket, src, "copies/a b+c.bin")
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if info.Size != int64(len(data)) || info.Digest != md5Digest(data) {
			t.Errorf("copy info = size %d digest %q; want %d %q", info.Size, info.Digest, len(data), md5Digest(data))
		}
		if got, _ := readAll(t, b, "copies/a b+c.bin", nil); !bytes.Equal(got, data) {
			t.Errorf("copied data = %q; want %q", got, data)
		}
		if _, err := b.CopyObject(context.Background(), testBucket, "missing source", "x"); !errors.Is(err, backend.ErrNotFound) {
			t.Errorf("CopyObject(missing source) = %v; want ErrNotFound", err)
		}
	})
}

func TestListDelimiterAndPaging(t *testing.T) {
	srv := newFake(t, _creds)
	b := newBackend(t, srv, _modes[0], backend.Config{})
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
	for _, wrap := range []struct {
		name string
		wrap func([]byte) io.Reader
	}{
		{"reader-at", func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{"stream", func(b []byte) io.Reader { return streamOnly{bytes.NewReader(b)} }},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
				b := newBackend(t, srv, m, backend.Config{MultipartThreshold: 1 << 20, PartSize: backend.MinPartSize})
				data := make([]byte, 2*backend.MinPartSize+12345)
				for i := range data {
					data[i] = byte(i * 7)
				}
				_, err := b.PutObject(context.Background(), testBucket, "big/object.bin", wrap.wrap(data), int64(len(data)),
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
		})
	}
}

func TestMultipartFailureAborts(t *testing.T) {
	srv := newFake(t, _creds)
	b := newBackend(t, srv, _modes[0], backend.Config{MultipartThreshold: 1 << 20, PartSize: backend.MinPartSize})
	data := make([]byte, 2*backend.MinPartSize)
	_, err := b.PutObject(context.Background(), testBucket, "big/short.bin", streamOnly{bytes.NewReader(data)}, int64(len(data))+1, backend.PutOptions{})
	if err == nil {
		t.Fatal("PutObject with a body one byte short = nil error; want an error")
	}
	if n := srv.Count("AbortMultipartUpload"); n != 1 {
		t.Errorf("AbortMultipartUpload requests = %d; want 1", n)
	}
	if _, err := b.HeadObject(context.Background(), testBucket, "big/short.bin"); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("HeadObject after a failed upload = %v; want ErrNotFound", err)
	}
}

func TestWrongSecretIsAccessDenied(t *testing.T) {
	forEachMode(t, func(t *testing.T, srv *ossfake.Server, m mode) {
		b := newBackend(t, srv, m, backend.Config{AccessKey: _creds.AccessKey, SecretKey: "wrong-secret"})
		ctx := context.Background()
		_, err := b.PutObject(ctx, testBucket, "k", bytes.NewReader([]byte("x")), 1, backend.PutOptions{})
		if !errors.Is(err, backend.ErrAccessDenied) {
			t.Errorf("PutObject = %v; want ErrAccessDenied", err)
		}
		if _, err := b.HeadObject(ctx, testBucket, "k"); !errors.Is(err, backend.ErrAccessDenied) {
			t.Errorf("HeadObject = %v; want ErrAccessDenied", err)
		}
		_, err = b.ListObjects(ctx, testBucket, backend.ListOptions{})
		if !errors.Is(err, backend.ErrAccessDenied) || backend.IsRetryable(err) {
			t.Errorf("ListObjects = %v; want ErrAccessDenied, not retryable", err)
		}
		if n := srv.Count("Rejected"); n != 3 {
			t.Errorf("fake rejected %d requests; want 3", n)
		}
		// The rejected requests still used the mode's scheme, which
		// forEachMode checks; one signed request keeps that check meaningful.
		good := newBackend(t, srv, m, backend.Config{})
		if err := good.HeadBucket(ctx, testBucket); err != nil {
			t.Errorf("HeadBucket with the right secret: %v", err)
		}
	})
}

func TestSecurityToken(t *testing.T) {
	creds := _creds
	creds.SecurityToken = "sts-token-456"
	for _, m := range _modes {
		t.Run(m.name, func(t *testing.T) {
			srv := newFake(t, creds)
			b := newBackend(t, srv, m, backend.Config{SecurityToken: creds.SecurityToken})
			put(t, b, "sts.bin", []byte("via sts"))
			if got, _ := readAll(t, b, "sts.bin", nil); string(got) != "via sts" {
				t.Errorf("GetObject with token = %q; want %q", got, "via sts")
			}
			noToken := newBackend(t, srv, m, backend.Config{})
			if _, err := noToken.HeadObject(context.Background(), testBucket, "sts.bin"); !errors.Is(err, backend.ErrAccessDenied) {
				t.Errorf("HeadObject without token = %v; want ErrAccessDenied", err)
			}
		})
	}
}

func TestServerErrorIsRetryable(t *testing.T) {
	srv := newFake(t, _creds)
	b := newBackend(t, srv, _modes[0], backend.Config{})
	srv.FailNext(1, 503, "ServiceUnavailable")
	_, err := b.HeadObject(context.Background(), testBucket, "k")
	if !errors.Is(err, backend.ErrRetryable) {
		t.Errorf("HeadObject during a 503 = %v; want ErrRetryable", err)
	}
	if n := srv.Count("HeadObject"); n != 0 {
		t.Errorf("HeadObject reached the store %d times; want 0, because the SDK must not retry", n)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	b, err := New(backend.Config{Endpoint: "http://127.0.0.1:1", AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	_, err = b.HeadObject(context.Background(), testBucket, "k")
	if !backend.IsRetryable(err) {
		t.Errorf("HeadObject on a closed port = %v; want a retryable error", err)
	}
}

func TestCancelledContext(t *testing.T) {
	srv := newFake(t, _creds)
	b := newBackend(t, srv, _modes[0], backend.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.HeadObject(ctx, testBucket, "k")
	if !errors.Is(err, context.Canceled) || backend.IsRetryable(err) {
		t.Errorf("HeadObject with a cancelled context = %v; want context.Canceled, not retryable", err)
	}
}

func TestConfigValidation(t *testing.T) {
	valid := backend.Config{Endpoint: "127.0.0.1:9", AccessKey: "ak", SecretKey: "sk"}
	for _, tc := range []struct {
		name   string
		change func(*backend.Config)
	}{
		{"no endpoint", func(c *backend.Config) { c.Endpoint = "" }},
		{"no secret", func(c *backend.Config) { c.SecretKey = "" }},
		{"unknown signature", func(c *backend.Config) { c.SignatureVersion = "v1" }},
		{"v4 without region", func(c *backend.Config) { c.SignatureVersion, c.Region = "v4", "" }},
		{"tiny part size", func(c *backend.Config) { c.PartSize = 1024 }},
		{"negative threshold", func(c *backend.Config) { c.MultipartThreshold = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			if _, err := New(cfg); !errors.Is(err, backend.ErrInvalidArgument) {
				t.Errorf("New = %v; want ErrInvalidArgument", err)
			}
		})
	}
}

func TestOpenRegisteredName(t *testing.T) {
	b, err := backend.Open(backend.Config{Name: "obs", Endpoint: "127.0.0.1:9", Region: testRegion, AccessKey: "ak", SecretKey: "sk"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := backend.Info{Name: "obs", Region: testRegion, Endpoint: "127.0.0.1:9"}
	if got := b.Info(); got != want {
		t.Errorf("Info() = %+v; want %+v", got, want)
	}
}
