// Package fsbackend stores objects as plain files in a local directory. It
// serves single hosts, tests and development; it registers itself as "fs".
//
// Layout under the root directory (Config.Endpoint):
//
//	<root>/<bucket>/<key>               object bytes
//	<root>/.meta/<bucket>/<key>.json    metadata (content headers, digest, ETag)
//
// Bucket names cannot start with '.', so ".meta" never clashes with a
// bucket. Every file operation goes through an os.Root, so neither a key
// nor a symbolic link inside the tree can reach a file outside root.
package fsbackend

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/dfcache/dfcache/backend"
)

// Name is the backend name this package registers.
const Name = "fs"

func init() {
	backend.Register(Name, func(cfg backend.Config) (backend.Backend, error) {
		return New(cfg)
	})
}

// _lockStripes is the number of mutexes that serialise publishing (renaming
// data and metadata into place) and reading of objects with the same key.
const _lockStripes = 64

// Backend is a backend.Backend on a local directory. Writes are atomic per
// file: bytes and metadata are each written to a temporary file, synced and
// renamed into place.
type Backend struct {
	dir   string
	root  *os.Root
	locks [_lockStripes]sync.Mutex
}

var _ backend.Backend = (*Backend)(nil)

// New opens the directory cfg.Endpoint, creating it when missing. The
// Backend keeps the directory open until the process ends.
func New(cfg backend.Config) (*Backend, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("fs backend: endpoint is missing: set it to the directory that contains the buckets: %w", backend.ErrInvalidArgument)
	}
	dir, err := filepath.Abs(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("fs backend: resolve directory %q: %w", cfg.Endpoint, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, _metaDir), 0o755); err != nil {
		return nil, fmt.Errorf("fs backend: create directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("fs backend: open directory: %w", err)
	}
	return &Backend{dir: dir, root: root}, nil
}

// Info returns Name "fs" and the absolute root directory as Endpoint.
func (b *Backend) Info() backend.Info {
	return backend.Info{Name: Name, Endpoint: b.dir}
}

// CreateBucket creates the bucket's directories; an existing bucket is not
// an error.
func (b *Backend) CreateBucket(_ context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	for _, dir := range []string{bucket, metaBucketDir(bucket)} {
		if err := b.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create bucket %q: %w", bucket, err)
		}
	}
	return nil
}

// HeadBucket returns an error wrapping backend.ErrBucketNotFound when the
// bucket's directory is missing.
func (b *Backend) HeadBucket(_ context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	return b.requireBucket(bucket)
}

func (b *Backend) requireBucket(bucket string) error {
	fi, err := b.root.Stat(bucket)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return fmt.Errorf("bucket %q: %w", bucket, backend.ErrBucketNotFound)
	}
	if err != nil {
		return fmt.Errorf("stat bucket %q: %w", bucket, err)
	}
	return nil
}

// lockKey locks the stripe of bucket/key and returns its unlock function.
func (b *Backend) lockKey(bucket, key string) func() {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	m := &b.locks[h.Sum32()%_lockStripes]
	m.Lock()
	return m.Unlock
}
