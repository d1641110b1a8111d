package writeback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewerAddWinsOverRunningUpload(t *testing.T) {
	started := make(chan string)
	release := map[string]chan struct{}{"v1": make(chan struct{}), "v2": make(chan struct{})}
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		started <- r.Version
		select {
		case <-release[r.Version]:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	done := make(chan Record, 2)
	q := openQueue(t, queuePath(t), u, Options{Workers: 4, OnDone: func(r Record) { done <- r }})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	if v := receive(t, started, "upload of v1"); v != "v1" {
		t.Fatalf("first upload: %s; want v1", v)
	}

	mustAdd(t, q, testRecord("b", "k", "v2"))
	close(release["v1"])
	if v := receive(t, started, "upload of v2"); v != "v2" {
		t.Fatalf("second upload: %s; want v2", v)
	}
	if got := mustGet(t, q, "b", "k"); got.Version != "v2" {
		t.Errorf("record after v1 finished: version %s; want v2", got.Version)
	}
	if got := storedVersions(t, q)["b/k"]; got != "v2" {
		t.Errorf("file after v1 finished: version %q; want v2", got)
	}

	close(release["v2"])
	mustWait(t, q, "b", "k")
	if r := receive(t, done, "OnDone"); r.Version != "v2" {
		t.Errorf("OnDone version: %s; want v2, the v1 upload removed no record", r.Version)
	}
	if n := len(done); n != 0 {
		t.Errorf("extra OnDone calls: %d; want 0", n)
	}
}

func TestOlderFailureLeavesNewerRecordFresh(t *testing.T) {
	started := make(chan Record)
	failV1 := make(chan struct{})
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		started <- r
		if r.Version == "v1" {
			<-failV1
			return errors.New("backend returned 503")
		}
		return nil
	})
	q := openQueue(t, queuePath(t), u, Options{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	receive(t, started, "upload of v1")

	mustAdd(t, q, testRecord("b", "k", "v2"))
	close(failV1)
	second := receive(t, started, "upload of v2")
	if second.Version != "v2" || second.Attempts != 0 || second.LastError != "" {
		t.Errorf("second upload: version %s, attempts %d, last error %q; want v2 with no attempts, not delayed by the v1 failure",
			second.Version, second.Attempts, second.LastError)
	}
	mustWait(t, q, "b", "k")
}

func TestCancelWaitsForRunningUpload(t *testing.T) {
	started := make(chan string, 1)
	sawCancel := make(chan struct{})
	finish := make(chan struct{})
	var mu sync.Mutex
	var uploadedKeys []string
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		mu.Lock()
		uploadedKeys = append(uploadedKeys, r.Key)
		mu.Unlock()
		if r.Key != "cancelled" {
			return nil
		}
		started <- r.Key
		<-ctx.Done()
		close(sawCancel)
		<-finish
		return ctx.Err()
	})
	doneCalls := make(chan Record, 2)
	q := openQueue(t, queuePath(t), u, Options{Workers: 1, OnDone: func(r Record) { doneCalls <- r }})
	mustAdd(t, q, testRecord("b", "cancelled", "v1"))
	q.Start()
	receive(t, started, "the upload to start")

	type result struct {
		rec Record
		ok  bool
		err error
	}
	results := make(chan result, 1)
	go func() {
		rec, ok, err := q.Cancel(context.Background(), "b", "cancelled")
		results <- result{rec, ok, err}
	}()
	receive(t, sawCancel, "the upload context to be cancelled")
	select {
	case <-results:
		t.Fatal("Cancel returned before the running upload did")
	default:
	}
	close(finish)
	res := receive(t, results, "Cancel to return")
	if res.err != nil || !res.ok || res.rec.Version != "v1" {
		t.Fatalf("Cancel = %s, %v, %v; want v1, true, nil", res.rec.Version, res.ok, res.err)
	}

	if _, ok, _ := q.Get("b", "cancelled"); ok {
		t.Error("Get after Cancel found the record")
	}
	if got := storedVersions(t, q); len(got) != 0 {
		t.Errorf("file after Cancel: %v; want empty", got)
	}
	// With one worker, the next upload shows whether the cancelled record
	// was queued again: it would be due first.
	mustAdd(t, q, testRecord("b", "other", "v1"))
	mustWait(t, q, "b", "other")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(uploadedKeys, ",") != "cancelled,other" {
		t.Errorf("uploads: %v; want [cancelled other]", uploadedKeys)
	}
	if r := receive(t, doneCalls, "OnDone of other"); r.Key != "other" {
		t.Errorf("OnDone key: %s; want other, none for the cancelled record", r.Key)
	}
}

