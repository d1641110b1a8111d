package objectservice

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/writeback"
)

// Uploader copies cached versions to the backend. It is the write-back
// queue's uploader and the WriteBack mode's upload step.
type Uploader struct {
	backend   backend.Backend
	backendID string
	cache     *piececache.Cache
}

// NewUploader returns an uploader from cache c to backend b.
func NewUploader(b backend.Backend, c *piececache.Cache) *Uploader {
	return &Uploader{backend: b, backendID: b.Info().ID(), cache: c}
}

// Upload puts r.Version of the object into the backend, reading it from the
// cache with every piece checked. It skips the upload when the backend
// already holds an object with the same digest and size, so retries and
// duplicate records are harmless.
func (u *Uploader) Upload(ctx context.Context, r writeback.Record) error {
	info, err := u.backend.HeadObject(ctx, r.Bucket, r.Key)
	if err == nil && info.Digest == r.Digest && info.Size == r.Size {
		return nil
	}
	if err != nil && !errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("head %s/%s: %w", r.Bucket, r.Key, err)
	}

	ck := piececache.Key{Backend: u.backendID, Bucket: r.Bucket, Object: r.Key}
	obj, err := u.cache.Open(ck, r.Version)
	if err != nil {
		// TODO: a version lost from the cache (corruption) is retried
		// forever; it needs an operator-visible dead-letter state instead.
		return fmt.Errorf("open cached %s/%s version %s: %w", r.Bucket, r.Key, r.Version, err)
	}
	defer obj.Close()
	meta := obj.Meta()
	body := io.NewSectionReader(obj, 0, meta.Length)
	opts := backend.PutOptions{
		Digest:             r.Digest,
		ContentType:        meta.ContentType,
		ContentDisposition: meta.ContentDisposition,
		ContentEncoding:    meta.ContentEncoding,
		ContentLanguage:    meta.ContentLanguage,
	}
	if _, err := u.backend.PutObject(ctx, r.Bucket, r.Key, body, meta.Length, opts); err != nil {
		return fmt.Errorf("put %s/%s: %w", r.Bucket, r.Key, err)
	}
	return nil
}
