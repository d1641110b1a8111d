package objectservice

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
)

// fill is a download of one object version from the backend into the
// cache. Readers follow the cache writer, so concurrent GETs of an
// uncached object cause one backend read.
type fill struct {
	version string
	w       *piececache.Writer
}

// startFill joins the fill of info's version of ck or starts one.
func (s *Service) startFill(ck piececache.Key, info backend.ObjectInfo) (*fill, error) {
	version := versionOf(info)
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.fills[ck]; ok && f.version == version {
		return f, nil
	}
	w, err := s.cache.Create(ck)
	if err != nil {
		return nil, fmt.Errorf("stage download: %w", err)
	}
	f := &fill{version: version, w: w}
	s.fills[ck] = f
	go s.runFill(ck, info, f)
	return f, nil
}

// runFill copies the object from the backend into the cache. It runs on
// its own context: a client that goes away does not stop the fill others
// may be following.
func (s *Service) runFill(ck piececache.Key, info backend.ObjectInfo, f *fill) {
	defer func() {
		s.mu.Lock()
		if s.fills[ck] == f {
			delete(s.fills, ck)
		}
		s.mu.Unlock()
	}()
	start := time.Now()
	if err := s.download(ck, f, info.Size); err != nil {
		f.w.Abort()
		s.log.Error("download from backend failed", "bucket", ck.Bucket, "key", ck.Object, "err", err)
		return
	}
	meta := metaFromInfo(info, f.version)
	if _, err := f.w.Commit(meta, piececache.CommitOptions{}); err != nil {
		s.log.Error("commit download to cache failed", "bucket", ck.Bucket, "key", ck.Object, "err", err)
		return
	}
	s.markChecked(ck)
	s.log.Info("object cached from backend", "bucket", ck.Bucket, "key", ck.Object, "size", info.Size, "duration", time.Since(start))
}

func (s *Service) download(ck piececache.Key, f *fill, size int64) error {
	rc, _, err := s.backend.GetObject(context.Background(), ck.Bucket, ck.Object, nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := io.Copy(f.w, rc)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("backend sent %d bytes, its metadata says %d", n, size)
	}
	return nil
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
