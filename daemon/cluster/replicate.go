package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// _replicaTimeout bounds one replica push.
const _replicaTimeout = 30 * time.Minute

// replicate pushes a committed version to up to n seed peers in parallel,
// streaming from the cache. A seed peer that refuses or fails is replaced
// by the next candidate the scheduler listed.
func (c *Cluster) replicate(meta piececache.Meta, t *schedulerpb.Task, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), _replicaTimeout)
	defer cancel()
	targets, err := c.sched.FindReplicaTargets(ctx, c.cfg.HostID, t, n)
	if err != nil {
		c.log.Warn("find replica targets failed", "bucket", meta.Key.Bucket, "key", meta.Key.Object, "err", err)
		return
	}
	candidates := make(chan *schedulerpb.Host, len(targets))
	for _, h := range targets {
		candidates <- h
	}
	close(candidates)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []string
	for range min(n, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range candidates {
				if err := c.push(ctx, meta, h); err != nil {
					c.log.Warn("replica push failed, trying the next seed peer", "seed", h.GetId(), "key", meta.Key.Object, "err", err)
					continue
				}
				mu.Lock()
				done = append(done, h.GetId())
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	c.log.Info("replicas placed", "bucket", meta.Key.Bucket, "key", meta.Key.Object, "want", n, "placed", len(done), "seeds", done)
}

// push uploads one replica to a seed peer's object API as an Ephemeral
// write, so the seed checks the digest like any upload.
func (c *Cluster) push(ctx context.Context, meta piececache.Meta, h *schedulerpb.Host) error {
	endpoint := "http://" + net.JoinHostPort(h.GetIp(), strconv.Itoa(int(h.GetObjectPort())))
	cl, err := client.New(endpoint, client.WithHTTPClient(c.pushClient))
	if err != nil {
		return fmt.Errorf("seed peer endpoint: %w", err)
	}
	obj, err := c.cache.Open(meta.Key, meta.Version)
	if err != nil {
		return fmt.Errorf("open cached copy: %w", err)
	}
	defer obj.Close()
	body := io.NewSectionReader(obj, 0, meta.Length)
	_, err = cl.PutObject(ctx, meta.Key.Bucket, meta.Key.Object, body, client.PutObjectOptions{Mode: api.Ephemeral, MaxReplicas: 1})
	return err
}
