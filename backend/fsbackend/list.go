package fsbackend

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/dfcache/dfcache/backend"
)

// _defaultListLimit is the page size when ListOptions.Limit is 0, as in S3.
const _defaultListLimit = 1000

// ListObjects lists keys after opts.Marker in byte-wise lexicographic
// order, as S3 does. With a delimiter, keys that contain it after the
// prefix are rolled up into one common prefix each. A common prefix counts
// as one entry and sorts at the prefix itself, so one at or before the
// marker is not repeated. Any Limit is honoured, also above 1000.
func (b *Backend) ListObjects(_ context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	if err := checkBucket(bucket); err != nil {
		return backend.ListResult{}, err
	}
	if opts.Limit < 0 {
		return backend.ListResult{}, fmt.Errorf("list bucket %q: limit %d is negative: %w", bucket, opts.Limit, backend.ErrInvalidArgument)
	}
	if err := b.requireBucket(bucket); err != nil {
		return backend.ListResult{}, err
	}
	keys, err := b.collectKeys(bucket, opts.Prefix, opts.Marker)
	if err != nil {
		return backend.ListResult{}, fmt.Errorf("list bucket %q: %w", bucket, err)
	}
	return b.page(bucket, keys, opts), nil
}

// collectKeys returns the sorted keys of the bucket that start with prefix
// and sort after marker.
//
// TODO: this holds every matching key of the bucket in memory before
// sorting, so listing a bucket of millions of keys with a short prefix
// costs memory and time in proportion to the bucket, however small the
// page.
func (b *Backend) collectKeys(bucket, prefix, marker string) ([]string, error) {
	start := bucket
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = bucket + "/" + prefix[:i]
	}
	if !fs.ValidPath(start) {
		// No key has such a prefix ("a//b", "../x"); walk the bucket and
		// let the filter find nothing.
		start = bucket
	}
	var keys []string
	err := fs.WalkDir(b.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && isMissing(err) {
				return fs.SkipAll
			}
			return err
		}
		key := strings.TrimPrefix(p, bucket+"/")
		if d.IsDir() {
			if p != start && !dirMayMatch(key+"/", prefix, marker) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), _tmpPrefix) &&
			strings.HasPrefix(key, prefix) && key > marker {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return keys, nil
}

// dirMayMatch reports whether a directory whose keys all start with dir
// can hold a key that starts with prefix and sorts after marker.
func dirMayMatch(dir, prefix, marker string) bool {
	if !strings.HasPrefix(dir, prefix) && !strings.HasPrefix(prefix, dir) {
		return false
	}
	// Every key under dir sorts before marker when marker is greater than
	// dir without starting with it.
	return !(marker > dir && !strings.HasPrefix(marker, dir))
}

// page builds one listing page from sorted keys.
func (b *Backend) page(bucket string, keys []string, opts backend.ListOptions) backend.ListResult {
	limit := opts.Limit
	if limit == 0 {
		limit = _defaultListLimit
	}
	var res backend.ListResult
	lastPrefix := ""
	for _, key := range keys {
		commonPrefix := rollUp(key, opts.Prefix, opts.Delimiter)
		if commonPrefix != "" && (commonPrefix <= opts.Marker || commonPrefix == lastPrefix) {
			continue
		}
		if len(res.Objects)+len(res.CommonPrefixes) == limit {
			res.IsTruncated = true
			break
		}
		if commonPrefix != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix)
			lastPrefix, res.NextMarker = commonPrefix, commonPrefix
			continue
		}
		res.Objects = append(res.Objects, b.listedInfo(bucket, key))
		res.NextMarker = key
	}
	if !res.IsTruncated {
		res.NextMarker = ""
	}
	return res
}

// rollUp returns the common prefix key belongs to, or "" when the
// delimiter is empty or does not occur in key after prefix.
func rollUp(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return ""
	}
	return key[:len(prefix)+i+len(delimiter)]
}

// listedInfo returns the metadata of a listed key; a file removed since
// the walk is listed with its key alone.
func (b *Backend) listedInfo(bucket, key string) backend.ObjectInfo {
	fi, err := b.root.Stat(dataPath(bucket, key))
	if err != nil {
		return backend.ObjectInfo{Key: key}
	}
	return b.readMeta(bucket, key, fi).objectInfo(key)
}
