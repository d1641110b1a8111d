package obsbackend

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/dfcache/dfcache/backend"
)

// maxParts is the most parts one OBS multipart upload may have.
const maxParts = 10000

// abortTimeout bounds the request that abandons a failed upload, which runs
// even when the caller's context has ended.
const abortTimeout = 30 * time.Second

// putMultipart uploads size bytes from body in parts of b.partSize, grown
// when needed to stay within maxParts, and aborts the upload when a part
// fails so the store keeps no orphaned parts.
func (b *Backend) putMultipart(ctx context.Context, c *obs.ObsClient, bucket, key string, body io.Reader, size int64, opts backend.PutOptions) (string, error) {
	initInput := &obs.InitiateMultipartUploadInput{ObjectOperationInput: operationInput(bucket, key, opts), HttpHeader: httpHeader(opts)}
	initiated, err := c.InitiateMultipartUpload(initInput)
	if err != nil {
		return "", mapError("initiate multipart upload", bucket, key, err, backend.ErrBucketNotFound)
	}
	parts, err := uploadParts(c, bucket, key, initiated.UploadId, body, size, partSizeFor(size, b.partSize))
	if err == nil {
		var done *obs.CompleteMultipartUploadOutput
		done, err = c.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: initiated.UploadId, Parts: parts})
		if err == nil {
			return done.ETag, nil
		}
		err = mapError("complete multipart upload", bucket, key, err, backend.ErrNotFound)
	}
	b.abort(ctx, bucket, key, initiated.UploadId)
	return "", err
}

// uploadParts sends the parts in order, each read straight from body.
func uploadParts(c *obs.ObsClient, bucket, key, uploadID string, body io.Reader, size, partSize int64) ([]obs.Part, error) {
	parts := make([]obs.Part, 0, (size+partSize-1)/partSize)
	for offset, number := int64(0), 1; offset < size; number++ {
		n := min(partSize, size-offset)
		out, err := c.UploadPart(&obs.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: uploadID, PartNumber: number,
			Body: io.LimitReader(body, n), PartSize: n,
		})
		if err != nil {
			return nil, mapError("upload part "+strconv.Itoa(number), bucket, key, err, backend.ErrNotFound)
		}
		parts = append(parts, obs.Part{PartNumber: number, ETag: out.ETag})
		offset += n
	}
	return parts, nil
}

// partSizeFor returns the configured part size, or a larger one when size
// would need more than maxParts parts.
func partSizeFor(size, configured int64) int64 {
	if minimum := (size + maxParts - 1) / maxParts; minimum > configured {
		return minimum
	}
	return configured
}

// abort abandons an upload. Its failure is not returned, because the upload
// has already failed with a more useful error.
func (b *Backend) abort(ctx context.Context, bucket, key, uploadID string) {
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	c, err := b.client(abortCtx)
	if err == nil {
		// TODO: an upload whose abort fails keeps its parts until a bucket
		// lifecycle rule removes them; nothing here retries the abort.
		_, _ = c.AbortMultipartUpload(&obs.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: uploadID})
	}
}
