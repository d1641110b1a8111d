package cluster

import (
	"context"
	"fmt"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/peer/upload"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// The methods below serve the scheduler's control requests (see package
// upload). Work that takes long runs in the background after they return.

// Prefetch starts fetching a task from the backend; this peer is a seed
// peer that the scheduler chose for a first read.
func (c *Cluster) Prefetch(ctx context.Context, t *schedulerpb.Task) error {
	if err := c.checkTask(t); err != nil {
		return err
	}
	v := versionOfTask(t)
	return c.svc.Fill(ctx, v, func(_ context.Context, v objectservice.Version, w *piececache.Writer) (string, objectservice.FetchFunc, error) {
		c.track(t.GetId(), w.Key(), v.Version, v.Info.Size, w)
		return api.SourceBackend, c.svc.BackendFetch(v), nil
	})
}

// Replicate copies a task from the given holders.
func (c *Cluster) Replicate(ctx context.Context, req *schedulerpb.ReplicateRequest) error {
	t := req.GetTask()
	if err := c.checkTask(t); err != nil {
		return err
	}
	parents := make([]*schedulerpb.Parent, 0, len(req.GetSources()))
	for _, h := range req.GetSources() {
		if h.GetId() != c.cfg.HostID {
			parents = append(parents, &schedulerpb.Parent{Host: h, Complete: true})
		}
	}
	if len(parents) == 0 {
		return fmt.Errorf("replicate %s/%s: no source other than this host: %w", t.GetBucket(), t.GetKey(), upload.ErrInvalid)
	}
	v := versionOfTask(t)
	return c.svc.Fill(ctx, v, func(_ context.Context, v objectservice.Version, w *piececache.Writer) (string, objectservice.FetchFunc, error) {
		c.track(t.GetId(), w.Key(), v.Version, v.Info.Size, w)
		return sourceOf(parents), c.peerFetch(t, v, parents), nil
	})
}

// WriteBack takes over the backend upload of a task whose writer is gone.
func (c *Cluster) WriteBack(_ context.Context, t *schedulerpb.Task) error {
	if err := c.checkTask(t); err != nil {
		return err
	}
	if err := c.svc.TakeOverWriteBack(t.GetBucket(), t.GetKey(), t.GetVersion()); err != nil {
		return fmt.Errorf("%w: %w", upload.ErrNotFound, err)
	}
	return nil
}

// Delete drops a key another peer deleted.
func (c *Cluster) Delete(ctx context.Context, req *schedulerpb.DeleteObjectRequest) error {
	if req.GetBackendId() != c.cfg.BackendID {
		return fmt.Errorf("delete for backend %q, this peer uses %q: %w", req.GetBackendId(), c.cfg.BackendID, upload.ErrInvalid)
	}
	return c.svc.DropLocal(ctx, req.GetBucket(), req.GetKey())
}

func (c *Cluster) checkTask(t *schedulerpb.Task) error {
	if t.GetBackendId() != c.cfg.BackendID {
		return fmt.Errorf("task for backend %q, this peer uses %q: %w", t.GetBackendId(), c.cfg.BackendID, upload.ErrInvalid)
	}
	return nil
}
