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
	// Source names the origin of the bytes, an api.Source value.
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
	r := &fillReader{ReadCloser: o.fill.w.NewReader(), f: o.fill}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		r.Close()
		return nil, fmt.Errorf("skip to offset %d: %w", off, err)
	}
	return &closingReader{Reader: io.LimitReader(r, n), c: r}, nil
}

// fillReader follows a fill and reports why it failed instead of only
// that it was aborted.
type fillReader struct {
	io.ReadCloser
	f *fill
}

func (r *fillReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && errors.Is(err, piececache.ErrAborted) {
		if cause := r.f.cause(); cause != nil {
			err = cause
		}
	}
	return n, err
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

// target is the version a read resolves to: cached here (local set) or
// to be fetched.
type target struct {
	v     Version
	local *piececache.Meta
}

// resolve finds the version of a key to serve, in this order: the newest
// version still pending in the cluster; this peer's own pending write; a
// cached version within MetadataTTL; the version the backend has.
func (s *Service) resolve(ctx context.Context, bucket, key string) (target, error) {
	ck := s.cacheKey(bucket, key)
	meta, cached := s.cache.Lookup(ck)
	if c := s.opts.Cluster; c != nil {
		if v, ok := c.LatestPending(ctx, bucket, key); ok {
			if cached && meta.Version == v.Version {
				return target{v: v, local: &meta}, nil
			}
			return target{v: v}, nil
		}
	}
	if cached && s.isLocalOnly(meta) {
		return target{local: &meta}, nil
	}
	if cached && s.fresh(ck) {
		return target{local: &meta}, nil
	}
	info, err := s.backend.HeadObject(ctx, bucket, key)
	if err != nil {
		if cached && meta.Ephemeral && errors.Is(err, backend.ErrNotFound) {
			// An Ephemeral version is not in the backend by design.
			return target{local: &meta}, nil
		}
		if cached && backend.IsRetryable(err) {
			s.log.Warn("backend unreachable, serving from cache", "bucket", bucket, "key", key, "err", err)
			return target{local: &meta}, nil
		}
		if cached && errors.Is(err, backend.ErrNotFound) {
			s.dropVersion(ck, meta.Version)
		}
		return target{}, fmt.Errorf("head %s/%s: %w", bucket, key, err)
	}
	v := Version{Bucket: bucket, Key: key, Version: versionOf(info), Info: info}
	if cached && meta.Version == v.Version {
		s.markChecked(ck)
		return target{v: v, local: &meta}, nil
	}
	return target{v: v}, nil
}

// Head returns an object's metadata.
func (s *Service) Head(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	t, err := s.resolve(ctx, bucket, key)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	if t.local != nil {
		return infoFromMeta(*t.local), nil
	}
	return t.v.Info, nil
}

// Get opens an object for reading: from the cache when it holds the
// resolved version, otherwise by filling the cache from other peers or the
// backend while the caller reads.
func (s *Service) Get(ctx context.Context, bucket, key string) (*Object, error) {
	t, err := s.resolve(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	ck := s.cacheKey(bucket, key)
	if t.local != nil {
		obj, err := s.openCached(ck, t.local.Version)
		if err == nil || t.v.Version == "" {
			return obj, err
		}
		// The entry went away (evicted or corrupt) since resolve: fetch it.
	}
	f, err := s.startFill(ctx, ck, t.v, s.planFetch)
	if err != nil {
		return nil, err
	}
	return &Object{Info: t.v.Info, Source: f.source, fill: f}, nil
}

func (s *Service) openCached(ck piececache.Key, version string) (*Object, error) {
	obj, err := s.cache.Open(ck, version)
	if err != nil {
		return nil, err
	}
	return &Object{Info: infoFromMeta(obj.Meta()), Source: api.SourceLocal, cached: obj}, nil
}

// localVersion returns the cached version that the backend does not have
// yet: one with a pending write-back, or, on a standalone peer, an
// Ephemeral one. In a cluster, Ephemeral copies are replicas that the
// scheduler or the backend confirm like any other cached version.
func (s *Service) localVersion(ck piececache.Key) (piececache.Meta, bool) {
	meta, ok := s.cache.Lookup(ck)
	if !ok || !s.isLocalOnly(meta) {
		return piececache.Meta{}, false
	}
	return meta, true
}

// isLocalOnly reports whether a cached version is one localVersion returns.
func (s *Service) isLocalOnly(meta piececache.Meta) bool {
	if meta.Ephemeral && s.opts.Cluster == nil {
		return true
	}
	rec, found, err := s.queue.Get(meta.Key.Bucket, meta.Key.Object)
	return err == nil && found && meta.Version == rec.Version
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
