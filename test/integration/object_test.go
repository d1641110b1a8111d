package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

func TestZeroByteObject(t *testing.T) {
	p, _ := fsPeer(t)
	ctx := context.Background()
	putBytes(t, p, "demo", "empty", nil, client.PutObjectOptions{Mode: api.WriteBack})

	info, err := p.client.StatObject(ctx, "demo", "empty")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 0 {
		t.Errorf("HEAD size = %d, want 0", info.Size)
	}
	if want := md5Of(nil); info.Digest != want {
		t.Errorf("HEAD digest = %q, want %q", info.Digest, want)
	}
	got, _ := getBytes(t, p, "demo", "empty")
	if len(got) != 0 {
		t.Errorf("GET returned %d bytes, want 0", len(got))
	}
	status, _, _ := rawGet(t, p.URL+"/buckets/demo/objects/empty", "bytes=0-0")
	if status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("ranged GET of empty object: status %d, want 416", status)
	}
	list, err := p.client.ListObjects(ctx, "demo", client.ListObjectsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Metadatas) != 1 || list.Metadatas[0].Key != "empty" || list.Metadatas[0].ContentLength != 0 {
		t.Errorf("listing = %+v, want one entry \"empty\" of 0 bytes", list.Metadatas)
	}
}

func TestRanges(t *testing.T) {
	p, _ := fsPeer(t)
	putBytes(t, p, "demo", "hello", []byte("hello"), client.PutObjectOptions{Mode: api.WriteBack})
	url := p.URL + "/buckets/demo/objects/hello"
	cases := []struct {
		header       string
		status       int
		body         string
		contentRange string
	}{
		{"bytes=0-0", 206, "h", "bytes 0-0/5"},
		{"bytes=4-5", 206, "o", "bytes 4-4/5"},
		{"bytes=-3", 206, "llo", "bytes 2-4/5"},
		{"bytes=6-7", 416, "", "bytes */5"},
		{"bytes=3-1", 416, "", "bytes */5"},
		{"", 200, "hello", ""},
	}
	for _, c := range cases {
		status, body, hdr := rawGet(t, url, c.header)
		if status != c.status {
			t.Errorf("Range %q: status %d, want %d", c.header, status, c.status)
			continue
		}
		if status == 416 {
			var e api.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Errors == "" {
				t.Errorf("Range %q: 416 body %q is not a JSON error", c.header, body)
			}
		} else if string(body) != c.body {
			t.Errorf("Range %q: body %q, want %q", c.header, body, c.body)
		}
		if got := hdr.Get("Content-Range"); got != c.contentRange {
			t.Errorf("Range %q: Content-Range %q, want %q", c.header, got, c.contentRange)
		}
	}
}

func TestRangesOnLargeObject(t *testing.T) {
	p, _ := fsPeer(t)
	const size = 10 << 20
	payload := make([]byte, size)
	data(7, size).Read(payload)
	putBytes(t, p, "demo", "big", payload, client.PutObjectOptions{Mode: api.WriteBack})
	url := p.URL + "/buckets/demo/objects/big"

	status, body, hdr := rawGet(t, url, "bytes=0-")
	if status != 206 || !bytes.Equal(body, payload) {
		t.Errorf("bytes=0-: status %d, %d bytes equal=%v; want 206 and the whole object", status, len(body), bytes.Equal(body, payload))
	}
	if got, want := hdr.Get("Content-Range"), "bytes 0-10485759/10485760"; got != want {
		t.Errorf("bytes=0-: Content-Range %q, want %q", got, want)
	}
	status, body, _ = rawGet(t, url, "bytes=100-")
	if status != 206 || !bytes.Equal(body, payload[100:]) {
		t.Errorf("bytes=100-: status %d, %d bytes; want 206 and bytes 100 to the end", status, len(body))
	}
	status, body, _ = rawGet(t, url, "bytes=1048570-1048580")
	if status != 206 || !bytes.Equal(body, payload[1048570:1048581]) {
		t.Errorf("range across a piece boundary: status %d, body %x", status, body)
	}
}

func TestMissingObjects(t *testing.T) {
	p, _ := fsPeer(t)
	ctx := context.Background()
	if _, err := p.client.StatObject(ctx, "demo", "nope"); !client.IsNotFound(err) {
		t.Errorf("HEAD missing: err %v, want not found", err)
	}
	status, body, _ := rawGet(t, p.URL+"/buckets/demo/objects/nope", "")
	if status != http.StatusNotFound {
		t.Errorf("GET missing: status %d, want 404", status)
	}
	var e api.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Errors == "" {
		t.Errorf("GET missing: body %q is not a JSON error", body)
	}
	if err := p.client.RemoveObject(ctx, "demo", "nope"); err != nil {
		t.Errorf("DELETE missing: %v, want success", err)
	}
}

func TestDeleteRemovesEverywhere(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	ctx := context.Background()
	putBytes(t, p, env.bucket, "gone", []byte("data"), client.PutObjectOptions{Mode: api.WriteBack})
	if err := p.client.RemoveObject(ctx, env.bucket, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.client.StatObject(ctx, env.bucket, "gone"); !client.IsNotFound(err) {
		t.Errorf("HEAD after delete: %v, want not found", err)
	}
	if _, _, err := env.objectMD5(t, "gone"); err == nil {
		t.Errorf("backend still has the object after delete")
	}
}

func TestListDefaultLimitAndDigest(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(0)})
	ctx := context.Background()
	for i := range 1005 {
		key := "many/" + strconv.Itoa(10000+i)
		if _, err := env.s3.PutObject(ctx, putInput(env.bucket, key, []byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	putBytes(t, p, env.bucket, "a-digest", []byte("digest me"), client.PutObjectOptions{Mode: api.WriteBack})

	status, body, _ := rawGet(t, p.URL+"/buckets/"+env.bucket+"/metadatas?prefix=many/", "")
	var list api.ListResponse
	if err := json.Unmarshal(body, &list); status != 200 || err != nil {
		t.Fatalf("list: status %d, err %v", status, err)
	}
	if len(list.Metadatas) != 1000 {
		t.Errorf("list without limit: %d entries, want 1000", len(list.Metadatas))
	}
	list, err := p.client.ListObjects(ctx, env.bucket, client.ListObjectsOptions{Prefix: "a-"})
	if err != nil {
		t.Fatal(err)
	}
	want := md5Of([]byte("digest me"))
	if len(list.Metadatas) != 1 || list.Metadatas[0].Digest != want {
		t.Errorf("listing of a-digest = %+v, want digest %s", list.Metadatas, want)
	}
	info, err := p.client.StatObject(ctx, env.bucket, "a-digest")
	if err != nil || info.Digest != want {
		t.Errorf("HEAD digest = %q (err %v), want %s", info.Digest, err, want)
	}
}
