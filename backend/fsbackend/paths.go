package fsbackend

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/dfcache/dfcache/backend"
)

const (
	_metaDir    = ".meta"
	_metaSuffix = ".json"
	// _tmpPrefix starts the names of files being written. Keys may not
	// contain a segment with this prefix, so listings can skip such files.
	_tmpPrefix = ".dfcache-tmp-"
	// _maxKeyLen is the longest key S3 accepts, in bytes.
	_maxKeyLen = 1024
	// _maxSegmentLen leaves room for _metaSuffix within the 255-byte file
	// name limit of common Linux file systems.
	_maxSegmentLen = 255 - len(_metaSuffix)
)

// checkBucket applies the S3 bucket naming rules: 3 to 63 characters of
// lower-case letters, digits, '.' and '-', starting and ending with a letter
// or digit, and no "..".
func checkBucket(bucket string) error {
	valid := len(bucket) >= 3 && len(bucket) <= 63 && !strings.Contains(bucket, "..") &&
		isAlnum(bucket[0]) && isAlnum(bucket[len(bucket)-1])
	for i := 0; valid && i < len(bucket); i++ {
		c := bucket[i]
		valid = isAlnum(c) || c == '.' || c == '-'
	}
	if !valid {
		return fmt.Errorf("invalid bucket name %q: use 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit: %w",
			bucket, backend.ErrInvalidArgument)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// checkKey rejects keys that do not map to a single file path below the
// bucket directory.
func checkKey(key string) error {
	if problem := keyProblem(key); problem != "" {
		return fmt.Errorf("invalid key %q for the fs backend: %s: %w", key, problem, backend.ErrInvalidArgument)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "key is empty"
	case len(key) > _maxKeyLen:
		return fmt.Sprintf("key is %d bytes long, the maximum is %d", len(key), _maxKeyLen)
	case !utf8.ValidString(key):
		return "key is not valid UTF-8"
	case strings.ContainsRune(key, 0):
		return "key contains a NUL byte"
	case strings.HasPrefix(key, "/"):
		return "key starts with '/'"
	case strings.HasSuffix(key, "/"):
		return "key ends with '/', and this backend cannot store a file and a directory under one name"
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return "key contains an empty path segment (\"//\")"
		case seg == "." || seg == "..":
			return fmt.Sprintf("key contains the path segment %q", seg)
		case strings.HasPrefix(seg, _tmpPrefix):
			return fmt.Sprintf("path segments may not start with %q, which marks temporary files", _tmpPrefix)
		case len(seg) > _maxSegmentLen:
			return fmt.Sprintf("path segment is %d bytes long, the maximum is %d", len(seg), _maxSegmentLen)
		}
	}
	return ""
}

// checkObject validates bucket and key.
func checkObject(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	return checkKey(key)
}

// dataPath is the object's file, relative to the root.
func dataPath(bucket, key string) string { return bucket + "/" + key }

// metaBucketDir is the bucket's metadata tree, relative to the root.
func metaBucketDir(bucket string) string { return _metaDir + "/" + bucket }

// metaPath is the object's metadata file, relative to the root.
//
// NOTE: a key "a" (metadata "a.json") and a key "a.json/b" (metadata
// directory "a.json") clash in the metadata tree. Put rejects the second
// one with ErrInvalidArgument.
func metaPath(bucket, key string) string {
	return metaBucketDir(bucket) + "/" + key + _metaSuffix
}

// isClash reports whether err means a path segment exists with the other
// type: a file where a directory is needed, or the reverse.
func isClash(err error) bool {
	return errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) ||
		errors.Is(err, syscall.EEXIST) || errors.Is(err, fs.ErrExist)
}

// isMissing reports whether err means the path does not exist, including
// when a parent segment is a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// clashError explains a key that collides with another key's path.
func clashError(bucket, key string, err error) error {
	return fmt.Errorf("invalid key %q in bucket %q for the fs backend: its path clashes with an existing object or key prefix (a key cannot be both an object and a prefix of another key here): %w: %w",
		key, bucket, backend.ErrInvalidArgument, err)
}

// parentDir returns the directory part of a slash-separated path.
func parentDir(p string) string { return path.Dir(p) }

// CheckKey implements backend.KeyChecker: it rejects keys that cannot map
// to a file below the bucket directory, before the daemon accepts a write.
// It also rejects a key whose path clashes with an object already stored,
// so an AsyncWriteBack of such a key fails at once rather than in the
// background upload.
func (b *Backend) CheckKey(bucket, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	p := dataPath(bucket, key)
	if fi, err := b.root.Stat(p); err == nil && fi.IsDir() {
		return clashError(bucket, key, syscall.EISDIR)
	}
	for dir := parentDir(p); dir != bucket && dir != "." && dir != "/"; dir = parentDir(dir) {
		if fi, err := b.root.Stat(dir); err == nil && !fi.IsDir() {
			return clashError(bucket, key, syscall.ENOTDIR)
		}
	}
	return nil
}
