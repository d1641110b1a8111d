package objectservice

import (
	"context"
	"io"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/piececache"
)

// Cluster connects a Service to the other peers through the scheduler. A
// standalone peer has none: it reads misses from the backend and its
// writes stay visible on this peer only until they reach the backend.
type Cluster interface {
	// LatestPending returns the newest version of a key that some peer
	// holds and whose backend upload has not finished, if there is one.
	LatestPending(ctx context.Context, bucket, key string) (Version, bool)
	// PlanFetch decides where the bytes of v come from, before any byte is
	// sent, and returns that source (an api.Source value) and a function
	// that writes the object in order into w. w is also what other peers
	// read from while the fetch runs.
	PlanFetch(ctx context.Context, v Version, w *piececache.Writer) (source string, fetch FetchFunc, err error)
	// Published reports a version committed to this peer's cache. pending
	// is true while the backend does not have it; maxReplicas > 0 asks for
	// copies on that many seed peers.
	Published(meta piececache.Meta, pending bool, maxReplicas int)
	// Persisted reports that the backend now holds a version.
	Persisted(bucket, key, version string)
	// Deleted reports that a key was deleted, so other holders drop it.
	Deleted(bucket, key string)
}

// Version is one version of an object as the cluster records it.
type Version struct {
	Bucket, Key, Version string
	Info                 backend.ObjectInfo
	// Pending is true while the backend does not have this version.
	Pending bool
}

// FetchFunc writes an object's bytes in order into w.
type FetchFunc func(ctx context.Context, w io.Writer) error

// planFetch requests from the cluster the source of v, or reads it from the
// backend on a standalone peer.
func (s *Service) planFetch(ctx context.Context, v Version, w *piececache.Writer) (string, FetchFunc, error) {
	if s.opts.Cluster != nil {
		return s.opts.Cluster.PlanFetch(ctx, v, w)
	}
	return api.SourceBackend, s.BackendFetch(v), nil
}

// BackendFetch returns a FetchFunc that reads v whole from the backend.
func (s *Service) BackendFetch(v Version) FetchFunc {
	return func(ctx context.Context, w io.Writer) error {
		rc, _, err := s.backend.GetObject(ctx, v.Bucket, v.Key, nil)
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err := io.Copy(w, rc)
		if err != nil {
			return err
		}
		if n != v.Info.Size {
			return errShortBackendRead(n, v.Info.Size)
		}
		return nil
	}
}

// BackendRange reads n bytes at off of an object from the backend, for
// pieces that no peer could deliver.
func (s *Service) BackendRange(ctx context.Context, bucket, key string, off, n int64) (io.ReadCloser, error) {
	rc, _, err := s.backend.GetObject(ctx, bucket, key, &backend.Range{Start: off, End: off + n - 1})
	return rc, err
}

func (s *Service) published(meta piececache.Meta, pending bool, maxReplicas int) {
	if s.opts.Cluster != nil {
		s.opts.Cluster.Published(meta, pending, maxReplicas)
	}
}
