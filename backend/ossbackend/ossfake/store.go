package ossfake

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// object is the stored state of one key. Data lives in the file at path.
type object struct {
	path         string
	size         int64
	etag         string
	modified     time.Time
	header       map[string]string // Content-Type, Content-Disposition, Content-Encoding, Content-Language
	meta         map[string]string // user metadata, names in lower case without the prefix
	storageClass string
}

type part struct {
	path string
	size int64
	etag string
}

type upload struct {
	bucket, key string
	template    object
	parts       map[int]part
}

// store keeps buckets in memory and object bytes in files under dir, so
// memory use does not grow with object size.
type store struct {
	dir string

	mu      sync.Mutex // guards the fields below
	buckets map[string]map[string]*object
	uploads map[string]*upload
	seq     int
}

func newStore(dir string) *store {
	return &store{dir: dir, buckets: map[string]map[string]*object{}, uploads: map[string]*upload{}}
}

func (s *store) createBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] == nil {
		s.buckets[name] = map[string]*object{}
	}
}

func (s *store) hasBucket(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[name] != nil
}

func (s *store) get(bucket, key string) (*object, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	objects := s.buckets[bucket]
	if objects == nil {
		return nil, errNoSuchBucket(bucket)
	}
	obj := objects[key]
	if obj == nil {
		return nil, errNoSuchKey(key)
	}
	return obj, nil
}

// newFile returns a fresh data file name under dir.
func (s *store) newFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return filepath.Join(s.dir, fmt.Sprintf("data-%08d", s.seq))
}

// writeFile copies exactly size bytes of r into a new file and returns its
// path, the byte count and the hex md5 of the bytes. A size of -1, for a
// chunked body, accepts any length.
func (s *store) writeFile(r io.Reader, size int64) (string, int64, string, *Error) {
	path := s.newFile()
	f, err := os.Create(path)
	if err != nil {
		return "", 0, "", errInternal(err)
	}
	defer f.Close()
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(f, sum), r)
	if err != nil || (size >= 0 && n != size) {
		os.Remove(path)
		return "", 0, "", &Error{Status: 400, Code: "IncompleteBody", Message: fmt.Sprintf("read %d of %d body bytes: %v", n, size, err)}
	}
	return path, n, hex.EncodeToString(sum.Sum(nil)), nil
}

// put stores obj under bucket/key, replacing and deleting any older data.
func (s *store) put(bucket, key string, obj *object) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	objects := s.buckets[bucket]
	if objects == nil {
		os.Remove(obj.path)
		return errNoSuchBucket(bucket)
	}
	if old := objects[key]; old != nil && old.path != obj.path {
		os.Remove(old.path)
	}
	objects[key] = obj
	return nil
}

func (s *store) remove(bucket, key string) *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	objects := s.buckets[bucket]
	if objects == nil {
		return errNoSuchBucket(bucket)
	}
	if old := objects[key]; old != nil {
		os.Remove(old.path)
		delete(objects, key)
	}
	return nil
}

// copyData duplicates the bytes of obj into a new file.
func (s *store) copyData(obj *object) (string, *Error) {
	src, err := os.Open(obj.path)
	if err != nil {
		return "", errInternal(err)
	}
	defer src.Close()
	path, _, _, e := s.writeFile(src, obj.size)
	return path, e
}

// sortedKeys returns the keys of bucket with the prefix, after marker, in
// byte order.
func (s *store) sortedKeys(bucket, prefix, marker string) ([]string, map[string]*object, *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	objects := s.buckets[bucket]
	if objects == nil {
		return nil, nil, errNoSuchBucket(bucket)
	}
	keys := make([]string, 0, len(objects))
	snapshot := make(map[string]*object, len(objects))
	for k, obj := range objects {
		if strings.HasPrefix(k, prefix) && k > marker {
			keys = append(keys, k)
			snapshot[k] = obj
		}
	}
	sort.Strings(keys)
	return keys, snapshot, nil
}
