// Package api holds the wire format of the peer's object storage HTTP API:
// routes, headers, form fields, JSON bodies and input validation. Both the
// client library and the daemon import it, so neither depends on the other.
//
// The format is the one Dragonfly v2.1 clients speak; additions (the digest
// form field, the source header) are ignored by those clients.
package api

import "time"

// DefaultEndpoint is the peer URL dfstore uses when no endpoint is given.
const DefaultEndpoint = "http://127.0.0.1:65004"

// Headers sent with object metadata and operations.
const (
	HeaderOperation    = "X-Dragonfly-Object-Operation"
	HeaderDigest       = "X-Dragonfly-Object-Meta-Digest"
	HeaderLastModified = "X-Dragonfly-Object-Meta-Last-Modified-Time"
	HeaderStorageClass = "X-Dragonfly-Object-Meta-Storage-Class"
	// HeaderSource names where the bytes of a GET came from: one of the
	// Source values.
	HeaderSource = "X-Dragonfly-Object-Source"
	// HeaderPersisted is sent by a peer with an Ephemeral replica upload:
	// "true" when the backend already has the object.
	HeaderPersisted = "X-Dragonfly-Object-Persisted"
)

// CopyOperation is the HeaderOperation value of a server-side copy.
const CopyOperation = "copy"

// Upload form fields.
const (
	FieldFile            = "file"
	FieldMode            = "mode"
	FieldFilter          = "filter"
	FieldMaxReplicas     = "maxReplicas"
	FieldSourceObjectKey = "source_object_key"
	// FieldDigest carries the md5 digest ("md5:<hex>") that the client
	// computed while streaming the file part. It is sent after the file
	// part; the peer publishes the object only if its own digest matches.
	FieldDigest = "digest"
)

// Replica limits of the maxReplicas field.
const (
	DefaultMaxReplicas = 3
	MinReplicas        = 1
	MaxReplicas        = 100
)

// MaxListLimit is the largest number of entries one listing returns, and
// the number returned when the request gives no limit.
const MaxListLimit = 1000

// Source values of HeaderSource.
const (
	SourceLocal    = "local"
	SourcePeer     = "peer"
	SourceSeedPeer = "seed-peer"
	SourceBackend  = "backend"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Errors string `json:"errors"`
}

// BackendMetadata is the response body of GET /metadata.
type BackendMetadata struct {
	Name     string
	Region   string
	Endpoint string
}

// ObjectMetadata is one entry of a listing.
type ObjectMetadata struct {
	Key                string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	ContentLength      int64
	ContentType        string
	ETag               string
	Digest             string
	LastModifiedTime   time.Time
	StorageClass       string
}

// ListResponse is the response body of GET /buckets/BUCKET/metadatas.
type ListResponse struct {
	CommonPrefixes []string
	Metadatas      []ObjectMetadata
	// NextMarker is the key to pass as marker for the next page; empty when
	// the listing is complete. Dragonfly's clients ignore it.
	NextMarker string `json:",omitempty"`
}
