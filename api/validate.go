package api

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest object key in bytes, as in S3.
const MaxKeyLength = 1024

// ValidateBucket checks a bucket name against the S3 naming rules, which
// OSS and OBS share: 3 to 63 characters of lowercase letters, digits, dots
// and hyphens, starting and ending with a letter or digit.
func ValidateBucket(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("invalid bucket name %q: length must be 3 to 63 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(name)-1 {
				return fmt.Errorf("invalid bucket name %q: must start and end with a lowercase letter or digit", name)
			}
		default:
			return fmt.Errorf("invalid bucket name %q: only lowercase letters, digits, '.' and '-' are allowed", name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("invalid bucket name %q: must not contain \"..\"", name)
	}
	return nil
}

// ValidateKey checks an object key: non-empty, valid UTF-8, at most
// MaxKeyLength bytes, no NUL or other control characters. Keys such as
// "a/../b" are valid object keys; backends that map keys to paths reject
// those they cannot store.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("invalid object key: must not be empty")
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("invalid object key: %d bytes, the limit is %d", len(key), MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("invalid object key %q: not valid UTF-8", key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("invalid object key %q: control characters are not allowed", key)
		}
	}
	return nil
}
