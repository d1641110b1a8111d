// Package writeback is the durable upload queue behind the AsyncWriteBack
// mode: the peer acknowledges an object once it is cached locally and
// queued here, and the queue uploads it to the backend later.
//
// Guarantee: a record whose Add returned nil reaches the backend eventually,
// across crashes and restarts, unless Cancel removes it or a newer Add for
// the same (bucket, key) replaces it. Add commits the record to a bbolt file
// with fsync before it returns. Failed uploads are retried forever with
// exponential backoff and jitter. After a restart every record is due at once.
//
// There is one record per (bucket, key), and the newest Add wins. An upload
// of an older version that is still running is left to finish, and its
// result never removes the newer record. Uploads of one key never overlap.
package writeback

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dfcache/dfcache/digest"
)

// Record is one object waiting for its backend upload.
type Record struct {
	Bucket, Key string
	// Version is the cache version to upload.
	Version string
	// Digest is the object digest, "md5:<hex>", or empty when unknown.
	Digest string
	// Size is the object length in bytes.
	Size        int64
	ContentType string
	// CreatedAt is when the record was added. Add sets it when it is zero.
	CreatedAt time.Time
	// Attempts counts the failed uploads of this record.
	Attempts int
	// NextAttempt is when a worker may start the next upload.
	NextAttempt time.Time
	// LastError is the message of the last failed upload.
	LastError string
}

// Uploader copies a cached object version to the backend.
type Uploader interface {
	// Upload returns nil once the backend holds r.Version of r.Key. It must
	// be safe to call again for the same record, because a crash between
	// its return and the removal of the record repeats it. It must return
	// soon after ctx is cancelled. Its error text is stored in
	// Record.LastError and logged, so it must not contain credentials or
	// signed URLs.
	Upload(ctx context.Context, r Record) error
}

// UploaderFunc adapts a function to Uploader.
type UploaderFunc func(ctx context.Context, r Record) error

// Upload calls f(ctx, r).
func (f UploaderFunc) Upload(ctx context.Context, r Record) error { return f(ctx, r) }

// ErrClosed is returned by calls on a queue after Close.
var ErrClosed = errors.New("writeback: queue closed")

// _keyLockCount is the number of stripes of Queue.keyLocks.
const _keyLockCount = 64

// Queue is a durable write-back queue stored in one bbolt file. All
// methods are safe for concurrent use.
type Queue struct {
	store    *store
	uploader Uploader
	opts     Options
	log      *slog.Logger

	// keyLocks serialize the changes of one key's record, so that the file
	// and the in-memory index change together. A stripe is held across a
	// bbolt commit, while mu is held only for memory updates.
	keyLocks [_keyLockCount]sync.Mutex
	seed     maphash.Seed

	// ctx is the parent of every upload context. Close cancels it.
	ctx       context.Context
	cancel    context.CancelFunc
	startOnce sync.Once
	workers   sync.WaitGroup

	mu sync.Mutex
	// items holds every live record and every key with a running upload,
	// by recordID. Guarded by mu.
	items map[string]*item
	// due orders the live records without a running upload by
	// NextAttempt. Guarded by mu.
	due itemHeap
	// live counts the items that hold a record. Guarded by mu.
	live int
	// seq is the last record sequence number handed out. Guarded by mu.
	seq    uint64
	closed bool
	// wake is closed and replaced when work may have become due, and
	// removed when a record was removed. Guarded by mu.
	wake, removed chan struct{}
}

// item is the in-memory state of one key.
type item struct {
	id  string
	rec Record
	// seq identifies the record version. A worker compares it before and
	// after an upload to learn whether a newer Add replaced the record.
	seq  uint64
	live bool
	// index is the position in Queue.due, or -1 when not in it.
	index   int
	running bool
	// kicked makes release schedule the record at once, because Kick ran
	// during the upload.
	kicked bool
	// cancel and done belong to the running upload.
	cancel context.CancelFunc
	done   chan struct{}
}

// Open opens or creates the queue file at path and loads its records, all
// due at once. It waits up to one second for another process to release
// the file. Workers start with Start.
func Open(path string, u Uploader, opts Options) (*Queue, error) {
	if u == nil {
		return nil, errors.New("open write-back queue: nil Uploader")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open write-back queue: %w", err)
	}
	st, err := openStore(path)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		store: st, uploader: u, opts: opts, log: opts.Logger,
		seed:  maphash.MakeSeed(),
		items: make(map[string]*item),
		wake:  make(chan struct{}), removed: make(chan struct{}),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	if err := q.load(); err != nil {
		q.cancel()
		_ = st.close()
		return nil, err
	}
	q.log.Info("write-back queue opened", "path", path, "records", q.live)
	return q, nil
}

