package writeback

import (
	"context"
	"fmt"
)

// Cancel removes the record of (bucket, key) from the file, cancels a
// running upload of that key and waits until the upload returned. After a
// nil error the queue will not write the key to the backend any more, so
// the caller may delete the object there. A newer Add that races with
// Cancel may still be queued and uploaded. If ctx ends first, the record
// is already removed and Cancel returns the context error, and the running
// upload may still land. It reports the removed record and whether there
// was one.
func (q *Queue) Cancel(ctx context.Context, bucket, key string) (Record, bool, error) {
	id := recordID(bucket, key)
	lock := q.keyLock(id)
	lock.Lock()
	rec, found, done, err := q.remove(id)
	lock.Unlock()
	if err != nil || done == nil {
		return rec, found, err
	}
	select {
	case <-done:
		return rec, found, nil
	case <-ctx.Done():
		return rec, found, fmt.Errorf("cancel write-back of %s/%s: record removed, but its running upload has not returned: %w",
			bucket, key, ctx.Err())
	}
}

// remove deletes the record of id from the file and the index and cancels
// a running upload of id. The caller holds id's key lock. The returned
// channel is closed when that upload returns, and is nil when none runs.
func (q *Queue) remove(id string) (Record, bool, <-chan struct{}, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return Record{}, false, nil, ErrClosed
	}
	it := q.items[id]
	if it == nil {
		q.mu.Unlock()
		return Record{}, false, nil, nil
	}
	rec, found := it.rec, it.live
	q.mu.Unlock()

	if found {
		if err := q.store.delete(id); err != nil {
			return Record{}, false, nil, fmt.Errorf("remove %s/%s from write-back queue: %w", rec.Bucket, rec.Key, err)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if found {
		q.drop(it)
	}
	if !it.running {
		delete(q.items, id)
		return rec, found, nil, nil
	}
	it.cancel()
	return rec, found, it.done, nil
}

// Wait blocks until (bucket, key) has no record, because its upload
// finished, Cancel removed it or the queue never had it. It returns
// ErrClosed if the queue is closed first, and the context error if ctx
// ends first.
func (q *Queue) Wait(ctx context.Context, bucket, key string) error {
	id := recordID(bucket, key)
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		it := q.items[id]
		if it == nil || !it.live {
			q.mu.Unlock()
			return nil
		}
		removed := q.removed
		q.mu.Unlock()

		select {
		case <-removed:
		case <-ctx.Done():
			return fmt.Errorf("wait for write-back of %s/%s: %w", bucket, key, ctx.Err())
		case <-q.ctx.Done():
			return ErrClosed
		}
	}
}
