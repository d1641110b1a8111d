package s3backend

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dfcache/dfcache/backend"
)

// _maxPage is the most entries S3 returns for one ListObjectsV2 request.
const _maxPage = 1000

// ListObjects lists keys with ListObjectsV2, starting after opts.Marker,
// and sends as many requests as a Limit above 1000 needs; Limit 0 means
// 1000. Objects and common prefixes count together against the limit. S3
// does not list user metadata, so Digest is empty in the result.
func (b *Backend) ListObjects(ctx context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	if opts.Limit < 0 {
		return backend.ListResult{}, fmt.Errorf("list bucket %q: limit %d is negative: %w", bucket, opts.Limit, backend.ErrInvalidArgument)
	}
	limit := opts.Limit
	if limit == 0 {
		limit = _maxPage
	}
	in := &s3.ListObjectsV2Input{
		Bucket:     aws.String(bucket),
		Prefix:     optional(opts.Prefix),
		Delimiter:  optional(opts.Delimiter),
		StartAfter: optional(opts.Marker),
	}
	var res backend.ListResult
	for {
		in.MaxKeys = aws.Int32(int32(min(limit-entries(res), _maxPage)))
		out, err := b.client.ListObjectsV2(ctx, in)
		if err != nil {
			return backend.ListResult{}, mapBucketError(err, "list bucket %q", bucket)
		}
		full := addPage(&res, out, opts.Marker, limit)
		more := aws.ToBool(out.IsTruncated) && aws.ToString(out.NextContinuationToken) != ""
		if full || !more {
			res.IsTruncated = full && (more || res.IsTruncated)
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res, nil
}

func entries(res backend.ListResult) int { return len(res.Objects) + len(res.CommonPrefixes) }

// addPage merges one response's objects and common prefixes into res in
// key order, up to limit entries. It skips common prefixes at or before
// marker, which some servers repeat when StartAfter is a common prefix. It
// returns true when res is full, and sets res.IsTruncated when the page
// had entries left over.
func addPage(res *backend.ListResult, out *s3.ListObjectsV2Output, marker string, limit int) bool {
	objects, prefixes := out.Contents, out.CommonPrefixes
	for len(objects)+len(prefixes) > 0 {
		takePrefix := len(objects) == 0 ||
			(len(prefixes) > 0 && aws.ToString(prefixes[0].Prefix) < aws.ToString(objects[0].Key))
		if takePrefix {
			p := aws.ToString(prefixes[0].Prefix)
			prefixes = prefixes[1:]
			if p <= marker {
				continue
			}
			if entries(*res) == limit {
				res.IsTruncated = true
				return true
			}
			res.CommonPrefixes = append(res.CommonPrefixes, p)
			res.NextMarker = p
			continue
		}
		if entries(*res) == limit {
			res.IsTruncated = true
			return true
		}
		res.Objects = append(res.Objects, listedInfo(objects[0]))
		res.NextMarker = aws.ToString(objects[0].Key)
		objects = objects[1:]
	}
	return entries(*res) == limit
}

func listedInfo(o types.Object) backend.ObjectInfo {
	return backend.ObjectInfo{
		Key:          aws.ToString(o.Key),
		Size:         aws.ToInt64(o.Size),
		ETag:         trimETag(o.ETag),
		StorageClass: string(o.StorageClass),
		LastModified: aws.ToTime(o.LastModified),
	}
}
