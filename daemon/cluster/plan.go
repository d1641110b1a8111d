package cluster

import (
	"context"
	"fmt"
	"io"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/peer/download"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// LatestPending requests from the scheduler the newest version of a key that
// has not reached the backend. When the scheduler cannot be reached the
// read goes on with the backend's version, so pending writes of other
// peers are not seen meanwhile.
func (c *Cluster) LatestPending(ctx context.Context, bucket, key string) (objectservice.Version, bool) {
	t, found, err := c.sched.StatObject(ctx, c.cfg.BackendID, bucket, key)
	if err != nil {
		c.log.Warn("scheduler unreachable, reading the backend's version", "bucket", bucket, "key", key, "err", err)
		return objectservice.Version{}, false
	}
	if !found || !t.GetPending() {
		return objectservice.Version{}, false
	}
	return versionOfTask(t), true
}

// PlanFetch requests from the scheduler the parents to read v from.
func (c *Cluster) PlanFetch(ctx context.Context, v objectservice.Version, w *piececache.Writer) (string, objectservice.FetchFunc, error) {
	t := c.taskOf(v)
	c.track(t.GetId(), w.Key(), v.Version, v.Info.Size, w)
	resp, err := c.sched.FindParents(ctx, c.cfg.HostID, t)
	if err != nil {
		c.untrack(t.GetId(), w)
		if v.Pending {
			return "", nil, fmt.Errorf("find peers holding %s/%s: %w", v.Bucket, v.Key, err)
		}
		c.log.Warn("scheduler unreachable, reading from the backend", "bucket", v.Bucket, "key", v.Key, "err", err)
		return api.SourceBackend, c.svc.BackendFetch(v), nil
	}
	parents := resp.GetParents()
	if v.Pending {
		// Only a complete holder can serve a version the backend lacks: a
		// peer still fetching it may wait for a holder that is gone.
		parents = completeParents(parents)
	}
	switch resp.GetAction() {
	case schedulerpb.Action_ACTION_FOLLOW_PARENTS:
		if len(parents) == 0 {
			break
		}
		if !v.Pending {
			c.announce(ctx, t, false)
		}
		return sourceOf(parents), c.peerFetch(t, v, parents), nil
	case schedulerpb.Action_ACTION_FETCH_FROM_BACKEND:
		if v.Pending {
			break
		}
		return api.SourceBackend, c.svc.BackendFetch(v), nil
	}
	c.untrack(t.GetId(), w)
	return "", nil, fmt.Errorf("%s/%s version %s is not in the backend yet and no live peer holds all of it; "+
		"it becomes readable when its writer or a seed peer with a copy finishes the upload, retry later: %w",
		v.Bucket, v.Key, v.Version, backend.ErrRetryable)
}

func completeParents(parents []*schedulerpb.Parent) []*schedulerpb.Parent {
	var out []*schedulerpb.Parent
	for _, p := range parents {
		if p.GetComplete() {
			out = append(out, p)
		}
	}
	return out
}

// peerFetch downloads t from parents, falling back to backend range reads
// for pieces no parent delivers, unless the backend does not have t yet.
func (c *Cluster) peerFetch(t *schedulerpb.Task, v objectservice.Version, parents []*schedulerpb.Parent) objectservice.FetchFunc {
	return func(ctx context.Context, w io.Writer) error {
		var fallback download.Fallback
		if !v.Pending {
			fallback = func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
				return c.svc.BackendRange(ctx, v.Bucket, v.Key, off, n)
			}
		}
		stats, err := c.dl.Download(ctx, t, parents, w, fallback)
		if err != nil && v.Pending {
			err = fmt.Errorf("%w: the version is not in the backend yet and its holders failed, retry later: %w", err, backend.ErrRetryable)
		}
		c.log.Debug("download from peers", "bucket", v.Bucket, "key", v.Key, "peerBytes", stats.PeerBytes,
			"seedPeerBytes", stats.SeedPeerBytes, "backendBytes", stats.BackendBytes, "retried", stats.PiecesRetried)
		return err
	}
}

// Published announces a committed version and, for new writes, pushes
// replicas to seed peers in the background.
func (c *Cluster) Published(meta piececache.Meta, pending bool, maxReplicas int) {
	c.index(meta)
	t := c.taskOfMeta(meta, pending, maxReplicas)
	c.announce(context.Background(), t, true)
	if maxReplicas > 0 {
		go c.replicate(meta, t, maxReplicas)
	}
}

// Persisted reports to the scheduler that the backend has a version now.
func (c *Cluster) Persisted(bucket, key, version string) {
	meta, ok := c.cache.Lookup(piececache.Key{Backend: c.cfg.BackendID, Bucket: bucket, Object: key})
	if !ok || meta.Version != version {
		return
	}
	c.announce(context.Background(), c.taskOfMeta(meta, false, 0), true)
}

// Deleted requests that the scheduler make every other holder drop the key.
func (c *Cluster) Deleted(bucket, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), _announceTimeout)
	defer cancel()
	if err := c.sched.DeleteObject(ctx, c.cfg.HostID, c.cfg.BackendID, bucket, key); err != nil {
		c.log.Warn("report delete to scheduler failed; other peers keep their copies until they check the backend",
			"bucket", bucket, "key", key, "err", err)
	}
}

// Evicted withdraws a version the cache dropped.
func (c *Cluster) Evicted(meta piececache.Meta) {
	t := c.taskOfMeta(meta, false, 0)
	c.untrack(t.GetId(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), _announceTimeout)
	defer cancel()
	if err := c.sched.WithdrawTask(ctx, c.cfg.HostID, t); err != nil {
		c.log.Debug("withdraw task failed", "bucket", meta.Key.Bucket, "key", meta.Key.Object, "err", err)
	}
}
