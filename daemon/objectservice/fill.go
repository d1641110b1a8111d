package objectservice

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
)

// fill is a download of one object version into the cache, from the
// backend or from other peers. Readers follow the cache writer, so
// concurrent GETs of an uncached object cause one download.
type fill struct {
	version string
	source  string
	w       *piececache.Writer

	mu  sync.Mutex // guards err
	err error      // cause of a failed fetch, for the readers
}

func (f *fill) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fill) cause() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// PlanFunc decides where a fill reads from; see Cluster.PlanFetch.
type PlanFunc func(ctx context.Context, v Version, w *piececache.Writer) (source string, fetch FetchFunc, err error)

// Fill starts filling the cache with v from the source plan picks, unless
// this peer already holds or is fetching v. It returns without waiting
// for the bytes.
func (s *Service) Fill(ctx context.Context, v Version, plan PlanFunc) error {
	ck := s.cacheKey(v.Bucket, v.Key)
	if meta, ok := s.cache.Lookup(ck); ok && meta.Version == v.Version {
		return nil
	}
	_, err := s.startFill(ctx, ck, v, plan)
	return err
}

// startFill joins the fill of v or starts one with plan.
func (s *Service) startFill(ctx context.Context, ck piececache.Key, v Version, plan PlanFunc) (*fill, error) {
	s.fillMu.Lock()
	defer s.fillMu.Unlock()
	if f, ok := s.fills[ck]; ok && f.version == v.Version {
		return f, nil
	}
	w, err := s.cache.Create(ck)
	if err != nil {
		return nil, fmt.Errorf("stage download: %w", err)
	}
	source, fetch, err := plan(ctx, v, w)
	if err != nil {
		w.Abort()
		return nil, err
	}
	f := &fill{version: v.Version, source: source, w: w}
	s.fills[ck] = f
	go s.runFill(ck, v, f, fetch)
	return f, nil
}

// runFill copies the object into the cache. It runs on its own context: a
// client that goes away does not stop the fill others may be following.
func (s *Service) runFill(ck piececache.Key, v Version, f *fill, fetch FetchFunc) {
	defer func() {
		s.fillMu.Lock()
		if s.fills[ck] == f {
			delete(s.fills, ck)
		}
		s.fillMu.Unlock()
	}()
	start := time.Now()
	if err := fetch(context.Background(), f.w); err != nil {
		f.setErr(fmt.Errorf("download %s/%s from %s: %w", ck.Bucket, ck.Object, f.source, err))
		f.w.Abort()
		s.log.Error("download failed", "bucket", ck.Bucket, "key", ck.Object, "source", f.source, "err", err)
		return
	}
	meta := metaFromInfo(v.Info, v.Version)
	meta.Ephemeral = v.Pending
	meta, err := f.w.Commit(meta, piececache.CommitOptions{})
	if err != nil {
		s.log.Error("commit download to cache failed", "bucket", ck.Bucket, "key", ck.Object, "err", err)
		return
	}
	s.markChecked(ck)
	s.published(meta, v.Pending, 0)
	s.log.Info("object cached", "bucket", ck.Bucket, "key", ck.Object, "source", f.source, "size", meta.Length, "duration", time.Since(start))
}

func errShortBackendRead(got, want int64) error {
	return fmt.Errorf("backend sent %d bytes, but its metadata gives a size of %d", got, want)
}

// metaFromInfo builds the cache metadata of a backend object. When the
// backend stored a digest, Commit checks the downloaded bytes against it.
func metaFromInfo(info backend.ObjectInfo, version string) piececache.Meta {
	return piececache.Meta{
		Version:            version,
		Digest:             info.Digest,
		ETag:               info.ETag,
		LastModified:       info.LastModified,
		ContentType:        info.ContentType,
		ContentDisposition: info.ContentDisposition,
		ContentEncoding:    info.ContentEncoding,
		ContentLanguage:    info.ContentLanguage,
		StorageClass:       info.StorageClass,
	}
}
