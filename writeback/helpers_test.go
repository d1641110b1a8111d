package writeback

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// _testDeadline bounds every wait in these tests, so that a bug fails the
// test instead of hanging it. No test expects to get near it.
const _testDeadline = 10 * time.Second

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// queuePath returns a fresh queue file path in the test's temp folder.
func queuePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "writeback.db")
}

// openQueue opens a queue that logs to the test output and closes with the
// test.
func openQueue(t *testing.T, path string, u Uploader, opts Options) *Queue {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	q, err := Open(path, u, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func testRecord(bucket, key, version string) Record {
	return Record{
		Bucket:      bucket,
		Key:         key,
		Version:     version,
		Digest:      "md5:9e107d9d372bb6826bd81d3542a419d6",
		Size:        43,
		ContentType: "text/plain",
		CreatedAt:   time.Date(2025, 2, 1, 8, 30, 0, 0, time.UTC),
	}
}

func mustAdd(t *testing.T, q *Queue, r Record) {
	t.Helper()
	if err := q.Add(r); err != nil {
		t.Fatalf("Add(%s/%s %s): %v", r.Bucket, r.Key, r.Version, err)
	}
}

func mustGet(t *testing.T, q *Queue, bucket, key string) Record {
	t.Helper()
	r, ok, err := q.Get(bucket, key)
	if err != nil || !ok {
		t.Fatalf("Get(%s/%s) = ok %v, err %v; want the record", bucket, key, ok, err)
	}
	return r
}

func mustWait(t *testing.T, q *Queue, bucket, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), _testDeadline)
	defer cancel()
	if err := q.Wait(ctx, bucket, key); err != nil {
		t.Fatalf("Wait(%s/%s): %v", bucket, key, err)
	}
}

// receive returns the next value of ch, or fails the test after
// _testDeadline.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(_testDeadline):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// eventually polls cond until it holds, or fails the test after
// _testDeadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(_testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// attemptsReach returns a condition that holds once the record of
// (bucket, key) has at least n failed attempts.
func attemptsReach(q *Queue, bucket, key string, n int) func() bool {
	return func() bool {
		r, ok, err := q.Get(bucket, key)
		return err == nil && ok && r.Attempts >= n
	}
}

// storedVersions reads the file of an open queue: version by "bucket/key".
func storedVersions(t *testing.T, q *Queue) map[string]string {
	t.Helper()
	versions := make(map[string]string)
	err := q.store.forEach(func(_ string, _ uint64, r Record) {
		versions[r.Bucket+"/"+r.Key] = r.Version
	})
	if err != nil {
		t.Fatalf("read queue file: %v", err)
	}
	return versions
}

// wakeWorkers wakes sleeping workers without changing any record, so that
// they look at the clock again.
func wakeWorkers(q *Queue) {
	q.mu.Lock()
	defer q.mu.Unlock()
	signal(&q.wake)
}
