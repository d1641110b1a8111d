package piececache

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// load clears the staging directory and indexes every object directory with
// a valid current version, removing what a crash or a replaced version left
// behind.
func (c *Cache) load() error {
	if err := os.RemoveAll(c.stagingDir()); err != nil {
		return fmt.Errorf("clear staging directory: %w", err)
	}
	if err := os.Mkdir(c.stagingDir(), 0o700); err != nil {
		return fmt.Errorf("create staging directory: %w", err)
	}
	prefixes, err := os.ReadDir(c.objectsDir())
	if err != nil {
		return fmt.Errorf("read objects directory: %w", err)
	}
	var found []*entry
	for _, p := range prefixes {
		if !p.IsDir() || !isHex(p.Name(), 2) {
			c.log.Warn("piece cache: ignored unknown file", "path", filepath.Join(c.objectsDir(), p.Name()))
			continue
		}
		objs, err := os.ReadDir(filepath.Join(c.objectsDir(), p.Name()))
		if err != nil {
			return fmt.Errorf("read objects directory: %w", err)
		}
		for _, o := range objs {
			if e := c.loadObject(p.Name(), o); e != nil {
				found = append(found, e)
			}
		}
	}
	// The oldest commit becomes the least recently used entry.
	slices.SortFunc(found, func(a, b *entry) int { return a.meta.CreatedAt.Compare(b.meta.CreatedAt) })
	for _, e := range found {
		c.indexLocked(e)
	}
	return nil
}

// loadObject returns the entry of one object directory, or nil when it has no
// valid current version, in which case the directory is removed.
func (c *Cache) loadObject(prefix string, o os.DirEntry) *entry {
	id := o.Name()
	objDir := filepath.Join(c.objectsDir(), prefix, id)
	if !o.IsDir() || !isHex(id, 64) || id[:2] != prefix {
		c.log.Warn("piece cache: ignored unknown file", "path", objDir)
		return nil
	}
	e, err := c.readEntry(id)
	if err != nil {
		c.log.Warn("piece cache: removed object without a valid current version", "path", objDir, "err", err)
		if err := os.RemoveAll(objDir); err != nil {
			c.log.Error("piece cache: remove invalid object", "path", objDir, "err", err)
		}
		return nil
	}
	c.removeStale(objDir, e.dir)
	return e
}

// readEntry reads and checks the current version of the object id.
func (c *Cache) readEntry(id string) (*entry, error) {
	objDir := c.objectDir(id)
	dir, err := readCurrent(objDir)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, fmt.Errorf("no current version")
	}
	raw, err := os.ReadFile(filepath.Join(objDir, dir, metaFile))
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	var sm storedMeta
	if err := json.Unmarshal(raw, &sm); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	if sm.Format != metaFormat {
		return nil, fmt.Errorf("metadata format %d, want %d", sm.Format, metaFormat)
	}
	if err := checkMeta(sm.Meta, id); err != nil {
		return nil, fmt.Errorf("invalid metadata: %w", err)
	}
	st, err := os.Stat(filepath.Join(objDir, dir, dataFile))
	if err != nil {
		return nil, fmt.Errorf("stat data: %w", err)
	}
	if st.Size() != sm.Meta.Length {
		return nil, fmt.Errorf("data file has %d bytes, metadata says %d", st.Size(), sm.Meta.Length)
	}
	return &entry{id: id, dir: dir, meta: sm.Meta, size: st.Size() + int64(len(raw))}, nil
}

// removeStale deletes everything in objDir but the current file and the
// current version directory.
func (c *Cache) removeStale(objDir, current string) {
	children, err := os.ReadDir(objDir)
	if err != nil {
		c.log.Error("piece cache: read object directory", "path", objDir, "err", err)
		return
	}
	for _, ch := range children {
		if ch.Name() == currentFile || ch.Name() == current {
			continue
		}
		if err := os.RemoveAll(filepath.Join(objDir, ch.Name())); err != nil {
			c.log.Error("piece cache: remove stale version", "path", objDir, "err", err)
		}
	}
}
