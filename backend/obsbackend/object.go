package obsbackend

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/dfcache/dfcache/backend"
)

// digestMeta is the user metadata name of the object digest.
const digestMeta = "digest"

// HeadObject returns the metadata of bucket/key. A missing bucket reads as
// backend.ErrNotFound, because a HEAD response carries no error code.
func (b *Backend) HeadObject(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	c, err := b.client(ctx)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	out, err := c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: bucket, Key: key})
	if err != nil {
		return backend.ObjectInfo{}, mapError("head object", bucket, key, err, backend.ErrNotFound)
	}
	info := objectInfo(key, out)
	info.Size = out.ContentLength
	return info, nil
}

// GetObject streams bucket/key, or the inclusive byte range rng of it. An
// unsatisfiable range fails with backend.ErrInvalidArgument.
func (b *Backend) GetObject(ctx context.Context, bucket, key string, rng *backend.Range) (io.ReadCloser, backend.ObjectInfo, error) {
	if rng != nil {
		if rng.Start < 0 || rng.End < rng.Start {
			return nil, backend.ObjectInfo{}, fmt.Errorf("obs get object %q: %w: range %d-%d must have 0 <= start <= end",
				bucket+"/"+key, backend.ErrInvalidArgument, rng.Start, rng.End)
		}
	}
	c, err := b.client(ctx)
	if err != nil {
		return nil, backend.ObjectInfo{}, err
	}
	input := &obs.GetObjectInput{}
	input.Bucket, input.Key = bucket, key
	var out *obs.GetObjectOutput
	if rng == nil {
		out, err = c.GetObject(input)
	} else {
		// The SDK's RangeStart and RangeEnd cannot ask for a single byte,
		// so the header is set directly.
		out, err = c.GetObject(input, obs.WithCustomHeader("Range", fmt.Sprintf("bytes=%d-%d", rng.Start, rng.End)))
	}
	if err != nil {
		return nil, backend.ObjectInfo{}, mapError("get object", bucket, key, err, backend.ErrNotFound)
	}
	info := objectInfo(key, &out.GetObjectMetadataOutput)
	info.Size = out.ContentLength
	if total, ok := contentRangeTotal(header(out.ResponseHeaders, "content-range")); ok {
		info.Size = total
	}
	return out.Body, info, nil
}

// PutObject stores size bytes from r: in one PUT below the multipart
// threshold, and in PartSize parts from it on. Parts are sent one at a time
// and streamed from r, so memory use does not depend on the object size.
// The returned info has no LastModified.
func (b *Backend) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (backend.ObjectInfo, error) {
	if size < 0 {
		return backend.ObjectInfo{}, fmt.Errorf("obs put object %q: %w: size %d is negative", bucket+"/"+key, backend.ErrInvalidArgument, size)
	}
	body, err := sizedReader(r, size)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("obs put object %q: %w", bucket+"/"+key, err)
	}
	c, err := b.client(ctx)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	var etag string
	if size < b.threshold {
		etag, err = putSingle(c, bucket, key, body, size, opts)
	} else {
		etag, err = b.putMultipart(ctx, c, bucket, key, body, size, opts)
	}
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	return backend.ObjectInfo{
		Key: key, Size: size, ETag: strings.Trim(etag, `"`), Digest: opts.Digest,
		ContentType: opts.ContentType, ContentDisposition: opts.ContentDisposition,
		ContentEncoding: opts.ContentEncoding, ContentLanguage: opts.ContentLanguage,
	}, nil
}

func putSingle(c *obs.ObsClient, bucket, key string, body io.Reader, size int64, opts backend.PutOptions) (string, error) {
	input := &obs.PutObjectInput{Body: body}
	input.ObjectOperationInput = operationInput(bucket, key, opts)
	input.HttpHeader = httpHeader(opts)
	input.ContentLength = size
	out, err := c.PutObject(input)
	if err != nil {
		return "", mapError("put object", bucket, key, err, backend.ErrBucketNotFound)
	}
	return out.ETag, nil
}

// DeleteObject removes bucket/key. A missing key is not an error, but a
// missing bucket is.
func (b *Backend) DeleteObject(ctx context.Context, bucket, key string) error {
	c, err := b.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.DeleteObject(&obs.DeleteObjectInput{Bucket: bucket, Key: key})
	if err != nil && codeOf(err) != "NoSuchKey" {
		return mapError("delete object", bucket, key, err, backend.ErrBucketNotFound)
	}
	return nil
}

// CopyObject copies srcKey to dstKey inside bucket on the server side,
// keeping the metadata, and returns the metadata of the copy.
func (b *Backend) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	c, err := b.client(ctx)
	if err != nil {
		return backend.ObjectInfo{}, err
	}
	input := &obs.CopyObjectInput{CopySourceBucket: bucket, CopySourceKey: srcKey, MetadataDirective: obs.CopyMetadata}
	input.Bucket, input.Key = bucket, dstKey
	if _, err := c.CopyObject(input); err != nil {
		return backend.ObjectInfo{}, mapError("copy object from "+srcKey+" to", bucket, dstKey, err, backend.ErrNotFound)
	}
	return b.HeadObject(ctx, bucket, dstKey)
}

func operationInput(bucket, key string, opts backend.PutOptions) obs.ObjectOperationInput {
	input := obs.ObjectOperationInput{Bucket: bucket, Key: key}
	if opts.Digest != "" {
		input.Metadata = map[string]string{digestMeta: opts.Digest}
	}
	return input
}

func httpHeader(opts backend.PutOptions) obs.HttpHeader {
	return obs.HttpHeader{
		ContentType: opts.ContentType, ContentDisposition: opts.ContentDisposition,
		ContentEncoding: opts.ContentEncoding, ContentLanguage: opts.ContentLanguage,
	}
}

// sizedReader returns a reader of exactly the next size bytes of r. An
// io.ReaderAt and io.Seeker becomes a section reader, which parts can read
// in place.
func sizedReader(r io.Reader, size int64) (io.Reader, error) {
	if size == 0 {
		return bytes.NewReader(nil), nil
	}
	ra, isReaderAt := r.(io.ReaderAt)
	seeker, isSeeker := r.(io.Seeker)
	if !isReaderAt || !isSeeker {
		return io.LimitReader(r, size), nil
	}
	offset, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("find reader offset: %w", err)
	}
	return io.NewSectionReader(ra, offset, size), nil
}

func objectInfo(key string, out *obs.GetObjectMetadataOutput) backend.ObjectInfo {
	info := backend.ObjectInfo{
		Key:                key,
		ETag:               strings.Trim(out.ETag, `"`),
		ContentType:        out.ContentType,
		ContentDisposition: out.ContentDisposition,
		ContentEncoding:    out.ContentEncoding,
		ContentLanguage:    out.ContentLanguage,
		StorageClass:       string(out.StorageClass),
	}
	for name, value := range out.Metadata {
		if strings.EqualFold(name, digestMeta) {
			info.Digest = value
		}
	}
	if !out.LastModified.IsZero() {
		info.LastModified = out.LastModified.UTC()
	}
	return info
}

// header returns the first value of a response header; the SDK stores the
// names in lower case without the x-obs- or x-amz- prefix.
func header(headers map[string][]string, name string) string {
	if values := headers[name]; len(values) > 0 {
		return values[0]
	}
	return ""
}

// contentRangeTotal returns the complete length from a Content-Range
// header such as "bytes 0-9/100".
func contentRangeTotal(value string) (int64, bool) {
	_, total, ok := strings.Cut(value, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}
