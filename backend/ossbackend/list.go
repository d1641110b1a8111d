package ossbackend

import (
	"context"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/dfcache/dfcache/backend"
)

// ListObjects lists keys after opts.Marker. A limit of 0 means 1000, the
// OSS maximum per request, rather than the OSS default of 100, so that all
// backends return pages of one size. A larger limit is served by requesting
// further pages until the limit is reached or the listing ends.
func (b *Backend) ListObjects(ctx context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	var out backend.ListResult
	marker := opts.Marker
	remaining := opts.Limit
	if remaining <= 0 {
		remaining = maxPageKeys
	}
	for {
		req := &oss.ListObjectsRequest{
			Bucket:    oss.Ptr(bucket),
			Prefix:    optional(opts.Prefix),
			Delimiter: optional(opts.Delimiter),
			Marker:    optional(marker),
			MaxKeys:   int32(min(remaining, maxPageKeys)),
		}
		page, err := b.client.ListObjects(ctx, req)
		if err != nil {
			return backend.ListResult{}, mapError("list objects", bucket, "", err)
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

func appendPage(out *backend.ListResult, page *oss.ListObjectsResult) {
	for _, obj := range page.Contents {
		info := backend.ObjectInfo{
			Key:          oss.ToString(obj.Key),
			Size:         obj.Size,
			ETag:         strings.Trim(oss.ToString(obj.ETag), `"`),
			StorageClass: oss.ToString(obj.StorageClass),
		}
		if obj.LastModified != nil {
			info.LastModified = obj.LastModified.UTC()
		}
		out.Objects = append(out.Objects, info)
	}
	for _, p := range page.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, oss.ToString(p.Prefix))
	}
}

// nextMarker returns where the next page starts. OSS sets NextMarker on
// truncated pages; the last key or prefix is the fallback.
func nextMarker(page *oss.ListObjectsResult) string {
	if m := oss.ToString(page.NextMarker); m != "" {
		return m
	}
	last := ""
	if n := len(page.Contents); n > 0 {
		last = oss.ToString(page.Contents[n-1].Key)
	}
	if n := len(page.CommonPrefixes); n > 0 {
		last = max(last, oss.ToString(page.CommonPrefixes[n-1].Prefix))
	}
	return last
}
