package ossbackend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/dfcache/dfcache/backend"
)

// digestMeta is the user metadata name of the object digest; OSS sends it
// as the header x-oss-meta-digest.
const digestMeta = "digest"

// uploadParallelism is how many parts the uploader sends at once. The SDK
// uploader (v1.6.1) buffers a stream that is not an io.ReaderAt in a pool
// of uploadParallelism+1 parts, so such an upload holds at most
// (uploadParallelism+1) × PartSize bytes.
const uploadParallelism = 3

// HeadObject returns the metadata of bucket/key.
func (b *Backend) HeadObject(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	res, err := b.client.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return backend.ObjectInfo{}, mapError("head object", bucket, key, err)
	}
	info := objectInfo(key, res.Headers, res.Metadata)
	info.Size = res.ContentLength
	return info, nil
}

// GetObject streams bucket/key, or the inclusive byte range rng of it. An
// unsatisfiable range fails with backend.ErrInvalidArgument.
func (b *Backend) GetObject(ctx context.Context, bucket, key string, rng *backend.Range) (io.ReadCloser, backend.ObjectInfo, error) {
	req := &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}
	if rng != nil {
		if rng.Start < 0 || rng.End < rng.Start {
			return nil, backend.ObjectInfo{}, fmt.Errorf("oss get object %q: %w: range %d-%d must have 0 <= start <= end",
				bucket+"/"+key, backend.ErrInvalidArgument, rng.Start, rng.End)
		}
		req.Range = oss.Ptr(fmt.Sprintf("bytes=%d-%d", rng.Start, rng.End))
		// Without "standard", OSS ignores an unsatisfiable range and
		// returns the whole object.
		req.RangeBehavior = oss.Ptr("standard")
	}
	res, err := b.client.GetObject(ctx, req)
	if err != nil {
		return nil, backend.ObjectInfo{}, mapError("get object", bucket, key, err)
	}
	info := objectInfo(key, res.Headers, res.Metadata)
	info.Size = res.ContentLength
	if total, ok := contentRangeTotal(oss.ToString(res.ContentRange)); ok {
		info.Size = total
	}
	return res.Body, info, nil
}

// PutObject stores size bytes from r. Objects smaller than the multipart
// threshold go in one PUT. Larger ones go through the SDK uploader in
// PartSize parts, which sends a single PUT only when the object fits in one
// part. When r is an io.ReaderAt and io.Seeker, parts are read in place from
// its current offset. Other readers are buffered, with the bound given at
// uploadParallelism. The returned info has no LastModified.
func (b *Backend) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (backend.ObjectInfo, error) {
	if size < 0 {
		return backend.ObjectInfo{}, fmt.Errorf("oss put object %q: %w: size %d is negative", bucket+"/"+key, backend.ErrInvalidArgument, size)
	}
	body, err := sizedReader(r, size)
	if err != nil {
		return backend.ObjectInfo{}, fmt.Errorf("oss put object %q: %w", bucket+"/"+key, err)
	}
	req := putRequest(bucket, key, opts)
	var etag *string
	if size < b.threshold {
		req.Body = body
		req.ContentLength = oss.Ptr(size)
		res, putErr := b.client.PutObject(ctx, req)
		if putErr == nil {
			etag = res.ETag
		}
		err = putErr
	} else {
		uploader := b.client.NewUploader(func(o *oss.UploaderOptions) {
			o.PartSize = b.partSize
			o.ParallelNum = uploadParallelism
		})
		res, upErr := uploader.UploadFrom(ctx, req, body)
		if upErr == nil {
			etag = res.ETag
		}
		err = upErr
	}
	if err != nil {
		return backend.ObjectInfo{}, mapError("put object", bucket, key, err)
	}
	return backend.ObjectInfo{
		Key: key, Size: size, ETag: strings.Trim(oss.ToString(etag), `"`), Digest: opts.Digest,
		ContentType: opts.ContentType, ContentDisposition: opts.ContentDisposition,
		ContentEncoding: opts.ContentEncoding, ContentLanguage: opts.ContentLanguage,
	}, nil
}

// DeleteObject removes bucket/key. A missing key is not an error, but a
// missing bucket is.
func (b *Backend) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := b.client.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil && !isNoSuchKey(err) {
		return mapError("delete object", bucket, key, err)
	}
	return nil
}

// CopyObject copies srcKey to dstKey inside bucket on the server side,
// keeping the metadata, and returns the metadata of the copy.
func (b *Backend) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	_, err := b.client.CopyObject(ctx, &oss.CopyObjectRequest{
		Bucket:            oss.Ptr(bucket),
		Key:               oss.Ptr(dstKey),
		SourceKey:         oss.Ptr(srcKey),
		MetadataDirective: oss.Ptr("COPY"),
	})
	if err != nil {
		return backend.ObjectInfo{}, mapError("copy object from "+srcKey+" to", bucket, dstKey, err)
	}
	return b.HeadObject(ctx, bucket, dstKey)
}

func isNoSuchKey(err error) bool {
	var se *oss.ServiceError
	return errors.As(err, &se) && (se.Code == "NoSuchKey" || (se.StatusCode == http.StatusNotFound && se.Code != "NoSuchBucket"))
}

func putRequest(bucket, key string, opts backend.PutOptions) *oss.PutObjectRequest {
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)}
	if opts.Digest != "" {
		req.Metadata = map[string]string{digestMeta: opts.Digest}
	}
	req.ContentType = optional(opts.ContentType)
	req.ContentDisposition = optional(opts.ContentDisposition)
	req.ContentEncoding = optional(opts.ContentEncoding)
	if opts.ContentLanguage != "" {
		req.Headers = map[string]string{"Content-Language": opts.ContentLanguage}
	}
	return req
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sizedReader returns a reader of exactly the next size bytes of r. An
// io.ReaderAt and io.Seeker becomes a section reader, which the SDK can
// rewind for retries and read part by part without copying.
func sizedReader(r io.Reader, size int64) (io.Reader, error) {
	if size == 0 {
		// A reader with Len lets the SDK send Content-Length: 0 rather
		// than a chunked body.
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

func objectInfo(key string, h http.Header, meta map[string]string) backend.ObjectInfo {
	info := backend.ObjectInfo{
		Key:                key,
		ETag:               strings.Trim(h.Get("ETag"), `"`),
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		StorageClass:       h.Get("x-oss-storage-class"),
	}
	for name, value := range meta {
		if strings.EqualFold(name, digestMeta) {
			info.Digest = value
		}
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.LastModified = t.UTC()
	}
	return info
}

// contentRangeTotal returns the complete length from a Content-Range
// header such as "bytes 0-9/100".
func contentRangeTotal(header string) (int64, bool) {
	_, total, ok := strings.Cut(header, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}
