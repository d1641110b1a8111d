package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/client/clienttest"
)

func TestGetObjectFullRead(t *testing.T) {
	srv := clienttest.New(t)
	stored := srv.PutObject("bkt", "dir/obj", []byte("hello, object"))
	c := newClient(t, srv)

	obj, err := c.GetObject(context.Background(), "bkt", "dir/obj", client.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}

	if string(data) != "hello, object" {
		t.Errorf("data = %q, want %q", data, "hello, object")
	}
	if obj.StatusCode != http.StatusOK || obj.Source != api.SourceLocal {
		t.Errorf("status %d source %q, want 200 and %q", obj.StatusCode, obj.Source, api.SourceLocal)
	}
	want := client.ObjectInfo{
		Bucket: "bkt", Key: "dir/obj", Size: 13, ContentType: "application/octet-stream",
		ETag: stored.ETag, Digest: stored.Digest, StorageClass: "STANDARD", LastModified: stored.LastModified,
	}
	if !obj.Info.LastModified.Equal(want.LastModified) {
		t.Errorf("LastModified = %v, want %v", obj.Info.LastModified, want.LastModified)
	}
	obj.Info.LastModified = want.LastModified
	if obj.Info != want {
		t.Errorf("Info = %+v, want %+v", obj.Info, want)
	}
}

func TestGetObjectRange(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("0123456789"))
	c := newClient(t, srv)

	obj, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{Range: "bytes=2-5"})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}

	if string(data) != "2345" {
		t.Errorf("data = %q, want %q", data, "2345")
	}
	if obj.StatusCode != http.StatusPartialContent || obj.ContentRange != "bytes 2-5/10" {
		t.Errorf("status %d Content-Range %q, want 206 and bytes 2-5/10", obj.StatusCode, obj.ContentRange)
	}
	if obj.Info.Size != 10 {
		t.Errorf("Info.Size = %d, want the object's size 10", obj.Info.Size)
	}
	if got := srv.Requests()[0].Header.Get("Range"); got != "bytes=2-5" {
		t.Errorf("Range header = %q, want bytes=2-5", got)
	}
}

func TestGetObjectInvalidRange(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)

	_, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{Range: "0-5"})

	if err == nil || !strings.Contains(err.Error(), `invalid range "0-5"`) {
		t.Errorf("GetObject error = %v, want invalid range", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestGetObjectSendsFilter(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("x"))
	c := newClient(t, srv)

	obj, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{Filter: "Expires&Signature"})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	obj.Close()

	if got := srv.Requests()[0].Query.Get("filter"); got != "Expires&Signature" {
		t.Errorf("filter query = %q, want Expires&Signature", got)
	}
}

func TestGetObjectDigestMismatch(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("real bytes"))
	srv.SetObjectDigest("bkt", "k", md5Digest([]byte("other bytes")))
	c := newClient(t, srv)

	obj, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	_, err = io.ReadAll(obj)

	if !errors.Is(err, client.ErrDigestMismatch) {
		t.Errorf("read error = %v, want ErrDigestMismatch", err)
	}
	if _, again := obj.Read(make([]byte, 1)); !errors.Is(again, client.ErrDigestMismatch) {
		t.Errorf("second read error = %v, want the same ErrDigestMismatch", again)
	}
}

func TestGetObjectRangeSkipsDigest(t *testing.T) {
	srv := clienttest.New(t)
	srv.PutObject("bkt", "k", []byte("0123456789"))
	c := newClient(t, srv)

	obj, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{Range: "bytes=0-9"})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)

	if err != nil || string(data) != "0123456789" {
		t.Errorf("read = %q, %v; want all 10 bytes and no error", data, err)
	}
}

func TestGetObjectShortBody(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write(bytes.Repeat([]byte("x"), 40))
		return true
	})

	obj, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)

	if !errors.Is(err, client.ErrIncompleteBody) {
		t.Errorf("read error = %v, want ErrIncompleteBody", err)
	}
	if err != nil && !strings.Contains(err.Error(), "got 40 of 100 bytes") {
		t.Errorf("read error = %q, want it to name 40 of 100 bytes", err)
	}
	if len(data) != 40 {
		t.Errorf("read %d bytes, want the 40 that arrived", len(data))
	}
}

