package piececache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// publishLocked moves the fsynced staging directory into the object
// directory, makes it the current version, swaps the index entry and
// deletes the replaced version. The caller holds w.mu.
func (w *Writer) publishLocked(m Meta, metaSize int64, pin bool) error {
	c := w.c
	objDir := c.objectDir(w.id)
	versionDir := newVersionDir(m.Version)
	mu := c.stripe(w.id)
	mu.Lock()
	defer mu.Unlock()

	if err := makeObjectDir(objDir); err != nil {
		return err
	}
	old, err := readCurrent(objDir)
	if err != nil {
		c.log.Warn("piece cache: replacing unreadable current version", "id", w.id, "err", err)
	}
	if err := os.Rename(w.dir, filepath.Join(objDir, versionDir)); err != nil {
		return fmt.Errorf("publish version: %w", err)
	}
	if err := writeCurrent(objDir, versionDir); err != nil {
		os.RemoveAll(filepath.Join(objDir, versionDir))
		return err
	}

	e := &entry{id: w.id, dir: versionDir, meta: m, size: m.Length + metaSize}
	c.replaceEntry(e, w.written, pin)
	if old != "" && old != versionDir {
		if err := os.RemoveAll(filepath.Join(objDir, old)); err != nil {
			c.log.Error("piece cache: remove replaced version", "id", w.id, "err", err)
		}
	}
	w.dir = filepath.Join(objDir, versionDir)
	w.state = committed
	c.dropInflight(w)
	w.notifyLocked()
	return nil
}

// replaceEntry indexes e in place of the object's previous entry and turns
// the staging reservation of e's bytes into e's size. Pins carry over when
// the previous entry has the same version.
func (c *Cache) replaceEntry(e *entry, reserved int64, pin bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.entries[e.id]; prev != nil {
		if prev.meta.Version == e.meta.Version {
			e.pins = prev.pins
		}
		c.unindexLocked(prev)
	}
	if pin {
		e.pins++
	}
	c.used -= reserved
	c.indexLocked(e)
}

// makeObjectDir creates objDir and fsyncs its parents when it is new, so
// that its entry survives a crash.
func makeObjectDir(objDir string) error {
	_, err := os.Stat(objDir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat object directory: %w", err)
	}
	if err := os.MkdirAll(objDir, 0o700); err != nil {
		return fmt.Errorf("create object directory: %w", err)
	}
	prefixDir := filepath.Dir(objDir)
	if err := syncDir(prefixDir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(prefixDir))
}
