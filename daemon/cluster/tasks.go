package cluster

import (
	"fmt"

	"github.com/dfcache/dfcache/peer/upload"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/taskid"
)

// track records a task being fetched into w.
func (c *Cluster) track(id string, key piececache.Key, version string, length int64, w *piececache.Writer) {
	c.mu.Lock()
	c.tasks[id] = &taskRef{key: key, version: version, length: length, w: w}
	c.mu.Unlock()
}

// untrack forgets a task, or only its fetch into w when w is not nil.
func (c *Cluster) untrack(id string, w *piececache.Writer) {
	c.mu.Lock()
	if ref, ok := c.tasks[id]; ok && (w == nil || ref.w == w) {
		delete(c.tasks, id)
	}
	c.mu.Unlock()
}

// index records a committed version.
func (c *Cluster) index(m piececache.Meta) {
	id := taskid.New(c.cfg.BackendID, m.Key.Bucket, m.Key.Object, m.Version)
	c.mu.Lock()
	c.tasks[id] = &taskRef{key: m.Key, version: m.Version, length: m.Length}
	c.mu.Unlock()
}

// OpenTask serves the upload server: a committed version from the cache,
// or a fetch in progress from its writer.
func (c *Cluster) OpenTask(id string) (upload.Task, error) {
	c.mu.Lock()
	ref, ok := c.tasks[id]
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, upload.ErrNotFound)
	}
	if ref.w != nil && !ref.w.Committed() {
		return upload.FromWriter(ref.w, ref.length), nil
	}
	obj, err := c.cache.Open(ref.key, ref.version)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", id, upload.ErrNotFound)
	}
	return upload.FromObject(obj), nil
}
