package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

const testPieceSize = 1 << 10

// testClient bounds every test request, so a hung server fails the test.
var testClient = &http.Client{Timeout: 30 * time.Second}

// testSource serves the tasks registered with addObject and addWriter.
type testSource struct {
	cache *piececache.Cache
	mu    sync.Mutex
	open  map[string]func() (Task, error)
}

func newTestSource(t *testing.T) *testSource {
	c, err := piececache.Open(t.TempDir(), piececache.Options{PieceSize: testPieceSize, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &testSource{cache: c, open: make(map[string]func() (Task, error))}
}

func (s *testSource) OpenTask(id string) (Task, error) {
	s.mu.Lock()
	open := s.open[id]
	s.mu.Unlock()
	if open == nil {
		return nil, fmt.Errorf("task %s: %w", id, ErrNotFound)
	}
	return open()
}

// addObject commits data under id and serves it with FromObject.
func (s *testSource) addObject(t *testing.T, id string, data []byte) piececache.Meta {
	t.Helper()
	key := piececache.Key{Backend: "test", Bucket: "bucket", Object: id}
	w, err := s.cache.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	m, err := w.Commit(piececache.Meta{}, piececache.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.set(id, func() (Task, error) {
		o, err := s.cache.Open(key, m.Version)
		if err != nil {
			return nil, err
		}
		return FromObject(o), nil
	})
	return m
}

// addWriter starts a write under id and serves it with FromWriter.
func (s *testSource) addWriter(t *testing.T, id string, length int64) *piececache.Writer {
	t.Helper()
	w, err := s.cache.Create(piececache.Key{Backend: "test", Bucket: "bucket", Object: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Abort)
	s.set(id, func() (Task, error) { return FromWriter(w, length), nil })
	return w
}

func (s *testSource) set(id string, open func() (Task, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[id] = open
}

// fakeController records control calls and fails with err when set.
type fakeController struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (c *fakeController) record(call string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
	return c.err
}

func (c *fakeController) Prefetch(_ context.Context, t *schedulerpb.Task) error {
	return c.record("prefetch " + t.GetId())
}

func (c *fakeController) Replicate(_ context.Context, r *schedulerpb.ReplicateRequest) error {
	return c.record(fmt.Sprintf("replicate %s from %s", r.GetTask().GetId(), r.GetSources()[0].GetId()))
}

func (c *fakeController) WriteBack(_ context.Context, t *schedulerpb.Task) error {
	return c.record("writeback " + t.GetId())
}

func (c *fakeController) Delete(_ context.Context, r *schedulerpb.DeleteObjectRequest) error {
	return c.record("delete " + r.GetBucket() + "/" + r.GetKey())
}

func (c *fakeController) recorded() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func startServer(t *testing.T, s *Server) *httptest.Server {
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := testClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := testClient.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func decodeInfo(t *testing.T, body []byte) TaskInfo {
	t.Helper()
	var info TaskInfo
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("decode task info %q: %v", body, err)
	}
	return info
}
