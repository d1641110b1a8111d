package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfcache/dfcache/api"
)

// formPart is one part of a hand-built upload body.
type formPart struct {
	name, value string
	file        io.Reader
}

// rawPut sends a multipart PUT built from parts, streaming file parts, and
// returns the status and the decoded error message.
func rawPut(t *testing.T, url string, parts []formPart) (int, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			if p.file != nil {
				w, _ := mw.CreateFormFile(p.name, "blob")
				if _, err := io.Copy(w, p.file); err != nil {
					pw.CloseWithError(err)
					return
				}
				continue
			}
			mw.WriteField(p.name, p.value)
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest(http.MethodPut, url, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	var e api.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Errors == "" {
		t.Errorf("%s %s: status %d with body %q, want a JSON error", req.Method, req.URL, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("error Content-Type %q", ct)
	}
	return resp.StatusCode, e.Errors
}

func TestBadPutsChangeNothing(t *testing.T) {
	p, root := fsPeer(t)
	url := p.URL + "/buckets/demo/objects/bad"
	file := func() formPart { return formPart{name: "file", file: stringsReader("payload")} }
	cases := []struct {
		name   string
		url    string
		parts  []formPart
		status int
	}{
		{"no file field", url, []formPart{{name: "mode", value: "1"}}, 422},
		{"mode 7", url, []formPart{{name: "mode", value: "7"}, file()}, 422},
		{"mode abc after file", url, []formPart{file(), {name: "mode", value: "abc"}}, 422},
		{"maxReplicas 0", url, []formPart{{name: "maxReplicas", value: "0"}, file()}, 422},
		{"maxReplicas 101", url, []formPart{{name: "maxReplicas", value: "101"}, file()}, 422},
		{"invalid bucket", p.URL + "/buckets/Bad_Bucket/objects/bad", []formPart{file()}, 400},
		{"key leaving the backend dir", p.URL + "/buckets/demo/objects/..%2F..%2Fescape", []formPart{file()}, 400},
		{"key with dot segments", p.URL + "/buckets/demo/objects/a/../../../escape", []formPart{file()}, 400},
		{"malformed digest", url, []formPart{file(), {name: "digest", value: "md5:xyz"}}, 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, msg := rawPut(t, c.url, c.parts)
			if status != c.status {
				t.Errorf("status %d (%s), want %d", status, msg, c.status)
			}
		})
	}
	assertNothingStored(t, p, root)
}

func TestTruncatedBodyChangesNothing(t *testing.T) {
	p, root := fsPeer(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("file", "blob")
	w.Write(bytes.Repeat([]byte("x"), 100000))
	mw.Close()
	cut := body.Bytes()[:body.Len()/2]
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/buckets/demo/objects/bad", bytes.NewReader(cut))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, msg := doJSON(t, req)
	if status != http.StatusBadRequest {
		t.Errorf("truncated body: status %d (%s), want 400", status, msg)
	}
	assertNothingStored(t, p, root)
}

// TestDigestMismatchRejected sends bodies whose digest field does not match
// their bytes: nothing may be cached or reach the backend.
func TestDigestMismatchRejected(t *testing.T) {
	env := newS3Env(t)
	p := startPeer(t, peerOptions{backend: env.config(8 << 20)})
	sizes := []int64{10 << 10, 14 << 20, 300 << 20}
	for _, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("mismatch-%d", size)
			env.proxy.Reset()
			wrong := dataMD5(99, 10)
			status, msg := rawPut(t, p.URL+"/buckets/"+env.bucket+"/objects/"+key, []formPart{
				{name: "mode", value: "1"}, {name: "file", file: data(3, size)}, {name: "digest", value: wrong},
			})
			if status != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", status, msg)
			}
			if n := env.proxy.Count(http.MethodPut) + env.proxy.Count(http.MethodPost); n != 0 {
				t.Errorf("backend saw %d write requests, want 0", n)
			}
			if _, err := p.client.StatObject(context.Background(), env.bucket, key); err == nil {
				t.Errorf("HEAD finds the rejected object")
			}
		})
	}
	// The same body with the right digest, and with none (as Dragonfly's
	// clients send), is accepted.
	for _, withDigest := range []bool{true, false} {
		parts := []formPart{{name: "mode", value: "1"}, {name: "file", file: data(3, 10<<10)}}
		if withDigest {
			parts = append(parts, formPart{name: "digest", value: dataMD5(3, 10<<10)})
		}
		if status, msg := rawPut(t, p.URL+"/buckets/"+env.bucket+"/objects/ok", parts); status != 200 {
			t.Errorf("digest field %v: status %d (%s), want 200", withDigest, status, msg)
		}
	}
}

// assertNothingStored checks that the backend directory and the cache hold
// no object and nothing was written outside them.
func assertNothingStored(t *testing.T, p *peer, backendRoot string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(backendRoot, "demo"))
	if len(entries) != 0 {
		t.Errorf("backend bucket has %d entries, want none", len(entries))
	}
	for _, escaped := range []string{filepath.Join(filepath.Dir(backendRoot), "escape"), filepath.Join(backendRoot, "escape")} {
		if _, err := os.Stat(escaped); err == nil {
			t.Errorf("a file was written at %s", escaped)
		}
	}
	if _, err := p.client.StatObject(context.Background(), "demo", "bad"); err == nil {
		t.Errorf("HEAD finds the rejected object")
	}
	if p.cmd == nil || p.cmd.ProcessState != nil {
		t.Errorf("dfdaemon is not running after bad input")
	}
}
