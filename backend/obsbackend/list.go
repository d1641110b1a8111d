package obsbackend

import (
	"context"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/dfcache/dfcache/backend"
)

// maxPageKeys is the largest max-keys one OBS ListObjects request accepts.
const maxPageKeys = 1000

// ListObjects lists keys after opts.Marker. A limit of 0 means one page of
// 1000 keys, the OBS maximum per request. A larger limit is served by
// requesting further pages until the limit is reached or the listing ends.
func (b *Backend) ListObjects(ctx context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	c, err := b.client(ctx)
	if err != nil {
		return backend.ListResult{}, err
	}
	var out backend.ListResult
	marker := opts.Marker
	remaining := opts.Limit
	if remaining <= 0 {
		remaining = maxPageKeys
	}
	for {
		input := &obs.ListObjectsInput{Bucket: bucket, Marker: marker}
		input.Prefix, input.Delimiter, input.MaxKeys = opts.Prefix, opts.Delimiter, min(remaining, maxPageKeys)
		page, err := c.ListObjects(input)
		if err != nil {
			return backend.ListResult{}, mapError("list objects", bucket, "", err, backend.ErrBucketNotFound)
		}
		appendPage(&out, page)
		out.IsTruncated = page.IsTruncated
		out.NextMarker = nextMarker(page)
		remaining -= len(page.Contents) + len(page.CommonPrefixes)
		if !page.IsTruncated || remaining <= 0 || out.NextMarker == "" {
			break
		}
		marker = out.NextMarker
	}
	if !out.IsTruncated {
		out.NextMarker = ""
	}
	return out, nil
}

func appendPage(out *backend.ListResult, page *obs.ListObjectsOutput) {
	for _, obj := range page.Contents {
		out.Objects = append(out.Objects, backend.ObjectInfo{
			Key:          obj.Key,
			Size:         obj.Size,
			ETag:         strings.Trim(obj.ETag, `"`),
			StorageClass: string(obj.StorageClass),
			LastModified: obj.LastModified.UTC(),
		})
	}
	out.CommonPrefixes = append(out.CommonPrefixes, page.CommonPrefixes...)
}

// nextMarker returns where the next page starts: NextMarker when OBS sets
// it, else the last key or prefix of the page.
func nextMarker(page *obs.ListObjectsOutput) string {
	if page.NextMarker != "" {
		return page.NextMarker
	}
	last := ""
	if n := len(page.Contents); n > 0 {
		last = page.Contents[n-1].Key
	}
	if n := len(page.CommonPrefixes); n > 0 {
		last = max(last, page.CommonPrefixes[n-1])
	}
	return last
}
