package piececache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/dfcache/dfcache/digest"
)

// On-disk layout under the cache directory:
//
//	objects/<id[0:2]>/<id>/current            name of the current version directory
//	objects/<id[0:2]>/<id>/<vhash>-<nonce>/   data and meta.json of one version
//	staging/<random>/                         data and meta.json of a write in progress
//
// id is the sha256 hex of the key, vhash the sha256 hex of the version. The
// nonce lets a new write of the same version be published beside the old one.
const (
	dataFile    = "data"
	metaFile    = "meta.json"
	currentFile = "current"
	metaFormat  = 1
)

// storedMeta is the content of meta.json.
type storedMeta struct {
	Format int
	Meta   Meta
}

// identity returns the sha256 hex of key. Each field is length-prefixed, so
// different keys never encode to the same string.
func identity(key Key) string {
	var b strings.Builder
	for _, s := range []string{key.Backend, key.Bucket, key.Object} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// newVersionDir returns a fresh version directory name for version.
func newVersionDir(version string) string {
	sum := sha256.Sum256([]byte(version))
	nonce := make([]byte, 8)
	rand.Read(nonce)
	return hex.EncodeToString(sum[:]) + "-" + hex.EncodeToString(nonce)
}

func (c *Cache) objectsDir() string { return filepath.Join(c.dir, "objects") }
func (c *Cache) stagingDir() string { return filepath.Join(c.dir, "staging") }

// objectDir returns the directory of all versions of the object with id.
func (c *Cache) objectDir(id string) string {
	return filepath.Join(c.objectsDir(), id[:2], id)
}

// stripe returns the lock that serializes changes to the object directory of id.
func (c *Cache) stripe(id string) *sync.Mutex {
	n, _ := strconv.ParseUint(id[:2], 16, 8)
	return &c.stripes[n]
}

// syncDir fsyncs a directory so that renames and new entries in it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// writeFileSync writes data to path, fsyncs it and returns its size.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeMeta stores m as meta.json in dir, fsynced, and returns the file size.
func writeMeta(dir string, m Meta) (int64, error) {
	data, err := json.Marshal(storedMeta{Format: metaFormat, Meta: m})
	if err != nil {
		return 0, fmt.Errorf("encode metadata: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, metaFile), data); err != nil {
		return 0, fmt.Errorf("write metadata: %w", err)
	}
	return int64(len(data)), nil
}

// readCurrent returns the version directory named by the current file of
// objDir, or "" when there is none.
func readCurrent(objDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(objDir, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read current version: %w", err)
	}
	name := string(b)
	if !validVersionDir(name) {
		return "", fmt.Errorf("invalid current version %q in %s", name, objDir)
	}
	return name, nil
}

// writeCurrent atomically makes versionDir the current version of objDir.
func writeCurrent(objDir, versionDir string) error {
	tmp := filepath.Join(objDir, currentFile+".tmp")
	if err := writeFileSync(tmp, []byte(versionDir)); err != nil {
		return fmt.Errorf("write current version: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(objDir, currentFile)); err != nil {
		return fmt.Errorf("publish current version: %w", err)
	}
	return syncDir(objDir)
}

func validVersionDir(name string) bool {
	hash, nonce, ok := strings.Cut(name, "-")
	return ok && isHex(hash, 64) && isHex(nonce, 16)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// checkMeta reports whether m is a consistent entry for the object id.
func checkMeta(m Meta, id string) error {
	if identity(m.Key) != id {
		return errors.New("key does not match directory")
	}
	if m.PieceSize <= 0 || m.PieceSize > MaxPieceSize || m.Length < 0 {
		return fmt.Errorf("invalid piece size %d or length %d", m.PieceSize, m.Length)
	}
	if want := pieceCount(m.Length, m.PieceSize); int64(len(m.Pieces)) != want {
		return fmt.Errorf("%d piece digests, want %d", len(m.Pieces), want)
	}
	if len(m.PieceCRCs) != 0 && len(m.PieceCRCs) != len(m.Pieces) {
		return fmt.Errorf("%d piece CRCs for %d pieces", len(m.PieceCRCs), len(m.Pieces))
	}
	for _, p := range m.Pieces {
		if !strings.HasPrefix(p, digest.SHA256+":") {
			return fmt.Errorf("invalid piece digest %q", p)
		}
		if _, err := digest.Parse(p); err != nil {
			return err
		}
	}
	if m.Version == "" {
		return errors.New("empty version")
	}
	return nil
}

func pieceCount(length, pieceSize int64) int64 {
	return (length + pieceSize - 1) / pieceSize
}
