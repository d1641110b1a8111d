package client

import (
	"fmt"
	"strings"

	"github.com/dfcache/dfcache/api"
)

// Scheme is the prefix of object URLs: dfs://BUCKET/KEY.
const Scheme = "dfs://"

// ParseURL splits an object URL "dfs://BUCKET/KEY" into bucket and key.
// The key is taken verbatim, with no percent-decoding. It is empty for
// "dfs://BUCKET" and "dfs://BUCKET/", which name a whole bucket in
// listings, so callers that need an object must check it.
func ParseURL(s string) (bucket, key string, err error) {
	if len(s) < len(Scheme) || !strings.EqualFold(s[:len(Scheme)], Scheme) {
		return "", "", fmt.Errorf("invalid object URL %q: want dfs://BUCKET/KEY", s)
	}
	bucket, key, _ = strings.Cut(s[len(Scheme):], "/")
	if bucket == "" {
		return "", "", fmt.Errorf("invalid object URL %q: missing bucket, want dfs://BUCKET/KEY", s)
	}
	if err := api.ValidateBucket(bucket); err != nil {
		return "", "", fmt.Errorf("invalid object URL %q: %w", s, err)
	}
	if key == "" {
		return bucket, "", nil
	}
	if err := api.ValidateKey(key); err != nil {
		return "", "", fmt.Errorf("invalid object URL %q: %w", s, err)
	}
	return bucket, key, nil
}

// IsURL reports whether s has the dfs:// scheme, valid or not.
func IsURL(s string) bool {
	return len(s) >= len(Scheme) && strings.EqualFold(s[:len(Scheme)], Scheme)
}