func TestCancelContextEnds(t *testing.T) {
	started := make(chan struct{}, 1)
	finish := make(chan struct{})
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		started <- struct{}{}
		<-finish // ignores ctx, like a stuck backend call
		return nil
	})
	q := openQueue(t, queuePath(t), u, Options{})
	defer close(finish)
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	receive(t, started, "the upload to start")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, ok, err := q.Cancel(ctx, "b", "k")
	if !errors.Is(err, context.Canceled) || !ok {
		t.Fatalf("Cancel with ended context = %v, %v; want true and context.Canceled", ok, err)
	}
	if n := q.Len(); n != 0 {
		t.Errorf("Len after Cancel: %d; want 0, the record is removed even if the wait ends", n)
	}
}

func TestCancelWithoutRecord(t *testing.T) {
	q := openQueue(t, queuePath(t), UploaderFunc(func(context.Context, Record) error { return nil }), Options{})
	rec, ok, err := q.Cancel(context.Background(), "b", "missing")
	if err != nil || ok || rec != (Record{}) {
		t.Errorf("Cancel of missing key = %+v, %v, %v; want zero, false, nil", rec, ok, err)
	}
}

// call is one Upload call seen by a test uploader.
type call struct {
	at       time.Time
	attempts int
}

func TestRetryBacksOff(t *testing.T) {
	clock := newFakeClock()
	calls := make(chan call)
	var mu sync.Mutex
	n := 0
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		calls <- call{at: clock.Now(), attempts: r.Attempts}
		mu.Lock()
		defer mu.Unlock()
		n++
		if n <= 3 {
			return fmt.Errorf("backend returned 503 on call %d", n)
		}
		return nil
	})
	q := openQueue(t, queuePath(t), u, Options{Workers: 2, Now: clock.Now, MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()

	// Delay bounds after 1, 2 and 3 failures: [d/2, d] with d = 1s·2^n
	// capped at 4s.
	bounds := [][2]time.Duration{{time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}, {2 * time.Second, 4 * time.Second}}
	due := clock.Now()
	for i, b := range bounds {
		c := receive(t, calls, fmt.Sprintf("upload call %d", i+1))
		if c.at.Before(due) || c.attempts != i {
			t.Fatalf("call %d at %v with %d attempts; want at or after %v with %d", i+1, c.at, c.attempts, due, i)
		}
		eventually(t, fmt.Sprintf("attempt %d to be recorded", i+1), attemptsReach(q, "b", "k", i+1))
		r := mustGet(t, q, "b", "k")
		if want := fmt.Sprintf("call %d", i+1); !strings.HasSuffix(r.LastError, want) {
			t.Errorf("last error %q; want it to end in %q", r.LastError, want)
		}
		if delay := r.NextAttempt.Sub(clock.Now()); delay < b[0] || delay > b[1] {
			t.Errorf("delay after %d failures: %v; want %v..%v", i+1, delay, b[0], b[1])
		}
		due = r.NextAttempt
		clock.Set(due)
		wakeWorkers(q)
	}
	if c := receive(t, calls, "the successful call"); c.attempts != 3 || c.at.Before(due) {
		t.Errorf("last call at %v with %d attempts; want at or after %v with 3", c.at, c.attempts, due)
	}
	mustWait(t, q, "b", "k")
}

func TestBackoffStaysInBounds(t *testing.T) {
	q := &Queue{opts: Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second}}
	for attempts := 1; attempts <= 12; attempts++ {
		ceiling := min(q.opts.MinBackoff<<attempts, q.opts.MaxBackoff)
		seen := make(map[time.Duration]bool)
		for range 200 {
			d := q.backoff(attempts)
			seen[d] = true
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("backoff(%d) = %v; want %v..%v", attempts, d, ceiling/2, ceiling)
			}
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) returned only %v in 200 draws; want jitter", attempts, seen)
		}
	}

	huge := &Queue{opts: Options{MinBackoff: time.Second, MaxBackoff: time.Duration(1<<63 - 1)}}
	if d := huge.backoff(200); d < time.Second {
		t.Errorf("backoff(200) with no practical maximum = %v; want at least 1s, no overflow", d)
	}
}

func TestKickRetriesAtOnce(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	calls := 0
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("backend unreachable")
		}
		return nil
	})
	q := openQueue(t, queuePath(t), u, Options{Now: clock.Now, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	eventually(t, "the first attempt to fail", attemptsReach(q, "b", "k", 1))

	q.Kick()
	mustWait(t, q, "b", "k")
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("upload calls: %d; want 2, the retry must not wait for the 1h backoff", calls)
	}
}

func TestAttemptTimeoutCountsAsFailure(t *testing.T) {
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		<-ctx.Done()
		return ctx.Err()
	})
	q := openQueue(t, queuePath(t), u, Options{AttemptTimeout: 10 * time.Millisecond, MinBackoff: time.Hour, MaxBackoff: time.Hour})
	mustAdd(t, q, testRecord("b", "k", "v1"))
	q.Start()
	eventually(t, "the timed out attempt to be recorded", attemptsReach(q, "b", "k", 1))
	if r := mustGet(t, q, "b", "k"); r.LastError != context.DeadlineExceeded.Error() {
		t.Errorf("last error %q; want %q", r.LastError, context.DeadlineExceeded.Error())
	}
}
