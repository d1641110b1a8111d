package objectservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
)

// Object is an object opened for reading: its metadata and a way to read
// any range of it. Close it when done.
type Object struct {
	Info backend.ObjectInfo
	// Source is where the bytes come from: api.SourceLocal or
	// api.SourceBackend.
	Source string

	cached *piececache.Object
	fill   *fill
}

// NewReader returns a reader of n bytes from offset off. Every byte it
// returns was checked against its piece digest.
func (o *Object) NewReader(off, n int64) (io.Reader, error) {
	if o.cached != nil {
		return io.NewSectionReader(o.cached, off, n), nil
	}
	r := o.fill.w.NewReader()
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		r.Close()
		return nil, fmt.Errorf("skip to offset %d: %w", off, err)
	}
	return &closingReader{Reader: io.LimitReader(r, n), c: r}, nil
}

// Close releases the object.
func (o *Object) Close() error {
	if o.cached != nil {
		return o.cached.Close()
	}
	return nil
}

type closingReader struct {
	io.Reader
	c io.Closer
}

func (c *closingReader) Close() error { return c.c.Close() }

// Head returns an object's metadata: from a pending or local-only cache
// entry, from a cache entry the backend confirms, or from the backend.
func (s *Service) Head(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	ck := s.cacheKey(bucket, key)
	if meta, ok := s.localVersion(ck); ok {
		return infoFromMeta(meta), nil
	}
	meta, cached := s.cache.Lookup(ck)
	if cached && s.fresh(ck) {
		return infoFromMeta(meta), nil
	}
	info, err := s.backend.HeadObject(ctx, bucket, key)
	if err != nil {
		if cached && backend.IsRetryable(err) {
			s.log.Warn("backend unreachable, answering from cache", "bucket", bucket, "key", key, "err", err)
			return infoFromMeta(meta), nil
		}
		if errors.Is(err, backend.ErrNotFound) && cached {
			s.dropVersion(ck, meta.Version)
		}
		return backend.ObjectInfo{}, fmt.Errorf("head %s/%s: %w", bucket, key, err)
	}
	if cached && meta.Version == versionOf(info) {
		s.markChecked(ck)
		return infoFromMeta(meta), nil
	}
	return info, nil
}

// Get opens an object for reading: from the cache when it holds the
// version the backend has (or a version not yet in the backend), otherwise
// by filling the cache from the backend while the caller reads.
func (s *Service) Get(ctx context.Context, bucket, key string) (*Object, error) {
	ck := s.cacheKey(bucket, key)
	if meta, ok := s.localVersion(ck); ok {
		if obj, err := s.openCached(ck, meta.Version); err == nil {
			return obj, nil
		}
	}
	meta, cached := s.cache.Lookup(ck)
	if cached && s.fresh(ck) {
		if obj, err := s.openCached(ck, meta.Version); err == nil {
			return obj, nil
		}
	}
	info, err := s.backend.HeadObject(ctx, bucket, key)
	if err != nil {
		return s.getWithoutBackend(ck, meta, cached, err)
	}
	version := versionOf(info)
	if cached && meta.Version == version {
		if obj, err := s.openCached(ck, version); err == nil {
			s.markChecked(ck)
			return obj, nil
		}
	}
	f, err := s.startFill(ck, info)
	if err != nil {
		return nil, err
	}
	return &Object{Info: info, Source: api.SourceBackend, fill: f}, nil
}

func (s *Service) getWithoutBackend(ck piececache.Key, meta piececache.Meta, cached bool, err error) (*Object, error) {
	if cached && backend.IsRetryable(err) {
		s.log.Warn("backend unreachable, serving from cache", "bucket", ck.Bucket, "key", ck.Object, "err", err)
		return s.openCached(ck, meta.Version)
	}
	if cached && errors.Is(err, backend.ErrNotFound) {
		s.dropVersion(ck, meta.Version)
	}
	return nil, fmt.Errorf("head %s/%s: %w", ck.Bucket, ck.Object, err)
}

func (s *Service) openCached(ck piececache.Key, version string) (*Object, error) {
	obj, err := s.cache.Open(ck, version)
	if err != nil {
		return nil, err
	}
	return &Object{Info: infoFromMeta(obj.Meta()), Source: api.SourceLocal, cached: obj}, nil
}

// localVersion returns the cached version that the backend does not have
// yet: one with a pending write-back, or an Ephemeral one.
func (s *Service) localVersion(ck piececache.Key) (piececache.Meta, bool) {
	if rec, ok, err := s.queue.Get(ck.Bucket, ck.Object); err == nil && ok {
		if meta, ok := s.cache.Lookup(ck); ok && meta.Version == rec.Version {
			return meta, true
		}
	}
	if meta, ok := s.cache.Lookup(ck); ok && meta.Ephemeral {
		return meta, true
	}
	return piececache.Meta{}, false
}

// fresh reports whether a cached entry was confirmed within MetadataTTL.
func (s *Service) fresh(ck piececache.Key) bool {
	if s.opts.MetadataTTL <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.checked[ck]
	return ok && time.Since(t) < s.opts.MetadataTTL
}

func (s *Service) markChecked(ck piececache.Key) {
	if s.opts.MetadataTTL <= 0 {
		return
	}
	s.mu.Lock()
	s.checked[ck] = time.Now()
	s.mu.Unlock()
}

// versionOf names the content of a backend object: its digest when it has
// one, so a copy uploaded through a peer and the same object read back
// share a version, else its ETag, size and modification time. Request
// artifacts such as signed URLs never enter it.
func versionOf(info backend.ObjectInfo) string {
	if info.Digest != "" {
		return info.Digest
	}
	return "etag:" + info.ETag + "/" + strconv.FormatInt(info.Size, 10) + "/" + strconv.FormatInt(info.LastModified.Unix(), 10)
}
