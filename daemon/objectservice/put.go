package objectservice

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
)

// Upload is an object being received. Bytes go straight into the cache's
// staging area; nothing is visible until Commit succeeds.
type Upload struct {
	s           *Service
	bucket, key string
	w           *piececache.Writer
}

// PutOptions are the form fields of a PUT.
type PutOptions struct {
	Mode api.Mode
	// Digest is the md5 digest ("md5:<hex>") the client computed; empty
	// when the client sent none.
	Digest      string
	ContentType string
	MaxReplicas int
	// Persisted marks an Ephemeral write (a replica from another peer)
	// that the backend already has this version.
	Persisted bool
}

// NewUpload starts receiving an object. The caller writes the body and
// then calls Commit or Abort.
func (s *Service) NewUpload(bucket, key string) (*Upload, error) {
	if err := backend.CheckKey(s.backend, bucket, key); err != nil {
		return nil, err
	}
	w, err := s.cache.Create(s.cacheKey(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("stage upload: %w", err)
	}
	return &Upload{s: s, bucket: bucket, key: key, w: w}, nil
}

// Write stores the next bytes of the body.
func (u *Upload) Write(p []byte) (int, error) {
	n, err := u.w.Write(p)
	if u.s.opts.Metrics != nil {
		u.s.opts.Metrics.BytesReceived.Add(float64(n))
	}
	return n, err
}

// Written returns the number of bytes received so far.
func (u *Upload) Written() int64 { return u.w.Written() }

// Abort discards the upload. It is safe to call after Commit.
func (u *Upload) Abort() { u.w.Abort() }

// Commit publishes the object according to opts.Mode. On error nothing is
// published and nothing reaches the backend, except that a WriteBack PUT
// whose backend upload failed after the bytes were sent may have left the
// object in the backend.
func (u *Upload) Commit(ctx context.Context, opts PutOptions) (backend.ObjectInfo, error) {
	s := u.s
	if opts.Digest != "" && opts.Digest != u.w.Digest() {
		u.Abort()
		return backend.ObjectInfo{}, fmt.Errorf("%w: digest mismatch: the client sent %s but the received %d bytes have %s; the body was altered or truncated in transit, upload again",
			ErrInvalid, opts.Digest, u.w.Written(), u.w.Digest())
	}
	if opts.Mode != api.Ephemeral {
		if err := s.checkBucket(ctx, u.bucket); err != nil {
			u.Abort()
			return backend.ObjectInfo{}, err
		}
	}

	unlock := s.keys.lock(u.bucket, u.key)
	defer unlock()
	if opts.Mode == api.WriteBack {
		// An older pending write of this key must not land after this one.
		if err := s.cancelPending(ctx, u.bucket, u.key); err != nil {
			u.Abort()
			return backend.ObjectInfo{}, err
		}
	}
	meta, err := u.w.Commit(u.newMeta(opts), piececache.CommitOptions{Pin: opts.Mode != api.Ephemeral})
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("commit to cache: %w", err)
	}
	ck := s.cacheKey(u.bucket, u.key)
	s.forget(ck)

	switch opts.Mode {
	case api.AsyncWriteBack:
		if err = s.enqueue(meta); err == nil {
			s.published(meta, true, opts.MaxReplicas)
		}
	case api.WriteBack:
		// Replicas are made while the backend upload runs.
		s.published(meta, true, opts.MaxReplicas)
		if err = s.writeBack(ctx, meta); err == nil && s.opts.Cluster != nil {
			s.opts.Cluster.Persisted(u.bucket, u.key, meta.Version)
		}
	case api.Ephemeral:
		s.published(meta, !opts.Persisted, 0)
	}
	if err != nil {
		s.dropVersion(ck, meta.Version)
		return backend.ObjectInfo{}, err
	}
	s.log.Info("object stored", "bucket", u.bucket, "key", u.key, "size", meta.Length, "mode", opts.Mode.String(), "digest", meta.Digest)
	return infoFromMeta(meta), nil
}

func (u *Upload) newMeta(opts PutOptions) piececache.Meta {
	digest := u.w.Digest()
	return piececache.Meta{
		Version:      digest,
		Digest:       digest,
		ETag:         hex.EncodeToString(md5Raw(digest)),
		LastModified: time.Now().UTC().Truncate(time.Second),
		ContentType:  opts.ContentType,
		Ephemeral:    opts.Mode == api.Ephemeral,
	}
}

func md5Raw(digest string) []byte {
	raw, _ := hex.DecodeString(strings.TrimPrefix(digest, "md5:"))
	return raw
}

func (s *Service) enqueue(meta piececache.Meta) error {
	rec := recordOf(meta)
	prev, replaced, err := s.queue.Get(rec.Bucket, rec.Key)
	if err != nil {
		return fmt.Errorf("read write-back queue: %w", err)
	}
	if err := s.queue.Add(rec); err != nil {
		return fmt.Errorf("record write-back: %w", err)
	}
	if replaced {
		// The replaced record will never report done, so its pin goes now.
		s.cache.Unpin(meta.Key, prev.Version)
	}
	return nil
}

// cancelPending cancels the pending write-back of a key, waiting for an
// upload in flight, and releases the pin the record held.
func (s *Service) cancelPending(ctx context.Context, bucket, key string) error {
	rec, found, err := s.queue.Cancel(ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("cancel pending write-back of %s/%s: %w", bucket, key, err)
	}
	if found {
		s.cache.Unpin(s.cacheKey(bucket, key), rec.Version)
	}
	return nil
}

// writeBack uploads a committed version now, retrying retryable failures.
func (s *Service) writeBack(ctx context.Context, meta piececache.Meta) error {
	defer s.cache.Unpin(meta.Key, meta.Version)
	rec := recordOf(meta)
	backoff := s.opts.RetryBackoff
	var err error
	for attempt := 1; attempt <= s.opts.WriteBackAttempts; attempt++ {
		if err = s.uploader.Upload(ctx, rec); err == nil || !backend.IsRetryable(err) {
			break
		}
		if attempt == s.opts.WriteBackAttempts {
			break
		}
		s.log.Warn("backend upload failed, retrying", "bucket", rec.Bucket, "key", rec.Key, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	if err != nil {
		return fmt.Errorf("upload %s/%s to backend: %w", rec.Bucket, rec.Key, err)
	}
	return nil
}

// dropVersion removes a version from the cache if it is still current.
func (s *Service) dropVersion(ck piececache.Key, version string) {
	if m, ok := s.cache.Lookup(ck); ok && m.Version == version {
		if err := s.cache.Remove(ck); err != nil {
			s.log.Error("remove failed upload from cache", "bucket", ck.Bucket, "key", ck.Object, "err", err)
		}
	}
}

func infoFromMeta(m piececache.Meta) backend.ObjectInfo {
	return backend.ObjectInfo{
		Key:                m.Key.Object,
		Size:               m.Length,
		ETag:               m.ETag,
		Digest:             m.Digest,
		ContentType:        m.ContentType,
		ContentDisposition: m.ContentDisposition,
		ContentEncoding:    m.ContentEncoding,
		ContentLanguage:    m.ContentLanguage,
		StorageClass:       m.StorageClass,
		LastModified:       m.LastModified,
	}
}
