package writeback

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestUploadsOfOneKeyNeverOverlap(t *testing.T) {
	var mu sync.Mutex
	running := make(map[string]int)
	maxRunning := 0
	lastUploaded := make(map[string]string)
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		mu.Lock()
		running[r.Key]++
		maxRunning = max(maxRunning, running[r.Key])
		mu.Unlock()
		time.Sleep(50 * time.Microsecond) // simulates the transfer, so that uploads overlap in time
		mu.Lock()
		defer mu.Unlock()
		running[r.Key]--
		if r.Attempts == 0 {
			return errors.New("first attempt fails")
		}
		lastUploaded[r.Key] = r.Version
		return nil
	})
	q := openQueue(t, queuePath(t), u, Options{Workers: 8, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	q.Start()

	const keys, versions = 6, 40
	var wg sync.WaitGroup
	for k := range keys {
		wg.Go(func() {
			for v := range versions {
				mustAdd(t, q, testRecord("b", fmt.Sprintf("key-%d", k), fmt.Sprintf("v%02d", v)))
			}
		})
	}
	wg.Wait()
	for k := range keys {
		mustWait(t, q, "b", fmt.Sprintf("key-%d", k))
	}

	mu.Lock()
	defer mu.Unlock()
	if maxRunning != 1 {
		t.Errorf("max concurrent uploads of one key: %d; want 1", maxRunning)
	}
	for k := range keys {
		key := fmt.Sprintf("key-%d", k)
		if got, want := lastUploaded[key], fmt.Sprintf("v%02d", versions-1); got != want {
			t.Errorf("last upload of %s: %q; want %q", key, got, want)
		}
	}
}

func TestWorkersUploadKeysInParallel(t *testing.T) {
	const workers = 3
	arrived := make(chan struct{}, workers)
	all := make(chan struct{})
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		arrived <- struct{}{}
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	q := openQueue(t, queuePath(t), u, Options{Workers: workers})
	for k := range workers {
		mustAdd(t, q, testRecord("b", fmt.Sprintf("key-%d", k), "v1"))
	}
	q.Start()
	for i := range workers {
		receive(t, arrived, fmt.Sprintf("upload %d of %d running at once", i+1, workers))
	}
	close(all)
	for k := range workers {
		mustWait(t, q, "b", fmt.Sprintf("key-%d", k))
	}
}

// TestConcurrentUseMatchesFile runs Add, Cancel, Get, List, Len and Kick
// from many goroutines while uploads succeed or fail, then checks that the
// in-memory index and the file agree.
func TestConcurrentUseMatchesFile(t *testing.T) {
	path := queuePath(t)
	u := UploaderFunc(func(ctx context.Context, r Record) error {
		if rand.IntN(2) == 0 {
			return errors.New("flaky backend")
		}
		return nil
	})
	q := openQueue(t, path, u, Options{Workers: 4, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	q.Start()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() { useConcurrently(t, q, g) })
	}
	wg.Wait()
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	inMemory := make(map[string]string)
	for _, it := range q.items {
		if it.live {
			inMemory[it.rec.Bucket+"/"+it.rec.Key] = it.rec.Version
		}
	}
	if q.live != len(inMemory) {
		t.Errorf("live count %d; want %d, the number of live items", q.live, len(inMemory))
	}
	q2 := openQueue(t, path, u, Options{})
	onDisk := storedVersions(t, q2)
	if fmt.Sprint(onDisk) != fmt.Sprint(inMemory) {
		t.Errorf("file after reopen: %v; want the index at Close: %v", onDisk, inMemory)
	}
}

func useConcurrently(t *testing.T, q *Queue, g int) {
	for i := range 150 {
		key := fmt.Sprintf("key-%d", rand.IntN(5))
		switch rand.IntN(6) {
		case 0, 1:
			mustAdd(t, q, testRecord("b", key, fmt.Sprintf("g%d-%d", g, i)))
		case 2:
			if _, _, err := q.Cancel(context.Background(), "b", key); err != nil {
				t.Errorf("Cancel(%s): %v", key, err)
			}
		case 3:
			if _, _, err := q.Get("b", key); err != nil {
				t.Errorf("Get(%s): %v", key, err)
			}
		case 4:
			if _, err := q.List(); err != nil {
				t.Errorf("List: %v", err)
			}
			_ = q.Len()
		case 5:
			q.Kick()
		}
	}
}
