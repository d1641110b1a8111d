// Package backend defines the durable object store behind the cache (S3,
// OSS, OBS, or a local directory) and the errors every implementation maps
// its failures to.
//
// Implementations live in subpackages and register a constructor with
// Register from an init function; a program imports the ones it supports
// and calls Open.
package backend

import (
	"context"
	"io"
	"time"
)

// Backend is an object store. Methods are safe for concurrent use.
//
// Every method returns an error that wraps ErrNotFound, ErrBucketNotFound,
// ErrAccessDenied or ErrInvalidArgument when the store reports that
// condition, and wraps ErrRetryable for failures worth trying again
// (network errors, timeouts, throttling, 5xx). Callers test with errors.Is.
type Backend interface {
	// Info names the store for GET /metadata and for cache identity.
	Info() Info

	// CreateBucket creates a bucket. An existing bucket owned by the caller
	// is not an error.
	CreateBucket(ctx context.Context, bucket string) error
	// HeadBucket returns nil when the bucket exists and is reachable.
	HeadBucket(ctx context.Context, bucket string) error

	// HeadObject returns the metadata of an object.
	HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// GetObject opens the object, or the byte range rng of it when rng is
	// not nil. The caller closes the reader. The returned info describes
	// the whole object.
	GetObject(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectInfo, error)
	// PutObject stores size bytes from r under key. Objects of at least the
	// configured multipart threshold are uploaded in parts. When r is also an
	// io.ReaderAt and io.Seeker, parts are read from it without buffering.
	// opts.Digest is stored as user metadata "digest".
	PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// DeleteObject removes an object; a missing object is not an error.
	DeleteObject(ctx context.Context, bucket, key string) error
	// CopyObject copies srcKey to dstKey within bucket, keeping its metadata.
	CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (ObjectInfo, error)
	// ListObjects lists keys in lexicographic order after opts.Marker.
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)
}

// Info identifies a store.
type Info struct {
	// Name is the backend type: "s3", "oss", "obs" or "fs".
	Name     string
	Region   string
	Endpoint string
}

// ID returns a stable string naming this store, for cache identity.
func (i Info) ID() string { return i.Name + "|" + i.Region + "|" + i.Endpoint }

// ObjectInfo is the metadata of a stored object.
type ObjectInfo struct {
	Key  string
	Size int64
	// ETag is the store's entity tag without surrounding quotes.
	ETag string
	// Digest is the "digest" user metadata ("md5:<hex>"), empty when the
	// object was written without it.
	Digest             string
	ContentType        string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	StorageClass       string
	LastModified       time.Time
}

// PutOptions are the metadata stored with an object.
type PutOptions struct {
	Digest             string
	ContentType        string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
}

// Range is an inclusive byte range [Start, End] of an object.
type Range struct {
	Start, End int64
}

// Length returns the number of bytes in the range.
func (r Range) Length() int64 { return r.End - r.Start + 1 }

// ListOptions select a page of a listing.
type ListOptions struct {
	Prefix    string
	Marker    string
	Delimiter string
	// Limit is the most entries (objects plus common prefixes) to return;
	// 0 means the store's default page size. Implementations page through
	// the store when Limit exceeds the store's own page limit.
	Limit int
}

// ListResult is a page of a listing.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	// NextMarker is the marker for the next page when IsTruncated is true.
	NextMarker  string
	IsTruncated bool
}

// KeyChecker is implemented by backends that cannot store every valid
// object key, such as fs, which maps keys to paths. The daemon calls it
// before accepting a write, so a key the backend would reject is refused
// at once instead of failing in the background write-back.
type KeyChecker interface {
	// CheckKey returns an error wrapping ErrInvalidArgument when key
	// cannot be stored in bucket.
	CheckKey(bucket, key string) error
}

// CheckKey reports whether b can store key in bucket; backends without a
// KeyChecker can store every key.
func CheckKey(b Backend, bucket, key string) error {
	if kc, ok := b.(KeyChecker); ok {
		return kc.CheckKey(bucket, key)
	}
	return nil
}
