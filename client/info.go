package client

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/digest"
)

// ObjectInfo is the metadata of an object, read from the headers of a HEAD
// or GET response.
type ObjectInfo struct {
	Bucket string
	Key    string
	// Size is the object's length in bytes, or -1 when the peer did not
	// send it. For a range read it is the total length from Content-Range.
	// NOTE: a Dragonfly v2.1 peer responds to a range read with 200 and no
	// Content-Range, so there Size is the length of the range.
	Size               int64
	ContentType        string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	// ETag is the backend's entity tag without the surrounding quotes.
	ETag string
	// Digest is "md5:<hex>", or empty when the peer does not know it.
	Digest       string
	StorageClass string
	// LastModified is the zero time when the peer sent no valid date.
	LastModified time.Time
}

func parseObjectInfo(bucket, key string, resp *http.Response) (ObjectInfo, error) {
	h := resp.Header
	info := ObjectInfo{
		Bucket:             bucket,
		Key:                key,
		Size:               parseSize(resp),
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		ETag:               strings.Trim(h.Get("ETag"), `"`),
		StorageClass:       h.Get(api.HeaderStorageClass),
		LastModified:       parseLastModified(h),
	}
	if raw := h.Get(api.HeaderDigest); raw != "" {
		parsed, err := digest.Parse(raw)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("dfs://%s/%s: header %s: %w", bucket, key, api.HeaderDigest, err)
		}
		info.Digest = parsed
	}
	return info, nil
}

// parseSize reads the object's length from Content-Range when the response
// is partial and from Content-Length otherwise. It reads the header rather
// than resp.ContentLength, which is -1 for HEAD responses in some cases.
func parseSize(resp *http.Response) int64 {
	if resp.StatusCode == http.StatusPartialContent {
		_, total, ok := strings.Cut(resp.Header.Get("Content-Range"), "/")
		if n, err := strconv.ParseInt(total, 10, 64); ok && err == nil && n >= 0 {
			return n
		}
		return -1
	}
	if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		return n
	}
	return resp.ContentLength
}

func parseLastModified(h http.Header) time.Time {
	for _, name := range []string{api.HeaderLastModified, "Last-Modified"} {
		if t, err := http.ParseTime(h.Get(name)); err == nil {
			return t
		}
	}
	return time.Time{}
}
