package cluster

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil}}
}

// content is a deterministic pseudo-random object of size bytes that can
// be read from any offset, so the SDK can sign and retry an upload of it
// without the bytes being held in memory or on disk.
type content struct {
	seed   uint64
	size   int64
	digest string
}

// newContent returns the content of seed and size with its md5 computed.
func newContent(seed uint64, size int64) content {
	c := content{seed: seed, size: size}
	h := md5.New()
	if _, err := io.Copy(h, c.reader()); err != nil {
		panic(err)
	}
	c.digest = "md5:" + hex.EncodeToString(h.Sum(nil))
	return c
}

// reader returns a fresh io.ReadSeeker over the content.
func (c content) reader() *contentReader { return &contentReader{c: c} }

// md5 returns the "md5:<hex>" digest of the content.
func (c content) md5() string { return c.digest }

type contentReader struct {
	c   content
	off int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.c.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.c.size-r.off))
	var block [8]byte
	for i := 0; i < n; {
		pos := r.off + int64(i)
		binary.LittleEndian.PutUint64(block[:], splitmix(r.c.seed^uint64(pos/8)))
		i += copy(p[i:n], block[pos%8:])
	}
	r.off += int64(n)
	return n, nil
}

func (r *contentReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.c.size
	}
	if offset < 0 {
		return 0, errors.New("seek before start")
	}
	r.off = offset
	return offset, nil
}

// splitmix is the SplitMix64 finaliser: a different, well mixed value for
// every input, so no two pieces of the content repeat.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// putS3 writes the content straight to versitygw with the SDK, bypassing
// the proxy and the peers.
func (c *testCluster) putS3(key string, obj content) {
	c.t.Helper()
	_, err := c.sdk.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket:        aws.String(c.bucket),
		Key:           aws.String(key),
		Body:          obj.reader(),
		ContentLength: aws.Int64(obj.size),
	})
	if err != nil {
		c.t.Fatalf("put %s straight to S3: %v", key, err)
	}
}

// s3MD5 reads key straight from versitygw and returns the md5 of its bytes.
func (c *testCluster) s3MD5(key string) (string, error) {
	out, err := c.sdk.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	h := md5.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", err
	}
	return "md5:" + hex.EncodeToString(h.Sum(nil)), nil
}

// s3GETs returns how many GETs of key reached the backend through the
// proxy, range reads included.
func (c *testCluster) s3GETs(key string) int {
	return c.proxy.CountPath(http.MethodGet, "/"+c.bucket+"/"+key)
}

// got is the outcome of one GET through a peer's object API.
type got struct {
	md5    string
	size   int64
	source string
}

// get reads key whole through d and returns the md5 of the bytes and the
// source header. The client checks the bytes against the object's digest.
func (d *daemon) get(t *testing.T, bucket, key string) got {
	t.Helper()
	r, err := d.tryGet(bucket, key)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", key, d.id, err)
	}
	return r
}

func (d *daemon) tryGet(bucket, key string) (got, error) {
	obj, err := d.client.GetObject(context.Background(), bucket, key, client.GetObjectOptions{})
	if err != nil {
		return got{}, err
	}
	defer obj.Close()
	h := md5.New()
	n, err := io.Copy(h, obj)
	if err != nil {
		return got{}, err
	}
	return got{md5: "md5:" + hex.EncodeToString(h.Sum(nil)), size: n, source: obj.Source}, nil
}

// getURL sends a GET to the object API path with rawQuery and returns the
// md5 of the body and the source header. It fails the test unless the
// status is 200.
func (d *daemon) getURL(t *testing.T, bucket, key, rawQuery string) got {
	t.Helper()
	url := d.URL + "/buckets/" + bucket + "/objects/" + key + "?" + rawQuery
	resp, err := newHTTPClient(2 * time.Minute).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	h := md5.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		t.Fatalf("read GET %s after %d bytes: %v", url, n, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", url, resp.StatusCode)
	}
	return got{md5: "md5:" + hex.EncodeToString(h.Sum(nil)), size: n, source: resp.Header.Get(api.HeaderSource)}
}

// put uploads the content through d.
func (d *daemon) put(t *testing.T, bucket, key string, obj content, opts client.PutObjectOptions) {
	t.Helper()
	info, err := d.client.PutObject(context.Background(), bucket, key, obj.reader(), opts)
	if err != nil {
		t.Fatalf("PUT %s on %s (%s): %v", key, d.id, opts.Mode, err)
	}
	if want := obj.md5(); info.Digest != want {
		t.Fatalf("PUT %s on %s: digest %s, want %s", key, d.id, info.Digest, want)
	}
}

// checkGot compares a GET's bytes and source with the expected ones.
func checkGot(t *testing.T, what string, g got, obj content, source string) {
	t.Helper()
	if g.size != obj.size || g.md5 != obj.md5() {
		t.Errorf("%s: got %d bytes with %s, want %d bytes with %s", what, g.size, g.md5, obj.size, obj.md5())
	}
	if source != "" && g.source != source {
		t.Errorf("%s: source header %q, want %q", what, g.source, source)
	}
}
