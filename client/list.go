package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/dfcache/dfcache/api"
)

// ListObjectsOptions select the entries of a listing.
type ListObjectsOptions struct {
	Prefix string
	// Marker starts the listing after this key.
	Marker string
	// Delimiter, such as "/", rolls up the keys that contain it after the
	// prefix into CommonPrefixes.
	Delimiter string
	// Limit is the maximum number of entries per page, keys and common
	// prefixes together. 0 means api.MaxListLimit, and larger values are
	// capped at it.
	Limit int
}

// ListObjects returns one page of the objects of bucket.
func (c *Client) ListObjects(ctx context.Context, bucket string, opts ListObjectsOptions) (api.ListResponse, error) {
	if err := api.ValidateBucket(bucket); err != nil {
		return api.ListResponse{}, err
	}
	if opts.Limit < 0 {
		return api.ListResponse{}, fmt.Errorf("invalid list limit %d: must be 0 (for %d) or more", opts.Limit, api.MaxListLimit)
	}
	rt := bucketRoute(bucket)
	rt.escapedPath += "/metadatas"
	req, err := c.newRequest(ctx, http.MethodGet, rt, listQuery(opts), nil)
	if err != nil {
		return api.ListResponse{}, err
	}
	var page api.ListResponse
	if err := c.getJSON(req, rt, &page); err != nil {
		return api.ListResponse{}, err
	}
	return page, nil
}

// listQuery always sends limit, because a Dragonfly v2.1 peer returns an
// empty list when the request has none.
func listQuery(opts ListObjectsOptions) url.Values {
	limit := opts.Limit
	if limit == 0 || limit > api.MaxListLimit {
		limit = api.MaxListLimit
	}
	query := url.Values{"limit": {strconv.Itoa(limit)}}
	for name, value := range map[string]string{"prefix": opts.Prefix, "marker": opts.Marker, "delimiter": opts.Delimiter} {
		if value != "" {
			query.Set(name, value)
		}
	}
	return query
}

// WalkObjects calls fn for every entry of bucket that opts selects, in key
// order, requesting page after page until the listing ends. With a
// delimiter, each common prefix is passed as an entry whose Key is the
// prefix and whose other fields are zero. Walking stops at the first error
// fn returns, and WalkObjects returns it.
//
// The next page starts at the page's NextMarker or, when a full page came
// back without one (Dragonfly v2.1 peers never send it), at the page's
// last entry.
func (c *Client) WalkObjects(ctx context.Context, bucket string, opts ListObjectsOptions, fn func(api.ObjectMetadata) error) error {
	pageSize := opts.Limit
	if pageSize == 0 || pageSize > api.MaxListLimit {
		pageSize = api.MaxListLimit
	}
	last := opts.Marker
	for {
		page, err := c.ListObjects(ctx, bucket, opts)
		if err != nil {
			return err
		}
		entries := pageEntries(page)
		for _, entry := range entries {
			// A common prefix can come back on the next page, because
			// the marker is its first key.
			if last != "" && entry.Key <= last {
				continue
			}
			if err := fn(entry); err != nil {
				return err
			}
			last = entry.Key
		}
		next := nextMarker(page, pageSize)
		if next == "" {
			return nil
		}
		if next <= opts.Marker {
			return fmt.Errorf("list dfs://%s: the listing did not advance past marker %q; the peer returned the same page again", bucket, opts.Marker)
		}
		opts.Marker = next
	}
}

// nextMarker returns where the page after page starts, or "" after the
// last page.
func nextMarker(page api.ListResponse, pageSize int) string {
	if page.NextMarker != "" {
		return page.NextMarker
	}
	if len(page.Metadatas)+len(page.CommonPrefixes) < pageSize {
		return ""
	}
	var lastKey, lastPrefix string
	if n := len(page.Metadatas); n > 0 {
		lastKey = page.Metadatas[n-1].Key
	}
	if n := len(page.CommonPrefixes); n > 0 {
		lastPrefix = page.CommonPrefixes[n-1]
	}
	if lastPrefix > lastKey {
		// Start after every key under the prefix, which a marker equal to
		// the prefix would list again.
		return lastPrefix + string(utf8.MaxRune)
	}
	return lastKey
}

func pageEntries(page api.ListResponse) []api.ObjectMetadata {
	entries := make([]api.ObjectMetadata, 0, len(page.Metadatas)+len(page.CommonPrefixes))
	entries = append(entries, page.Metadatas...)
	for _, prefix := range page.CommonPrefixes {
		entries = append(entries, api.ObjectMetadata{Key: prefix})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
	return entries
}

// BackendMetadata returns which backend the peer stores objects in.
func (c *Client) BackendMetadata(ctx context.Context) (api.BackendMetadata, error) {
	rt := route{escapedPath: "/metadata"}
	req, err := c.newRequest(ctx, http.MethodGet, rt, nil, nil)
	if err != nil {
		return api.BackendMetadata{}, err
	}
	var meta api.BackendMetadata
	if err := c.getJSON(req, rt, &meta); err != nil {
		return api.BackendMetadata{}, err
	}
	return meta, nil
}

// Healthy returns nil when the peer responds to GET /healthy with a 2xx
// status.
func (c *Client) Healthy(ctx context.Context) error {
	rt := route{escapedPath: "/healthy"}
	req, err := c.newRequest(ctx, http.MethodGet, rt, nil, nil)
	if err != nil {
		return err
	}
	return c.send(req, rt)
}

func (c *Client) getJSON(req *http.Request, rt route, dst any) error {
	resp, err := c.do(req, rt)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", req.Method, describeRoute(rt), err)
	}
	return nil
}