func TestGetObjectNotFound(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	_, err := c.GetObject(context.Background(), "bkt", "missing", client.GetObjectOptions{})

	if !client.IsNotFound(err) {
		t.Errorf("GetObject error = %v, want IsNotFound", err)
	}
	var resp *client.ErrorResponse
	if errors.As(err, &resp) && resp.Message != "object missing not found" {
		t.Errorf("message = %q, want the server's \"object missing not found\"", resp.Message)
	}
}

func TestGetObjectInvalidDigestHeader(t *testing.T) {
	srv := clienttest.New(t)
	c := newClient(t, srv)
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set(api.HeaderDigest, "md5:nothex")
		w.Write([]byte("x"))
		return true
	})

	_, err := c.GetObject(context.Background(), "bkt", "k", client.GetObjectOptions{})

	if err == nil || !strings.Contains(err.Error(), api.HeaderDigest) {
		t.Errorf("GetObject error = %v, want one naming %s", err, api.HeaderDigest)
	}
}

func TestStatObject(t *testing.T) {
	srv := clienttest.New(t)
	stored := srv.PutObject("bkt", "a b", []byte("12345"))
	c := newClient(t, srv)

	info, err := c.StatObject(context.Background(), "bkt", "a b")
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}

	if info.Size != 5 || info.Digest != stored.Digest || info.ETag != stored.ETag {
		t.Errorf("info = size %d digest %s etag %s, want 5 %s %s", info.Size, info.Digest, info.ETag, stored.Digest, stored.ETag)
	}
	if !info.LastModified.Equal(stored.LastModified) || info.StorageClass != "STANDARD" {
		t.Errorf("info = last modified %v storage class %q, want %v STANDARD", info.LastModified, info.StorageClass, stored.LastModified)
	}
	if req := srv.Requests()[0]; req.Method != http.MethodHead || req.EscapedPath != "/buckets/bkt/objects/a%20b" {
		t.Errorf("request = %s %s, want HEAD /buckets/bkt/objects/a%%20b", req.Method, req.EscapedPath)
	}
}

func TestStatObjectNotFound(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)

	_, err := c.StatObject(context.Background(), "bkt", "missing")

	if !client.IsNotFound(err) {
		t.Errorf("StatObject error = %v, want IsNotFound", err)
	}
	if err != nil && err.Error() != "HEAD dfs://bkt/missing: 404 Not Found" {
		t.Errorf("message = %q, want %q", err.Error(), "HEAD dfs://bkt/missing: 404 Not Found")
	}
}

func TestKeysEscapedPerSegment(t *testing.T) {
	srv := clienttest.New(t)
	srv.CreateBucket("bkt")
	c := newClient(t, srv)
	keys := map[string]string{
		"dir/a b+c.txt":      "/buckets/bkt/objects/dir/a%20b+c.txt",
		"100%/x?y#z":         "/buckets/bkt/objects/100%25/x%3Fy%23z",
		"ünïcode/日本.bin":     "/buckets/bkt/objects/%C3%BCn%C3%AFcode/%E6%97%A5%E6%9C%AC.bin",
		"semi;colon/x=1&y=2": "/buckets/bkt/objects/semi%3Bcolon/x=1&y=2",
	}
	for key, wantPath := range keys {
		t.Run(key, func(t *testing.T) {
			before := len(srv.Requests())
			if _, err := c.PutObject(context.Background(), "bkt", key, strings.NewReader(key), client.PutObjectOptions{}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if got := srv.Requests()[before].EscapedPath; got != wantPath {
				t.Errorf("path = %s, want %s", got, wantPath)
			}
			obj, err := c.GetObject(context.Background(), "bkt", key, client.GetObjectOptions{})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			defer obj.Close()
			if data, err := io.ReadAll(obj); err != nil || string(data) != key {
				t.Errorf("read back %q, %v; want %q", data, err, key)
			}
		})
	}
}
