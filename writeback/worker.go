package writeback

import (
	"context"
	"math/rand/v2"
	"time"
)

// job is one claimed upload: the record as it was when the worker took it.
type job struct {
	it  *item
	rec Record
	seq uint64
	// ctx is cancelled by Cancel and by Close.
	ctx context.Context
}

// work runs uploads until Close. It sleeps until the earliest record is
// due or until Add, Kick or a finished upload signals q.wake.
func (q *Queue) work() {
	defer q.workers.Done()
	for {
		j, wake, wait := q.claim()
		if j != nil {
			q.run(j)
			continue
		}
		if !q.sleep(wake, wait) {
			return
		}
	}
}

// claim takes the earliest record if it is due. Otherwise it returns the
// channel that signals new work and the time until the earliest record is
// due, or -1 when there is no record to wait for.
func (q *Queue) claim() (*job, <-chan struct{}, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.due) == 0 {
		return nil, q.wake, -1
	}
	if wait := q.due[0].rec.NextAttempt.Sub(q.opts.Now()); wait > 0 {
		return nil, q.wake, wait
	}
	it := q.due.pop()
	ctx, cancel := context.WithCancel(q.ctx)
	it.running, it.cancel, it.done = true, cancel, make(chan struct{})
	return &job{it: it, rec: it.rec, seq: it.seq, ctx: ctx}, nil, 0
}

// sleep waits for wake, for wait (unless negative) or for Close. It
// reports false on Close.
func (q *Queue) sleep(wake <-chan struct{}, wait time.Duration) bool {
	var timeout <-chan time.Time
	if wait >= 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-q.ctx.Done():
		return false
	case <-wake:
	case <-timeout:
	}
	return true
}

// run uploads one record and settles the result.
func (q *Queue) run(j *job) {
	ctx := j.ctx
	if q.opts.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.opts.AttemptTimeout)
		defer cancel()
	}
	start := time.Now()
	err := q.uploader.Upload(ctx, j.rec)
	if q.settle(j, err, time.Since(start)) && q.opts.OnDone != nil {
		q.opts.OnDone(j.rec)
	}
}

// settle records the result of an upload and reports whether it removed
// the record. It changes the file only if the record is still the version
// that was uploaded.
func (q *Queue) settle(j *job, err error, took time.Duration) bool {
	lock := q.keyLock(j.it.id)
	lock.Lock()
	defer lock.Unlock()
	defer q.release(j.it)

	q.mu.Lock()
	current := j.it.live && j.it.seq == j.seq
	q.mu.Unlock()
	switch {
	case !current:
		q.log.Debug("write-back result of a replaced or cancelled record ignored",
			"bucket", j.rec.Bucket, "key", j.rec.Key, "version", j.rec.Version, "error", err)
		return false
	case err == nil:
		return q.complete(j, took)
	case j.ctx.Err() != nil:
		// Close cancelled the upload; that is no failure of the backend.
		return false
	}
	q.retry(j, err)
	return false
}

// complete removes the record of a finished upload.
func (q *Queue) complete(j *job, took time.Duration) bool {
	r := j.rec
	if err := q.store.delete(j.it.id); err != nil {
		q.log.Error("remove uploaded write-back record; the upload will be repeated",
			"bucket", r.Bucket, "key", r.Key, "error", err)
		q.mu.Lock()
		j.it.rec.NextAttempt = q.opts.Now().Add(q.backoff(max(1, r.Attempts)))
		q.mu.Unlock()
		return false
	}
	q.mu.Lock()
	q.drop(j.it)
	q.mu.Unlock()
	q.log.Info("write-back upload done", "bucket", r.Bucket, "key", r.Key,
		"version", r.Version, "size", r.Size, "attempts", r.Attempts+1, "duration", took)
	return true
}

// retry records a failed attempt and schedules the next one.
func (q *Queue) retry(j *job, uploadErr error) {
	r := j.rec
	r.Attempts++
	r.LastError = uploadErr.Error()
	r.NextAttempt = q.opts.Now().Add(q.backoff(r.Attempts))
	if err := q.store.put(j.it.id, j.seq, r); err != nil {
		// The retry still happens, from memory. Only the attempt count
		// and error text are lost on a restart.
		q.log.Error("save failed write-back attempt",
			"bucket", r.Bucket, "key", r.Key, "error", err)
	}
	q.mu.Lock()
	j.it.rec = r
	q.mu.Unlock()
	q.log.Warn("write-back upload failed, retry scheduled", "bucket", r.Bucket, "key", r.Key,
		"version", r.Version, "attempts", r.Attempts, "next_attempt", r.NextAttempt, "error", uploadErr)
}

// release ends the running upload of it: it wakes Cancel callers, and it
// queues the item again if it still holds a record.
func (q *Queue) release(it *item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it.cancel()
	close(it.done)
	it.running, it.cancel, it.done = false, nil, nil
	if !it.live {
		delete(q.items, it.id)
		return
	}
	if it.kicked {
		it.kicked = false
		it.rec.NextAttempt = q.opts.Now()
	}
	q.due.update(it)
	signal(&q.wake)
}

// drop marks it as holding no record. The caller holds mu and has deleted
// the record from the file.
func (q *Queue) drop(it *item) {
	it.live = false
	q.live--
	q.due.remove(it)
	signal(&q.removed)
}

// backoff returns the delay before the next attempt after the given number
// of failed attempts: a random duration in [d/2, d], where d is MinBackoff
// doubled attempts times and capped at MaxBackoff, and the result is
// clamped to [MinBackoff, MaxBackoff]. The jitter spreads the retries of
// records that failed together.
func (q *Queue) backoff(attempts int) time.Duration {
	lo, hi := q.opts.MinBackoff, q.opts.MaxBackoff
	d := lo
	for range attempts {
		if d > hi/2 {
			d = hi
			break
		}
		d *= 2
	}
	d = min(d, hi)
	jittered := d/2 + rand.N(d/2+1)
	return max(lo, min(jittered, hi))
}
