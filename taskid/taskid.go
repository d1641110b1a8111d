// Package taskid derives the id of a task, one version of one object, from
// its identity: backend, bucket, key and version. Request artifacts such as
// signed URLs, expiry times or signatures never enter it, so every peer
// computes the same id for the same content.
package taskid

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// New returns the hex sha256 of the length-prefixed fields, so that no two
// different identities share an id by moving a separator.
func New(backendID, bucket, key, version string) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{backendID, bucket, key, version} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}
