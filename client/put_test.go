package client_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/client/clienttest"
	"github.com/dfcache/dfcache/digest"
)

func newClient(t *testing.T, srv *clienttest.Server) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatalf("New(%q): %v", srv.URL, err)
	}
	return c
}

func md5Digest(data []byte) string {
	sum := md5.Sum(data)
	return digest.FormatMD5(sum[:])
}

func formNames(parts []clienttest.FormPart) []string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return names
}

func TestPutObjectSendsFormInOrder(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	data := bytes.Repeat([]byte("0123456789"), 10000)

	info, err := c.PutObject(context.Background(), "bkt", "dir/file.bin", bytes.NewReader(data), client.PutObjectOptions{
		Mode: api.WriteBack, MaxReplicas: 2, Filter: "Expires&Signature", Size: int64(len(data)),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	want := client.UploadInfo{Bucket: "bkt", Key: "dir/file.bin", Size: int64(len(data)), Digest: md5Digest(data)}
	if info != want {
		t.Errorf("UploadInfo = %+v, want %+v", info, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.Method != http.MethodPut || req.EscapedPath != "/buckets/bkt/objects/dir/file.bin" {
		t.Errorf("request = %s %s, want PUT /buckets/bkt/objects/dir/file.bin", req.Method, req.EscapedPath)
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "multipart/form-data; boundary=") {
		t.Errorf("Content-Type = %q, want multipart/form-data", req.Header.Get("Content-Type"))
	}
	gotNames := strings.Join(formNames(req.Form), ",")
	if gotNames != "mode,filter,maxReplicas,file,digest" {
		t.Fatalf("form parts = %s, want mode,filter,maxReplicas,file,digest", gotNames)
	}
	wantValues := []string{"1", "Expires&Signature", "2", string(data), md5Digest(data)}
	for i, want := range wantValues {
		if req.Form[i].Value != want {
			t.Errorf("form part %s = %.40q, want %.40q", req.Form[i].Name, req.Form[i].Value, want)
		}
	}
	if req.Form[3].FileName != "file.bin" {
		t.Errorf("file part file name = %q, want file.bin", req.Form[3].FileName)
	}
	stored, ok := srv.Object("bkt", "dir/file.bin")
	if !ok || !bytes.Equal(stored.Data, data) {
		t.Errorf("stored object has %d bytes (exists %v), want the %d bytes sent", len(stored.Data), ok, len(data))
	}
}

func TestPutObjectDefaultOptions(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	if _, err := c.PutObject(context.Background(), "bkt", "k", strings.NewReader("x"), client.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	form := srv.Requests()[0].Form
	if got := strings.Join(formNames(form), ","); got != "mode,maxReplicas,file,digest" {
		t.Fatalf("form parts = %s, want mode,maxReplicas,file,digest", got)
	}
	if form[0].Value != "0" {
		t.Errorf("mode = %q, want 0", form[0].Value)
	}
	if form[1].Value != "3" {
		t.Errorf("maxReplicas = %q, want 3", form[1].Value)
	}
}

func TestPutObjectEmptyObject(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	info, err := c.PutObject(context.Background(), "bkt", "empty", strings.NewReader(""), client.PutObjectOptions{Size: 0})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if info.Size != 0 || info.Digest != md5Digest(nil) {
		t.Errorf("UploadInfo = %+v, want size 0 and digest %s", info, md5Digest(nil))
	}
	if obj, ok := srv.Object("bkt", "empty"); !ok || len(obj.Data) != 0 {
		t.Errorf("stored object exists %v with %d bytes, want an empty object", ok, len(obj.Data))
	}
}

// gatedReader yields head, then waits until release is closed before it
// yields tail, so a test can tell whether data left before the end.
type gatedReader struct {
	head, tail []byte
	release    <-chan struct{}
	timedOut   bool
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	if r.release != nil {
		select {
		case <-r.release:
		case <-time.After(10 * time.Second):
			r.timedOut = true
			return 0, errors.New("server saw no file bytes within 10s of the first read")
		}
		r.release = nil
	}
	if len(r.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.tail)
	r.tail = r.tail[n:]
	return n, nil
}

func TestPutObjectStreamsBeforeSourceEnds(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	head := bytes.Repeat([]byte("h"), 64<<10)
	tail := bytes.Repeat([]byte("t"), 64<<10)
	src := &gatedReader{head: head, tail: tail, release: srv.FileDataSeen()}

	info, err := c.PutObject(context.Background(), "bkt", "k", src, client.PutObjectOptions{Size: -1})
	if src.timedOut {
		t.Fatal("the server received no file bytes while the source was still open: the upload is buffered, not streamed")
	}
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	want := append(append([]byte{}, head...), tail...)
	if info.Digest != md5Digest(want) {
		t.Errorf("digest = %s, want %s", info.Digest, md5Digest(want))
	}
	if obj, _ := srv.Object("bkt", "k"); !bytes.Equal(obj.Data, want) {
		t.Errorf("stored %d bytes, want the %d bytes of the source", len(obj.Data), len(want))
	}
}

func TestPutObjectRejectsInvalidInput(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	tests := []struct {
		name        string
		bucket, key string
		r           io.Reader
		opts        client.PutObjectOptions
		wantErr     string
	}{
		{"short bucket", "ab", "k", strings.NewReader("x"), client.PutObjectOptions{}, "invalid bucket name"},
		{"upper-case bucket", "Bucket", "k", strings.NewReader("x"), client.PutObjectOptions{}, "invalid bucket name"},
		{"empty key", "bkt", "", strings.NewReader("x"), client.PutObjectOptions{}, "invalid object key"},
		{"control character in key", "bkt", "a\nb", strings.NewReader("x"), client.PutObjectOptions{}, "control characters"},
		{"mode 3", "bkt", "k", strings.NewReader("x"), client.PutObjectOptions{Mode: 3}, "invalid mode 3"},
		{"negative mode", "bkt", "k", strings.NewReader("x"), client.PutObjectOptions{Mode: -1}, "invalid mode -1"},
		{"101 replicas", "bkt", "k", strings.NewReader("x"), client.PutObjectOptions{MaxReplicas: 101}, "invalid max replicas 101"},
		{"negative replicas", "bkt", "k", strings.NewReader("x"), client.PutObjectOptions{MaxReplicas: -1}, "invalid max replicas -1"},
		{"nil reader", "bkt", "k", nil, client.PutObjectOptions{}, "nil reader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutObject(context.Background(), tt.bucket, tt.key, tt.r, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("PutObject error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server got %d requests, want 0 because every input is invalid", n)
	}
}

func TestPutObjectSizeMismatchAborts(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	_, err := c.PutObject(context.Background(), "bkt", "k", strings.NewReader("12345"), client.PutObjectOptions{Size: 10})

	if err == nil || !strings.Contains(err.Error(), "source yielded 5 bytes but its size was given as 10") {
		t.Errorf("PutObject error = %v, want the size mismatch", err)
	}
	if _, ok := srv.Object("bkt", "k"); ok {
		t.Error("the server stored the object, want the aborted upload discarded")
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestPutObjectSourceErrorAborts(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	diskErr := errors.New("disk read error")
	src := io.MultiReader(strings.NewReader("partial data"), failingReader{diskErr})

	_, err := c.PutObject(context.Background(), "bkt", "k", src, client.PutObjectOptions{})

	if !errors.Is(err, diskErr) {
		t.Errorf("PutObject error = %v, want it to wrap %v", err, diskErr)
	}
	if _, ok := srv.Object("bkt", "k"); ok {
		t.Error("the server stored the object, want the aborted upload discarded")
	}
}

func TestPutObjectServerError(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	_, err := c.PutObject(context.Background(), "nobucket", "k", strings.NewReader("x"), client.PutObjectOptions{})

	var resp *client.ErrorResponse
	if !errors.As(err, &resp) {
		t.Fatalf("PutObject error = %v (%T), want *client.ErrorResponse", err, err)
	}
	if resp.StatusCode != http.StatusNotFound || resp.Message != "bucket nobucket not found" {
		t.Errorf("ErrorResponse = %d %q, want 404 \"bucket nobucket not found\"", resp.StatusCode, resp.Message)
	}
	want := "PUT dfs://nobucket/k: 404 Not Found: bucket nobucket not found"
	if err.Error() != want {
		t.Errorf("error message = %q, want %q", err.Error(), want)
	}
}

func TestPutObjectContextCanceled(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	// The source blocks after its first bytes until the upload is
	// canceled, as a pipe whose writer stalls would.
	src := io.MultiReader(strings.NewReader("first"), ctxReader{ctx})
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		cancel()
		io.Copy(io.Discard, r.Body)
		return true
	})

	_, err := c.PutObject(ctx, "bkt", "k", src, client.PutObjectOptions{})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("PutObject error = %v, want context.Canceled", err)
	}
	if _, ok := srv.Object("bkt", "k"); ok {
		t.Error("the server stored the object of a canceled upload")
	}
}

// ctxReader blocks in Read until ctx is done.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func TestPutObjectLargeObjectDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB")
	}
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	const size = 64 << 20
	src := io.LimitReader(patternReader{}, size)

	info, err := c.PutObject(context.Background(), "bkt", "big", src, client.PutObjectOptions{Size: size})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	obj, _ := srv.Object("bkt", "big")
	if info.Size != size || int64(len(obj.Data)) != size {
		t.Errorf("sent %d bytes and stored %d, want %d", info.Size, len(obj.Data), size)
	}
	if info.Digest != obj.Digest {
		t.Errorf("client digest %s, server digest %s, want equal", info.Digest, obj.Digest)
	}
}

// patternReader yields an endless sequence of bytes 0, 1, ..., 250, 0, ...
type patternReader struct{}

func (patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i % 251)
	}
	return len(p), nil
}

func TestPutObjectRejectedWhileStreaming(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		w.Write([]byte(`{"errors":"object too large"}`))
		return true
	})

	_, err := c.PutObject(context.Background(), "bkt", "k", io.LimitReader(patternReader{}, 4<<20), client.PutObjectOptions{})

	var resp *client.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Message != "object too large" {
		t.Errorf("PutObject error = %v, want the server's 413 \"object too large\"", err)
	}
}
