package download

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dfcache/dfcache/digest"
	"github.com/dfcache/dfcache/peer/upload"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

const (
	testPieceSize = 1 << 10
	testTaskID    = "task-1"
)

var quiet = slog.New(slog.DiscardHandler)

func openCache(t *testing.T) *piececache.Cache {
	t.Helper()
	c, err := piececache.Open(t.TempDir(), piececache.Options{PieceSize: testPieceSize, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func md5Of(b []byte) string {
	sum := md5.Sum(b)
	return digest.FormatMD5(sum[:])
}

func testTask(data []byte) *schedulerpb.Task {
	return &schedulerpb.Task{Id: testTaskID, Bucket: "bucket", Key: "key", Length: int64(len(data)), Digest: md5Of(data)}
}

// source serves one task through upload.FromObject or upload.FromWriter,
// with an optional hook that changes the bytes of a piece it serves.
type source struct {
	open    func() (upload.Task, error)
	corrupt func(i int) bool
}

func (s *source) OpenTask(id string) (upload.Task, error) {
	if id != testTaskID {
		return nil, upload.ErrNotFound
	}
	task, err := s.open()
	if err != nil || s.corrupt == nil {
		return task, err
	}
	return &corruptTask{Task: task, corrupt: s.corrupt}, nil
}

// corruptTask flips the first byte of the pieces chosen by corrupt, after
// the cache has checked them, so the parent sends a correct digest header
// with wrong bytes.
type corruptTask struct {
	upload.Task
	corrupt func(i int) bool
}

func (t *corruptTask) ReadPiece(i int, buf []byte) ([]byte, error) {
	piece, err := t.Task.ReadPiece(i, buf)
	if err == nil && t.corrupt(i) {
		piece[0] ^= 0xff
	}
	return piece, err
}

// testParent is a parent host: an upload server on 127.0.0.1 over its own
// piece cache, behind a handler that counts and can break piece requests.
type testParent struct {
	src    *source
	server *httptest.Server
	seed   bool

	pieces atomic.Int32 // piece requests received
	served atomic.Int32 // piece responses sent in full
	// beforePiece, when set, runs before each piece request is served
	// and returns false to kill the parent during that request.
	beforePiece func(n int) bool
	dead        atomic.Bool
}

// newObjectParent returns a parent holding data as a committed object.
func newObjectParent(t *testing.T, data []byte) *testParent {
	t.Helper()
	c := openCache(t)
	key := piececache.Key{Backend: "test", Bucket: "bucket", Object: "key"}
	w, err := c.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	m, err := w.Commit(piececache.Meta{}, piececache.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return startParent(t, &source{open: func() (upload.Task, error) {
		o, err := c.Open(key, m.Version)
		if err != nil {
			return nil, err
		}
		return upload.FromObject(o), nil
	}})
}

// newWriterParent returns a parent serving a write in progress.
func newWriterParent(t *testing.T) (*testParent, *piececache.Writer) {
	t.Helper()
	w, err := openCache(t).Create(piececache.Key{Backend: "test", Bucket: "bucket", Object: "key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Abort)
	return startParent(t, &source{open: func() (upload.Task, error) { return upload.FromWriter(w, -1), nil }}), w
}

func startParent(t *testing.T, src *source) *testParent {
	p := &testParent{src: src}
	srv := upload.New(src, nil, quiet)
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(srv, w, r)
	}))
	t.Cleanup(p.server.Close)
	return p
}

// serve passes r to the upload server unless the parent is dead. A dead
// parent drops the connection, as a killed process would.
func (p *testParent) serve(srv http.Handler, w http.ResponseWriter, r *http.Request) {
	if p.dead.Load() {
		panic(http.ErrAbortHandler)
	}
	_, rest, isPiece := strings.Cut(r.URL.Path, "/pieces/")
	if !isPiece {
		srv.ServeHTTP(w, r)
		return
	}
	p.pieces.Add(1)
	n, _ := strconv.Atoi(rest)
	if p.beforePiece != nil && !p.beforePiece(n) {
		p.dead.Store(true)
		srv.ServeHTTP(&halfWriter{ResponseWriter: w}, r)
		return
	}
	srv.ServeHTTP(w, r)
	p.served.Add(1)
}

// halfWriter sends half of the body and then drops the connection.
type halfWriter struct{ http.ResponseWriter }

func (h *halfWriter) Write(b []byte) (int, error) {
	h.ResponseWriter.Write(b[:len(b)/2])
	h.ResponseWriter.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func (p *testParent) parent() *schedulerpb.Parent {
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(p.server.URL, "http://"))
	n, _ := strconv.Atoi(port)
	id := "peer-" + port
	if p.seed {
		id = "seed-" + port
	}
	return &schedulerpb.Parent{Host: &schedulerpb.Host{Id: id, Ip: host, UploadPort: int32(n), Seed: p.seed}}
}

func parentsOf(ps ...*testParent) []*schedulerpb.Parent {
	var out []*schedulerpb.Parent
	for _, p := range ps {
		out = append(out, p.parent())
	}
	return out
}

// backend is a Fallback over data that counts its calls.
type backend struct {
	data  []byte
	calls atomic.Int32
}

func (b *backend) read(_ context.Context, off, n int64) (io.ReadCloser, error) {
	b.calls.Add(1)
	return io.NopCloser(bytes.NewReader(b.data[off : off+n])), nil
}

func newDownloader(opts Options) *Downloader {
	opts.Logger = quiet
	opts.PollInterval = time.Millisecond
	opts.Client = &http.Client{Timeout: 30 * time.Second}
	return New(opts)
}

// download runs a download into a fresh piece cache and commits it with the
// task's digest, so the md5 check of the caller runs too.
func download(t *testing.T, d *Downloader, task *schedulerpb.Task, parents []*schedulerpb.Parent, fallback Fallback) ([]byte, Stats, error) {
	t.Helper()
	c := openCache(t)
	key := piececache.Key{Backend: "test", Bucket: "bucket", Object: "downloaded"}
	w, err := c.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := d.Download(context.Background(), task, parents, w, fallback)
	if err != nil {
		w.Abort()
		return nil, stats, err
	}
	m, err := w.Commit(piececache.Meta{Digest: task.GetDigest()}, piececache.CommitOptions{})
	if err != nil {
		t.Fatalf("commit downloaded bytes: %v", err)
	}
	return readObject(t, c, key, m.Version), stats, nil
}

func readObject(t *testing.T, c *piececache.Cache, key piececache.Key, version string) []byte {
	t.Helper()
	o, err := c.Open(key, version)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(io.NewSectionReader(o, 0, o.Meta().Length))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// closeOnce returns a channel and a function that closes it once.
func closeOnce() (chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}
