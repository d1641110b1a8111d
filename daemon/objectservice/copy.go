package objectservice

import (
	"context"
	"fmt"
	"io"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
)

// Copy copies srcKey to dstKey within bucket. A source still waiting for
// its write-back is copied from the cache as a new AsyncWriteBack upload;
// otherwise the backend copies it.
func (s *Service) Copy(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	if meta, ok := s.localVersion(s.cacheKey(bucket, srcKey)); ok && !meta.Ephemeral {
		return s.copyFromCache(ctx, bucket, srcKey, dstKey, meta.Version)
	}

	unlock := s.keys.lock(bucket, dstKey)
	defer unlock()
	// An older pending write of the destination must not land after the copy.
	if err := s.cancelPending(ctx, bucket, dstKey); err != nil {
		return backend.ObjectInfo{}, err
	}
	info, err := s.backend.CopyObject(ctx, bucket, srcKey, dstKey)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("copy %s/%s to %s: %w", bucket, srcKey, dstKey, err)
	}
	dst := s.cacheKey(bucket, dstKey)
	if err := s.cache.Remove(dst); err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("drop stale cache entry of %s: %w", dstKey, err)
	}
	s.forget(dst)
	return info, nil
}

func (s *Service) copyFromCache(ctx context.Context, bucket, srcKey, dstKey, version string) (backend.ObjectInfo, error) {
	obj, err := s.cache.Open(s.cacheKey(bucket, srcKey), version)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("open cached source %s: %w", srcKey, err)
	}
	defer obj.Close()
	meta := obj.Meta()

	up, err := s.NewUpload(bucket, dstKey)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	if _, err := io.Copy(up, io.NewSectionReader(obj, 0, meta.Length)); err != nil {
		up.Abort()
		return backend.ObjectInfo{}, fmt.Errorf("copy cached %s: %w", srcKey, err)
	}
	return up.Commit(ctx, PutOptions{Mode: api.AsyncWriteBack, Digest: meta.Digest, ContentType: meta.ContentType})
}
