package fsbackend

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dfcache/dfcache/backend"
)

// HeadObject returns the object's metadata.
func (b *Backend) HeadObject(_ context.Context, bucket, key string) (backend.ObjectInfo, error) {
	f, m, err := b.open(bucket, key)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	f.Close()
	return m.objectInfo(key), nil
}

// GetObject opens the object, or the bytes rng selects. An End past the
// last byte is clamped to it, as S3 does. A negative Start, an End before
// Start, or a Start at or past the size fails with
// backend.ErrInvalidArgument.
func (b *Backend) GetObject(_ context.Context, bucket, key string, rng *backend.Range) (io.ReadCloser, backend.ObjectInfo, error) {
	f, m, err := b.open(bucket, key)
	if err != nil {
		return nil, backend.ObjectInfo{}, err
	}
	info := m.objectInfo(key)
	if rng == nil {
		return f, info, nil
	}
	if rng.Start < 0 || rng.End < rng.Start || rng.Start >= m.Size {
		f.Close()
		return nil, backend.ObjectInfo{}, fmt.Errorf("get object %q: range bytes=%d-%d does not fit the object's %d bytes: %w",
			key, rng.Start, rng.End, m.Size, backend.ErrInvalidArgument)
	}
	end := min(rng.End, m.Size-1)
	section := io.NewSectionReader(f, rng.Start, end-rng.Start+1)
	return struct {
		io.Reader
		io.Closer
	}{section, f}, info, nil
}

// open opens the object's file and reads its metadata under the key's
// lock, so both belong to the same put.
func (b *Backend) open(bucket, key string) (*os.File, metadata, error) {
	if err := checkObject(bucket, key); err != nil {
		return nil, metadata{}, err
	}
	unlock := b.lockKey(bucket, key)
	defer unlock()
	f, err := b.root.Open(dataPath(bucket, key))
	if err != nil {
		return nil, metadata{}, b.missingError(bucket, key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, metadata{}, b.missingError(bucket, key, err)
	}
	return f, b.readMeta(bucket, key, fi), nil
}

// missingError maps a failed open to ErrBucketNotFound, ErrNotFound (also
// for a directory, which is a key prefix and not an object) or itself.
func (b *Backend) missingError(bucket, key string, err error) error {
	if err != nil && !isMissing(err) {
		return fmt.Errorf("open object %q in bucket %q: %w", key, bucket, err)
	}
	if bucketErr := b.requireBucket(bucket); bucketErr != nil {
		return bucketErr
	}
	return fmt.Errorf("object %q in bucket %q: %w", key, bucket, backend.ErrNotFound)
}

// DeleteObject removes the object's file and metadata, then any
// directories left empty. A missing object is not an error.
func (b *Backend) DeleteObject(_ context.Context, bucket, key string) error {
	if err := checkObject(bucket, key); err != nil {
		return err
	}
	if err := b.requireBucket(bucket); err != nil {
		return err
	}
	if err := b.remove(bucket, key); err != nil {
		return fmt.Errorf("delete object %q in bucket %q: %w", key, bucket, err)
	}
	b.pruneDirs(bucket, parentDir(dataPath(bucket, key)))
	b.pruneDirs(metaBucketDir(bucket), parentDir(metaPath(bucket, key)))
	return nil
}

func (b *Backend) remove(bucket, key string) error {
	unlock := b.lockKey(bucket, key)
	defer unlock()
	p := dataPath(bucket, key)
	if fi, err := b.root.Lstat(p); err != nil || fi.IsDir() {
		return nil // missing, or a prefix of other keys
	}
	if err := b.root.Remove(p); err != nil && !isMissing(err) {
		return err
	}
	if err := b.root.Remove(metaPath(bucket, key)); err != nil && !isMissing(err) {
		return err
	}
	return nil
}

// pruneDirs removes dir and its parents up to, not including, top while
// they are empty. Failures only leave empty directories behind.
func (b *Backend) pruneDirs(top, dir string) {
	for dir != top && dir != "." {
		if err := b.root.Remove(dir); err != nil {
			return
		}
		dir = parentDir(dir)
	}
}

// CopyObject streams srcKey into dstKey with the same content headers and
// digest. Copying a key onto itself changes nothing.
func (b *Backend) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	if err := checkKey(dstKey); err != nil {
		return backend.ObjectInfo{}, err
	}
	f, m, err := b.open(bucket, srcKey)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("copy source: %w", err)
	}
	defer f.Close()
	if srcKey == dstKey {
		return m.objectInfo(dstKey), nil
	}
	copied, err := b.put(ctx, bucket, dstKey, f, m.Size, m.putOptions())
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("copy object %q to %q in bucket %q: %w", srcKey, dstKey, bucket, err)
	}
	return copied.objectInfo(dstKey), nil
}
