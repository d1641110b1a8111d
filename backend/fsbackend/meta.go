package fsbackend

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dfcache/dfcache/backend"
)

// metadata is the JSON document stored beside each object.
type metadata struct {
	Size               int64     `json:"size"`
	ETag               string    `json:"etag"`
	Digest             string    `json:"digest,omitempty"`
	ContentType        string    `json:"contentType,omitempty"`
	ContentDisposition string    `json:"contentDisposition,omitempty"`
	ContentEncoding    string    `json:"contentEncoding,omitempty"`
	ContentLanguage    string    `json:"contentLanguage,omitempty"`
	LastModified       time.Time `json:"lastModified"`
}

func (m metadata) objectInfo(key string) backend.ObjectInfo {
	return backend.ObjectInfo{
		Key:                key,
		Size:               m.Size,
		ETag:               m.ETag,
		Digest:             m.Digest,
		ContentType:        m.ContentType,
		ContentDisposition: m.ContentDisposition,
		ContentEncoding:    m.ContentEncoding,
		ContentLanguage:    m.ContentLanguage,
		LastModified:       m.LastModified,
	}
}

func (m metadata) putOptions() backend.PutOptions {
	return backend.PutOptions{
		Digest:             m.Digest,
		ContentType:        m.ContentType,
		ContentDisposition: m.ContentDisposition,
		ContentEncoding:    m.ContentEncoding,
		ContentLanguage:    m.ContentLanguage,
	}
}

// readMeta returns the metadata of the object whose data file is fi. It
// trusts the JSON only when its size matches the data file, because a
// crash between the two renames of a put can pair new data with old
// metadata. Otherwise, and when the JSON is missing (as for files copied
// into the tree by hand), it returns the size and time of the file alone.
func (b *Backend) readMeta(bucket, key string, fi os.FileInfo) metadata {
	fallback := metadata{Size: fi.Size(), LastModified: fi.ModTime().UTC()}
	raw, err := b.root.ReadFile(metaPath(bucket, key))
	if err != nil {
		return fallback
	}
	var m metadata
	if err := json.Unmarshal(raw, &m); err != nil || m.Size != fi.Size() {
		return fallback
	}
	return m
}

// createTemp creates a new temporary file in the directory dir (relative
// to the root), creating dir first. A concurrent delete may remove dir
// between the two steps, so it tries a few times. The caller closes the
// file and removes it unless it renamed it.
func (b *Backend) createTemp(bucket, key, dir string) (*os.File, string, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = b.root.MkdirAll(dir, 0o755); err != nil {
			if isClash(err) {
				return nil, "", clashError(bucket, key, err)
			}
			return nil, "", fmt.Errorf("create directory: %w", err)
		}
		var random [8]byte
		_, _ = rand.Read(random[:])
		name := dir + "/" + _tmpPrefix + hex.EncodeToString(random[:])
		var f *os.File
		f, err = b.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			return f, name, nil
		}
		if !isMissing(err) {
			break
		}
	}
	return nil, "", fmt.Errorf("create temporary file: %w", err)
}

// writeTemp writes a new temporary file in dir with the bytes of fill and
// syncs it. It returns the file's name relative to the root; on error the
// file is already removed.
func (b *Backend) writeTemp(bucket, key, dir string, fill func(io.Writer) error) (string, error) {
	f, name, err := b.createTemp(bucket, key, dir)
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		_ = b.root.Remove(name)
		return "", err
	}
	return name, nil
}

// writeMetaTemp writes m into a temporary file beside the object's
// metadata path.
func (b *Backend) writeMetaTemp(bucket, key string, m metadata) (string, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	name, err := b.writeTemp(bucket, key, parentDir(metaPath(bucket, key)), func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("write metadata: %w", err)
	}
	return name, nil
}

// syncDir makes a rename in dir (relative to the root) durable.
func (b *Backend) syncDir(dir string) error {
	d, err := b.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	if errors.Is(err, os.ErrInvalid) {
		// Some file systems cannot sync a directory. The rename is done
		// and visible, only less durable.
		return nil
	}
	return err
}
