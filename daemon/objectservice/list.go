package objectservice

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
)

// List lists a bucket in the backend, with the objects whose write-back is
// still pending on this peer merged in, so a client sees its own writes.
func (s *Service) List(ctx context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	if opts.Limit <= 0 || opts.Limit > api.MaxListLimit {
		opts.Limit = api.MaxListLimit
	}
	res, err := s.backend.ListObjects(ctx, bucket, opts)
	if err != nil {
		return backend.ListResult{}, fmt.Errorf("list %s: %w", bucket, err)
	}
	s.fillDigests(bucket, res.Objects)
	pending, err := s.pendingInfos(bucket, opts)
	if err != nil {
		return backend.ListResult{}, err
	}
	if len(pending) == 0 {
		return res, nil
	}
	return mergeListing(res, pending, opts), nil
}

// fillDigests adds the digest to listed objects that this peer has cached,
// because S3 listings carry no user metadata.
//
// TODO: objects that are not cached here, or whose backend ETag is not
// their md5 (multipart uploads), are listed without a digest; HEAD has it.
func (s *Service) fillDigests(bucket string, objects []backend.ObjectInfo) {
	for i := range objects {
		o := &objects[i]
		if o.Digest != "" {
			continue
		}
		meta, ok := s.cache.Lookup(s.cacheKey(bucket, o.Key))
		if ok && meta.Length == o.Size && (meta.ETag == o.ETag || meta.Digest == "md5:"+o.ETag) {
			o.Digest = meta.Digest
		}
	}
}

// pendingInfos returns the pending objects of bucket that the listing
// options select, by key order.
func (s *Service) pendingInfos(bucket string, opts backend.ListOptions) ([]backend.ObjectInfo, error) {
	recs, err := s.queue.List()
	if err != nil {
		return nil, fmt.Errorf("read write-back queue: %w", err)
	}
	var infos []backend.ObjectInfo
	for _, r := range recs {
		if r.Bucket != bucket || !strings.HasPrefix(r.Key, opts.Prefix) || r.Key <= opts.Marker {
			continue
		}
		meta, ok := s.localVersion(s.cacheKey(bucket, r.Key))
		if !ok {
			continue
		}
		infos = append(infos, infoFromMeta(meta))
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	return infos, nil
}

// listEntry is an object or a common prefix, ordered by name.
type listEntry struct {
	name   string
	object *backend.ObjectInfo
}

func mergeListing(res backend.ListResult, pending []backend.ObjectInfo, opts backend.ListOptions) backend.ListResult {
	entries := map[string]listEntry{}
	for i := range res.Objects {
		o := res.Objects[i]
		entries[o.Key] = listEntry{name: o.Key, object: &o}
	}
	for _, p := range res.CommonPrefixes {
		entries[p] = listEntry{name: p}
	}
	// Pending keys past the backend page belong to a later page.
	last := lastName(res)
	for i := range pending {
		o := pending[i]
		name := o.Key
		if opts.Delimiter != "" {
			rest := strings.TrimPrefix(o.Key, opts.Prefix)
			if idx := strings.Index(rest, opts.Delimiter); idx >= 0 {
				name = opts.Prefix + rest[:idx+len(opts.Delimiter)]
			}
		}
		if res.IsTruncated && name > last {
			continue
		}
		if name == o.Key {
			entries[name] = listEntry{name: name, object: &o}
		} else if _, ok := entries[name]; !ok {
			entries[name] = listEntry{name: name}
		}
	}
	return pageOf(entries, opts.Limit, res.IsTruncated)
}

func lastName(res backend.ListResult) string {
	last := ""
	for _, o := range res.Objects {
		last = max(last, o.Key)
	}
	for _, p := range res.CommonPrefixes {
		last = max(last, p)
	}
	return last
}

func pageOf(entries map[string]listEntry, limit int, truncated bool) backend.ListResult {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var out backend.ListResult
	for i, n := range names {
		if i == limit {
			truncated = true
			break
		}
		e := entries[n]
		if e.object != nil {
			out.Objects = append(out.Objects, *e.object)
		} else {
			out.CommonPrefixes = append(out.CommonPrefixes, n)
		}
		out.NextMarker = n
	}
	out.IsTruncated = truncated
	if !truncated {
		out.NextMarker = ""
	}
	return out
}
