package s3backend

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/backend"
)

// _digestMetaKey is the user metadata name of the object digest; S3 sends
// it as the header x-amz-meta-digest.
const _digestMetaKey = "digest"

// HeadObject returns the object's metadata. S3 sends HEAD responses
// without a body, so a missing bucket also yields backend.ErrNotFound here.
func (b *Backend) HeadObject(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return backend.ObjectInfo{}, mapError(err, "head object %q in bucket %q", key, bucket)
	}
	return backend.ObjectInfo{
		Key:                key,
		Size:               aws.ToInt64(out.ContentLength),
		ETag:               trimETag(out.ETag),
		Digest:             metaValue(out.Metadata, _digestMetaKey),
		ContentType:        aws.ToString(out.ContentType),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		ContentLanguage:    aws.ToString(out.ContentLanguage),
		StorageClass:       string(out.StorageClass),
		LastModified:       aws.ToTime(out.LastModified),
	}, nil
}

// GetObject opens the object, or the bytes rng selects. An End past the
// last byte is clamped by S3; a negative Start or End before Start fails
// before any request, and a Start at or past the size fails with
// backend.ErrInvalidArgument.
func (b *Backend) GetObject(ctx context.Context, bucket, key string, rng *backend.Range) (io.ReadCloser, backend.ObjectInfo, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != nil {
		if rng.Start < 0 || rng.End < rng.Start {
			return nil, backend.ObjectInfo{}, fmt.Errorf("get object %q: invalid range bytes=%d-%d: %w", key, rng.Start, rng.End, backend.ErrInvalidArgument)
		}
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", rng.Start, rng.End))
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, backend.ObjectInfo{}, mapError(err, "get object %q in bucket %q", key, bucket)
	}
	info := backend.ObjectInfo{
		Key:                key,
		Size:               objectSize(aws.ToInt64(out.ContentLength), aws.ToString(out.ContentRange)),
		ETag:               trimETag(out.ETag),
		Digest:             metaValue(out.Metadata, _digestMetaKey),
		ContentType:        aws.ToString(out.ContentType),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		ContentLanguage:    aws.ToString(out.ContentLanguage),
		StorageClass:       string(out.StorageClass),
		LastModified:       aws.ToTime(out.LastModified),
	}
	return out.Body, info, nil
}

// objectSize returns the whole object's size: the total of a Content-Range
// ("bytes 0-9/1000") when present, else the body length.
func objectSize(contentLength int64, contentRange string) int64 {
	if i := strings.LastIndexByte(contentRange, '/'); i >= 0 {
		if total, err := strconv.ParseInt(contentRange[i+1:], 10, 64); err == nil {
			return total
		}
	}
	return contentLength
}

// CopyObject copies srcKey to dstKey in one server-side request, keeping
// the user metadata and content headers, and then reads the copy's
// metadata.
//
// TODO: S3 copies at most 5 GiB in one CopyObject; larger sources fail
// with ErrInvalidArgument until this uses UploadPartCopy.
func (b *Backend) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	_, err := b.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String(bucket),
		Key:        aws.String(dstKey),
		CopySource: aws.String(copySource(bucket, srcKey)),
	})
	if err != nil {
		return backend.ObjectInfo{}, mapError(err, "copy object %q to %q in bucket %q", srcKey, dstKey, bucket)
	}
	return b.HeadObject(ctx, bucket, dstKey)
}

// copySource formats the x-amz-copy-source value "bucket/key", with each
// key segment URL-escaped; '+' is escaped too, because servers decode it
// as a space.
func copySource(bucket, key string) string {
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	}
	return bucket + "/" + strings.Join(segments, "/")
}

// metaValue returns the user metadata value of name, whatever the case of
// the map key: SDKs and servers differ ("digest", "Digest").
func metaValue(meta map[string]string, name string) string {
	if v, ok := meta[name]; ok {
		return v
	}
	for k, v := range meta {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func trimETag(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }

// putInfo describes an object just written. LastModified is the local
// clock when the upload completed, which saves a HEAD request.
func putInfo(key string, size int64, etag *string, opts backend.PutOptions) backend.ObjectInfo {
	return backend.ObjectInfo{
		Key:                key,
		Size:               size,
		ETag:               trimETag(etag),
		Digest:             opts.Digest,
		ContentType:        opts.ContentType,
		ContentDisposition: opts.ContentDisposition,
		ContentEncoding:    opts.ContentEncoding,
		ContentLanguage:    opts.ContentLanguage,
		LastModified:       time.Now().UTC(),
	}
}
