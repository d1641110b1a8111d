// Package objectservice implements the object operations of a peer on top
// of a backend, the piece cache and the write-back queue. It knows nothing
// of HTTP; the objectapi package maps requests and errors onto it.
//
// What a crash loses, by write mode: AsyncWriteBack answers after the
// object is committed to the cache and its write-back record is durable, so
// nothing acknowledged is lost. WriteBack answers after the backend has the
// object. Ephemeral objects live only in this peer's cache.
package objectservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/metrics"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/writeback"
)

// Errors the service adds to those of the backend and the cache.
var (
	// ErrInvalid marks bad input. The message names the value.
	ErrInvalid = errors.New("invalid request")
)

// Options tune a Service.
type Options struct {
	// MetadataTTL is how long a cached object is served without asking the
	// backend whether it still exists unchanged. 0 checks every time.
	MetadataTTL time.Duration
	// WriteBackAttempts is how often a WriteBack PUT tries the backend;
	// 0 means 4.
	WriteBackAttempts int
	// RetryBackoff is the first pause between WriteBack attempts, doubled
	// each time; 0 means 200ms.
	RetryBackoff time.Duration
	Logger       *slog.Logger
	Metrics      *metrics.Metrics
	// Cluster connects the peer to the others; nil for a standalone peer.
	Cluster Cluster
}

// Service serves objects of one backend through the local cache.
type Service struct {
	backend   backend.Backend
	backendID string
	cache     *piececache.Cache
	queue     *writeback.Queue
	uploader  *Uploader
	opts      Options
	log       *slog.Logger

	keys    keyLocks
	buckets bucketCache

	// fillMu guards fills, the downloads into the cache in progress by
	// cache key. It is held while the cluster plans a download, so that
	// concurrent misses of one key start one download.
	fillMu sync.Mutex
	fills  map[piececache.Key]*fill

	mu sync.Mutex // guards checked
	// checked is when a cached entry was last confirmed against the backend.
	checked map[piececache.Key]time.Time
}

// New creates a Service. The queue's uploader should be u, built by
// NewUploader over the same backend and cache.
func New(b backend.Backend, c *piececache.Cache, q *writeback.Queue, u *Uploader, opts Options) *Service {
	if opts.WriteBackAttempts <= 0 {
		opts.WriteBackAttempts = 4
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{
		backend:   b,
		backendID: b.Info().ID(),
		cache:     c,
		queue:     q,
		uploader:  u,
		opts:      opts,
		log:       opts.Logger,
		buckets:   bucketCache{entries: map[string]bucketEntry{}},
		fills:     map[piececache.Key]*fill{},
		checked:   map[piececache.Key]time.Time{},
	}
}

// BackendInfo describes the backend.
func (s *Service) BackendInfo() backend.Info { return s.backend.Info() }

func (s *Service) cacheKey(bucket, key string) piececache.Key {
	return piececache.Key{Backend: s.backendID, Bucket: bucket, Object: key}
}

// CreateBucket creates a bucket in the backend.
func (s *Service) CreateBucket(ctx context.Context, bucket string) error {
	if err := s.backend.CreateBucket(ctx, bucket); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	s.buckets.set(bucket, true)
	return nil
}

// Delete removes an object from the backend and the cache and cancels its
// pending write-back, in that order of effect: the write-back cannot land
// after the delete.
func (s *Service) Delete(ctx context.Context, bucket, key string) error {
	unlock := s.keys.lock(bucket, key)
	defer unlock()

	if _, _, err := s.queue.Cancel(ctx, bucket, key); err != nil {
		return fmt.Errorf("cancel write-back: %w", err)
	}
	ck := s.cacheKey(bucket, key)
	if err := s.cache.Remove(ck); err != nil {
		return fmt.Errorf("remove from cache: %w", err)
	}
	s.forget(ck)
	if err := s.backend.DeleteObject(ctx, bucket, key); err != nil && !errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	if s.opts.Cluster != nil {
		s.opts.Cluster.Deleted(bucket, key)
	}
	return nil
}

func (s *Service) forget(ck piececache.Key) {
	s.mu.Lock()
	delete(s.checked, ck)
	s.mu.Unlock()
}

// keyLocks serialises writes and deletes of one object key, so a delete
// or overwrite never interleaves with another's commit.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyLocks) lock(bucket, key string) (unlock func()) {
	id := bucket + "/" + key
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[id]
	if l == nil {
		l = &keyLock{}
		k.locks[id] = l
	}
	l.refs++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, id)
		}
		k.mu.Unlock()
	}
}

// bucketCache remembers whether buckets exist, so an AsyncWriteBack into a
// missing bucket fails at once without a backend request per PUT.
type bucketCache struct {
	mu      sync.Mutex
	entries map[string]bucketEntry
}

type bucketEntry struct {
	exists  bool
	checked time.Time
}

// How long bucket checks are trusted. A missing bucket is rechecked sooner,
// because users create buckets with other tools too.
const (
	_bucketExistsTTL  = 5 * time.Minute
	_bucketMissingTTL = 10 * time.Second
)

func (b *bucketCache) get(bucket string) (exists, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[bucket]
	if !ok {
		return false, false
	}
	ttl := _bucketMissingTTL
	if e.exists {
		ttl = _bucketExistsTTL
	}
	if time.Since(e.checked) > ttl {
		return false, false
	}
	return e.exists, true
}

func (b *bucketCache) set(bucket string, exists bool) {
	b.mu.Lock()
	b.entries[bucket] = bucketEntry{exists: exists, checked: time.Now()}
	b.mu.Unlock()
}

// checkBucket returns an error wrapping backend.ErrBucketNotFound when the
// bucket is known not to exist. When the backend cannot be reached it
// returns nil: the write is accepted and retried.
func (s *Service) checkBucket(ctx context.Context, bucket string) error {
	if exists, ok := s.buckets.get(bucket); ok {
		if !exists {
			return fmt.Errorf("bucket %q: %w", bucket, backend.ErrBucketNotFound)
		}
		return nil
	}
	err := s.backend.HeadBucket(ctx, bucket)
	switch {
	case err == nil:
		s.buckets.set(bucket, true)
		return nil
	case errors.Is(err, backend.ErrBucketNotFound):
		s.buckets.set(bucket, false)
		return fmt.Errorf("bucket %q: %w", bucket, backend.ErrBucketNotFound)
	case backend.IsRetryable(err):
		s.log.Warn("backend unreachable, accepting write for later upload", "bucket", bucket, "err", err)
		return nil
	default:
		return fmt.Errorf("check bucket %q: %w", bucket, err)
	}
}
