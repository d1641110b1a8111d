package upload

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/digest"
	"github.com/dfcache/dfcache/piececache"
)

func TestTaskInfoOfObject(t *testing.T) {
	src := newTestSource(t)
	m := src.addObject(t, "obj", randomBytes(2*testPieceSize+7))
	ts := startServer(t, New(src, &fakeController{}, nil))

	resp, body := get(t, ts.URL+"/tasks/obj")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /tasks/obj: status %d, body %s", resp.StatusCode, body)
	}
	info := decodeInfo(t, body)
	want := TaskInfo{TaskID: "obj", Length: m.Length, PieceSize: testPieceSize, Pieces: m.Pieces, Complete: true}
	if info.TaskID != want.TaskID || info.Length != want.Length || info.PieceSize != want.PieceSize || !info.Complete {
		t.Errorf("task info = %+v, want %+v", info, want)
	}
	if !slices.Equal(info.Pieces, m.Pieces) {
		t.Errorf("task info pieces = %v, want %v", info.Pieces, m.Pieces)
	}
}

func TestPieceOfObject(t *testing.T) {
	src := newTestSource(t)
	data := randomBytes(2*testPieceSize + 7)
	src.addObject(t, "obj", data)
	ts := startServer(t, New(src, &fakeController{}, nil))

	resp, body := get(t, ts.URL+"/tasks/obj/pieces/2")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET piece 2: status %d, body %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, data[2*testPieceSize:]) {
		t.Errorf("piece 2 has %d bytes that differ from the object's last 7", len(body))
	}
	if got, want := resp.Header.Get(HeaderPieceDigest), digest.PieceSum(body); got != want {
		t.Errorf("%s = %q, want %q", HeaderPieceDigest, got, want)
	}
}

func TestNotFoundAndBadRequests(t *testing.T) {
	src := newTestSource(t)
	src.addObject(t, "obj", randomBytes(testPieceSize))
	aborted := src.addWriter(t, "aborted", -1)
	aborted.Abort()
	ts := startServer(t, New(src, &fakeController{}, nil))

	cases := []struct {
		path   string
		status int
	}{
		{"/tasks/missing", http.StatusNotFound},
		{"/tasks/missing/pieces/0", http.StatusNotFound},
		{"/tasks/obj/pieces/1", http.StatusNotFound},
		{"/tasks/aborted/pieces/0", http.StatusNotFound},
		{"/tasks/obj/pieces/-1", http.StatusBadRequest},
		{"/tasks/obj/pieces/x", http.StatusBadRequest},
		{"/tasks/obj?after=x", http.StatusBadRequest},
	}
	for _, tc := range cases {
		resp, body := get(t, ts.URL+tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q, want JSON", tc.path, ct)
		}
		if !strings.HasPrefix(string(body), `{"errors":`) {
			t.Errorf("GET %s: body %s, want {\"errors\": ...}", tc.path, body)
		}
	}
}

func TestPieceOfWriteInProgress(t *testing.T) {
	src := newTestSource(t)
	w := src.addWriter(t, "live", -1)
	data := randomBytes(3 * testPieceSize)
	srv := New(src, &fakeController{}, nil)
	ts := startServer(t, srv)

	w.Write(data[:testPieceSize])
	resp, body := get(t, ts.URL+"/tasks/live")
	info := decodeInfo(t, body)
	if resp.StatusCode != http.StatusOK || info.Complete || info.Length != -1 || len(info.Pieces) != 1 {
		t.Errorf("info of a write with one piece = %d %+v, want 200, 1 piece, length -1, not complete", resp.StatusCode, info)
	}

	type result struct {
		status int
		body   []byte
	}
	piece1 := make(chan result)
	go func() {
		resp, body := get(t, ts.URL+"/tasks/live/pieces/1")
		piece1 <- result{resp.StatusCode, body}
	}()
	waitFor(t, func() bool { return srv.ActiveUploads() == 1 }, "piece request to block")
	w.Write(data[testPieceSize:])
	got := <-piece1
	if got.status != http.StatusOK || !bytes.Equal(got.body, data[testPieceSize:2*testPieceSize]) {
		t.Errorf("waiting piece request: status %d, %d bytes; want 200 and piece 1", got.status, len(got.body))
	}
	if n := srv.ActiveUploads(); n != 0 {
		t.Errorf("ActiveUploads after the request = %d, want 0", n)
	}
}

func TestPieceWaitRunsOut(t *testing.T) {
	src := newTestSource(t)
	src.addWriter(t, "slow", -1)
	ts := startServer(t, New(src, &fakeController{}, nil).WithPieceWait(time.Millisecond))

	resp, body := get(t, ts.URL+"/tasks/slow/pieces/0")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("piece that never arrives: status %d (%s), want 503", resp.StatusCode, body)
	}
}

func TestTaskInfoLongPoll(t *testing.T) {
	src := newTestSource(t)
	w := src.addWriter(t, "polled", -1)
	data := randomBytes(2*testPieceSize + 1)
	ts := startServer(t, New(src, &fakeController{}, nil))
	w.Write(data[:testPieceSize])

	polled := make(chan TaskInfo)
	go func() {
		_, body := get(t, ts.URL+"/tasks/polled?after=1")
		polled <- decodeInfo(t, body)
	}()
	w.Write(data[testPieceSize:])
	if _, err := w.Commit(piececache.Meta{}, piececache.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	info := <-polled
	if !info.Complete && len(info.Pieces) < 2 {
		t.Errorf("long poll after 1 piece returned %d pieces, complete %v; want more", len(info.Pieces), info.Complete)
	}

	_, body := get(t, ts.URL+"/tasks/polled?after=5")
	if info := decodeInfo(t, body); !info.Complete || info.Length != int64(len(data)) || len(info.Pieces) != 3 {
		t.Errorf("long poll of a committed write = %+v, want complete with length %d and 3 pieces", info, len(data))
	}

	_, body = get(t, ts.URL+"/tasks/polled?from=2")
	if info := decodeInfo(t, body); info.FirstPiece != 2 || len(info.Pieces) != 1 {
		t.Errorf("info from piece 2 of 3 = first %d with %d digests, want first 2 with 1", info.FirstPiece, len(info.Pieces))
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
