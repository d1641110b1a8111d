package piececache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// reserve counts n more staging bytes against the quota, evicting unpinned
// entries, least recently used first, when they do not fit. It evicts
// nothing and returns ErrQuotaExceeded when even evicting every unpinned
// entry would not make room.
func (c *Cache) reserve(n int64) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	victims, err := c.makeRoomLocked(n, "")
	if err == nil {
		c.used += n
	}
	c.mu.Unlock()
	c.evict(victims)
	return err
}

// release returns n reserved staging bytes.
func (c *Cache) release(n int64) {
	c.mu.Lock()
	c.used -= n
	c.mu.Unlock()
}

// makeRoomLocked removes from the index the least recently used unpinned
// entries, other than the object keep, needed to fit n more bytes in the
// quota, and returns them so that the caller deletes their files with no
// lock held. The caller holds c.mu.
func (c *Cache) makeRoomLocked(n int64, keep string) ([]*entry, error) {
	if c.quota == 0 || c.used+n <= c.quota {
		return nil, nil
	}
	need := c.used + n - c.quota
	var victims []*entry
	var freed int64
	for el := c.lru.Back(); el != nil && freed < need; el = el.Prev() {
		e := el.Value.(*entry)
		if e.pins > 0 || e.id == keep {
			continue
		}
		victims = append(victims, e)
		freed += e.size
	}
	if freed < need {
		return nil, fmt.Errorf("%w: %d more bytes do not fit in quota %d with %d bytes used and %d evictable; raise the quota or unpin entries",
			ErrQuotaExceeded, n, c.quota, c.used, freed)
	}
	for _, e := range victims {
		c.unindexLocked(e)
	}
	return victims, nil
}

// evictOverQuota evicts unpinned entries other than the object keep until
// usage is within the quota, or no more can be evicted.
func (c *Cache) evictOverQuota(keep string) {
	c.mu.Lock()
	var victims []*entry
	for el := c.lru.Back(); el != nil && c.quota > 0 && c.used > c.quota; {
		e := el.Value.(*entry)
		el = el.Prev()
		if e.pins == 0 && e.id != keep {
			c.unindexLocked(e)
			victims = append(victims, e)
		}
	}
	c.mu.Unlock()
	c.evict(victims)
}

// evict deletes the files of entries already removed from the index. Errors
// are logged because the entries are gone from the index either way.
func (c *Cache) evict(victims []*entry) {
	for _, e := range victims {
		if err := c.dropFiles(e); err != nil {
			c.log.Error("piece cache: delete evicted entry", "id", e.id, "err", err)
			continue
		}
		c.log.Debug("piece cache: evicted entry", "id", e.id, "bytes", e.size)
	}
}

// removeEntry removes the version dir of the object id from the index, if it
// is still current, and deletes its files.
func (c *Cache) removeEntry(id, dir string) error {
	c.mu.Lock()
	e := c.entries[id]
	if e == nil || e.dir != dir {
		c.mu.Unlock()
		return nil
	}
	c.unindexLocked(e)
	c.mu.Unlock()
	return c.dropFiles(e)
}

// dropFiles deletes the files of e, which is already out of the index, and
// then calls OnEvict. When a newer version has been published meanwhile,
// only e's version directory is deleted.
func (c *Cache) dropFiles(e *entry) error {
	mu := c.stripe(e.id)
	mu.Lock()
	err := c.deleteVersion(e.id, e.dir)
	mu.Unlock()
	if err != nil {
		return err
	}
	if c.onEvict != nil {
		c.onEvict(e.meta.clone())
	}
	return nil
}

// deleteVersion deletes version dir of the object id. When dir is current,
// the current file goes first, durably, so that a crash cannot bring the
// version back, and then the whole object directory. The caller holds the
// object's stripe lock.
func (c *Cache) deleteVersion(id, dir string) error {
	objDir := c.objectDir(id)
	current, err := readCurrent(objDir)
	if err != nil {
		return err
	}
	if current != dir {
		return removeAll(filepath.Join(objDir, dir))
	}
	err = os.Remove(filepath.Join(objDir, currentFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove current version: %w", err)
	}
	if err := syncDir(objDir); err != nil {
		return err
	}
	return removeAll(objDir)
}

func removeAll(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove files: %w", err)
	}
	return nil
}