// load fills the index from the file and makes every record due now.
func (q *Queue) load() error {
	now := q.opts.Now()
	return q.store.forEach(func(id string, seq uint64, r Record) {
		r.NextAttempt = now
		q.seq = max(q.seq, seq)
		q.apply(id, seq, r)
	})
}

// Start starts the upload workers. Calls after the first, and calls after
// Close, do nothing.
func (q *Queue) Start() {
	q.startOnce.Do(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.closed {
			return
		}
		q.workers.Add(q.opts.Workers)
		for range q.opts.Workers {
			go q.work()
		}
	})
}

// Close stops the workers, cancels running uploads and waits for them to
// return, then closes the file. Records stay in the file for the next
// Open. An upload cancelled by Close does not count as a failed attempt.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()

	q.cancel()
	q.workers.Wait()
	if err := q.store.close(); err != nil {
		return fmt.Errorf("close write-back queue: %w", err)
	}
	return nil
}

// Add stores r durably and wakes a worker. It replaces any record of the
// same (bucket, key): the new record starts with no attempts and is due
// now. Add returns only after the record is committed to disk with fsync.
// Bucket, Key and Version are required, and Digest, when set, must be a
// valid digest such as "md5:<hex>".
func (q *Queue) Add(r Record) error {
	if err := validate(r); err != nil {
		return err
	}
	id := recordID(r.Bucket, r.Key)
	lock := q.keyLock(id)
	lock.Lock()
	defer lock.Unlock()

	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	q.seq++
	seq := q.seq
	q.mu.Unlock()

	now := q.opts.Now()
	r.Attempts, r.LastError, r.NextAttempt = 0, "", now
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if err := q.store.put(id, seq, r); err != nil {
		return fmt.Errorf("add %s/%s to write-back queue: %w", r.Bucket, r.Key, err)
	}

	q.mu.Lock()
	q.apply(id, seq, r)
	q.mu.Unlock()
	q.log.Debug("write-back record queued", "bucket", r.Bucket, "key", r.Key,
		"version", r.Version, "size", r.Size)
	return nil
}

// apply makes r, already on disk, the live record of id. The caller holds
// mu, or is Open.
func (q *Queue) apply(id string, seq uint64, r Record) {
	it := q.items[id]
	if it == nil {
		it = &item{id: id, index: -1}
		q.items[id] = it
	}
	if !it.live {
		q.live++
	}
	it.rec, it.seq, it.live = r, seq, true
	if it.running {
		// The worker requeues the item when the older upload returns.
		return
	}
	q.due.update(it)
	signal(&q.wake)
}

// Get returns the record of (bucket, key), if there is one.
func (q *Queue) Get(bucket, key string) (Record, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Record{}, false, ErrClosed
	}
	it := q.items[recordID(bucket, key)]
	if it == nil || !it.live {
		return Record{}, false, nil
	}
	return it.rec, true, nil
}

// List returns all records, sorted by bucket and key.
func (q *Queue) List() ([]Record, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, ErrClosed
	}
	records := make([]Record, 0, q.live)
	for _, it := range q.items {
		if it.live {
			records = append(records, it.rec)
		}
	}
	q.mu.Unlock()

	slices.SortFunc(records, func(a, b Record) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return records, nil
}

// Len returns the number of records.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live
}

// Kick makes every record due now, for example when the backend is
// reachable again. A record whose upload is running is due again as soon
// as that upload fails.
func (q *Queue) Kick() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for _, it := range q.items {
		if it.running {
			it.kicked = true
		}
	}
	for _, it := range q.due {
		it.rec.NextAttempt = now
	}
	q.due.init()
	signal(&q.wake)
}

// keyLock returns the stripe lock of id.
func (q *Queue) keyLock(id string) *sync.Mutex {
	return &q.keyLocks[maphash.String(q.seed, id)%_keyLockCount]
}

// signal closes *ch, waking everyone who waits on it, and replaces it.
func signal(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

// validate checks the fields that Add requires.
func validate(r Record) error {
	switch {
	case r.Bucket == "":
		return fmt.Errorf("invalid write-back record for key %q: missing bucket", r.Key)
	case r.Key == "":
		return fmt.Errorf("invalid write-back record in bucket %q: missing key", r.Bucket)
	case r.Version == "":
		return fmt.Errorf("invalid write-back record %s/%s: missing version", r.Bucket, r.Key)
	case r.Size < 0:
		return fmt.Errorf("invalid write-back record %s/%s: negative size %d", r.Bucket, r.Key, r.Size)
	}
	if r.Digest != "" {
		if _, err := digest.Parse(r.Digest); err != nil {
			return fmt.Errorf("invalid write-back record %s/%s: %w", r.Bucket, r.Key, err)
		}
	}
	return nil
}
