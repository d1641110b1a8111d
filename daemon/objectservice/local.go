package objectservice

import (
	"context"
	"fmt"
	"time"

	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/writeback"
)

// TakeOverWriteBack makes this peer responsible for uploading a cached
// version to the backend, as when the peer that wrote it is gone. The
// record is durable when it returns.
func (s *Service) TakeOverWriteBack(bucket, key, version string) error {
	ck := s.cacheKey(bucket, key)
	meta, ok := s.cache.Lookup(ck)
	if !ok || meta.Version != version {
		return fmt.Errorf("take over write-back of %s/%s: version %s is not cached here: %w", bucket, key, version, piececache.ErrNotFound)
	}
	if err := s.cache.Pin(ck, version); err != nil {
		return fmt.Errorf("pin %s/%s: %w", bucket, key, err)
	}
	if err := s.enqueue(meta); err != nil {
		s.cache.Unpin(ck, version)
		return err
	}
	s.log.Info("took over write-back", "bucket", bucket, "key", key, "version", version)
	return nil
}

// DropLocal removes every cached version of a key from this peer and
// cancels its pending write-back, without touching the backend. Another
// peer deleted the key.
func (s *Service) DropLocal(ctx context.Context, bucket, key string) error {
	unlock := s.keys.lock(bucket, key)
	defer unlock()
	if err := s.cancelPending(ctx, bucket, key); err != nil {
		return err
	}
	ck := s.cacheKey(bucket, key)
	if err := s.cache.Remove(ck); err != nil {
		return fmt.Errorf("remove %s/%s from cache: %w", bucket, key, err)
	}
	s.forget(ck)
	return nil
}

// IsPending reports whether this peer holds a write-back record for that
// version of a key.
func (s *Service) IsPending(bucket, key, version string) bool {
	rec, found, err := s.queue.Get(bucket, key)
	return err == nil && found && rec.Version == version
}

func recordOf(meta piececache.Meta) writeback.Record {
	return writeback.Record{
		Bucket:      meta.Key.Bucket,
		Key:         meta.Key.Object,
		Version:     meta.Version,
		Digest:      meta.Digest,
		Size:        meta.Length,
		ContentType: meta.ContentType,
		CreatedAt:   time.Now(),
	}
}
