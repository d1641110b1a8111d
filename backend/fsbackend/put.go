package fsbackend

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/digest"
)

// PutObject streams exactly size bytes from r into a temporary file beside
// the object, syncs it, writes the metadata the same way, and renames both
// into place. The ETag is the hex md5 of the bytes. When opts.Digest is an
// md5 digest that does not match the bytes, nothing is stored and the
// error wraps backend.ErrInvalidArgument. A body shorter than size fails
// with io.ErrUnexpectedEOF; bytes after size are not read.
//
// A crash between the two renames leaves the new bytes with the previous
// metadata; HeadObject then reports the file's size and time alone unless
// the sizes happen to match.
func (b *Backend) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (backend.ObjectInfo, error) {
	if err := checkObject(bucket, key); err != nil {
		return backend.ObjectInfo{}, err
	}
	if size < 0 {
		return backend.ObjectInfo{}, fmt.Errorf("put object %q: size %d is negative: %w", key, size, backend.ErrInvalidArgument)
	}
	if err := b.requireBucket(bucket); err != nil {
		return backend.ObjectInfo{}, err
	}
	m, err := b.put(ctx, bucket, key, r, size, opts)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("put object %q in bucket %q: %w", key, bucket, err)
	}
	return m.objectInfo(key), nil
}

func (b *Backend) put(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (metadata, error) {
	dataTmp, etag, err := b.writeData(ctx, bucket, key, r, size)
	if err != nil {
		return metadata{}, err
	}
	defer b.root.Remove(dataTmp) // fails harmlessly once renamed

	if err := checkDigest(opts.Digest, etag); err != nil {
		return metadata{}, err
	}
	m := metadata{
		Size:               size,
		ETag:               etag,
		Digest:             opts.Digest,
		ContentType:        opts.ContentType,
		ContentDisposition: opts.ContentDisposition,
		ContentEncoding:    opts.ContentEncoding,
		ContentLanguage:    opts.ContentLanguage,
		LastModified:       time.Now().UTC().Truncate(time.Millisecond),
	}
	metaTmp, err := b.writeMetaTemp(bucket, key, m)
	if err != nil {
		return metadata{}, err
	}
	defer b.root.Remove(metaTmp)

	if err := b.publish(bucket, key, dataTmp, metaTmp); err != nil {
		return metadata{}, err
	}
	return m, nil
}

// writeData copies the body into a synced temporary file in the object's
// directory and returns its name and the hex md5 of its bytes.
func (b *Backend) writeData(ctx context.Context, bucket, key string, r io.Reader, size int64) (string, string, error) {
	dir := parentDir(dataPath(bucket, key))
	hash := digest.NewMD5()
	fill := func(w io.Writer) error {
		n, err := io.Copy(io.MultiWriter(w, hash), &ctxReader{ctx: ctx, r: io.LimitReader(r, size)})
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if n < size {
			return fmt.Errorf("body ended after %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
		}
		return nil
	}
	name, err := b.writeTemp(bucket, key, dir, fill)
	if err != nil {
		return "", "", err
	}
	return name, hex.EncodeToString(hash.Sum(nil)), nil
}

// checkDigest rejects an md5 digest that differs from the computed md5.
// Digests of other algorithms are stored unchecked.
func checkDigest(want, etag string) error {
	algo, _, _ := strings.Cut(want, ":")
	if !strings.EqualFold(algo, digest.MD5) {
		return nil
	}
	if got := digest.MD5 + ":" + etag; !strings.EqualFold(want, got) {
		return fmt.Errorf("digest %s does not match the uploaded bytes (%s): %w", want, got, backend.ErrInvalidArgument)
	}
	return nil
}

// publish renames the temporary data and metadata files into place under
// the key's lock, after checking that neither target is a directory.
func (b *Backend) publish(bucket, key, dataTmp, metaTmp string) error {
	dataDst, metaDst := dataPath(bucket, key), metaPath(bucket, key)
	unlock := b.lockKey(bucket, key)
	defer unlock()
	for _, dst := range []string{dataDst, metaDst} {
		if fi, err := b.root.Lstat(dst); err == nil && fi.IsDir() {
			return clashError(bucket, key, fs.ErrExist)
		}
	}
	if err := b.root.Rename(dataTmp, dataDst); err != nil {
		return fmt.Errorf("rename data file: %w", err)
	}
	if err := b.root.Rename(metaTmp, metaDst); err != nil {
		return fmt.Errorf("rename metadata file: %w", err)
	}
	if err := b.syncDir(parentDir(dataDst)); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	if err := b.syncDir(parentDir(metaDst)); err != nil {
		return fmt.Errorf("sync metadata directory: %w", err)
	}
	return nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
