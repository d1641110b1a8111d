// Package digest formats and checks the digests used by the cache: the md5
// object digest "md5:<hex>" that Dragonfly stores as backend metadata, and
// the sha256 piece digests of the piece cache.
package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm prefixes.
const (
	MD5    = "md5"
	SHA256 = "sha256"
)

// NewMD5 returns the hash behind object digests.
func NewMD5() hash.Hash { return md5.New() }

// FormatMD5 formats a raw md5 sum as "md5:<hex>".
func FormatMD5(sum []byte) string { return MD5 + ":" + hex.EncodeToString(sum) }

// FormatSHA256 formats a raw sha256 sum as "sha256:<hex>".
func FormatSHA256(sum []byte) string { return SHA256 + ":" + hex.EncodeToString(sum) }

// PieceSum returns the piece digest of b.
func PieceSum(b []byte) string {
	sum := sha256.Sum256(b)
	return FormatSHA256(sum[:])
}

// Parse checks that s is "<algorithm>:<hex>" with a known algorithm and the
// right length, and returns it in lower case.
func Parse(s string) (string, error) {
	algo, hexSum, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("invalid digest %q: want <algorithm>:<hex>, such as md5:9e107d9d372bb6826bd81d3542a419d6", s)
	}
	var size int
	switch strings.ToLower(algo) {
	case MD5:
		size = md5.Size
	case SHA256:
		size = sha256.Size
	default:
		return "", fmt.Errorf("invalid digest %q: unknown algorithm %q, want md5 or sha256", s, algo)
	}
	raw, err := hex.DecodeString(hexSum)
	if err != nil || len(raw) != size {
		return "", fmt.Errorf("invalid digest %q: want %d hex digits after %q", s, 2*size, algo+":")
	}
	return strings.ToLower(s), nil
}
