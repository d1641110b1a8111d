package writeback

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// _openTimeout is how long Open waits for another process to release the
// queue file. A variable so that tests can shorten it.
var _openTimeout = time.Second

var _recordsBucket = []byte("records")

// _batchDelay is how long a write waits for others to share its commit.
// bbolt's default of 10ms would add that much to every lone Add, while one
// fsync takes a few milliseconds on common disks, so writes that arrive
// during a commit still gather in the next batch.
const _batchDelay = time.Millisecond

// store keeps the records in a bbolt file, one value per recordID. Writes
// go through DB.Batch, so concurrent Adds for different keys share one
// commit and one fsync.
type store struct {
	db *bolt.DB
}

// storedRecord is the JSON value of one record in the file.
type storedRecord struct {
	Seq uint64 `json:"seq"`
	Record
}

func openStore(path string) (*store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: _openTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open write-back queue %s: file locked by another process for %v; stop that process or use another path: %w",
			path, _openTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open write-back queue %s: %w", path, err)
	}
	db.MaxBatchDelay = _batchDelay
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = db.Close()
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(_recordsBucket)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create records bucket in %s: %w", path, err)
	}
	return &store{db: db}, nil
}

// put stores r under id, replacing any older value. It returns after the
// commit is on disk.
func (s *store) put(id string, seq uint64, r Record) error {
	value, err := json.Marshal(storedRecord{Seq: seq, Record: r})
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(_recordsBucket).Put([]byte(id), value)
	})
}

// delete removes the value of id, if any. It returns after the commit is
// on disk.
func (s *store) delete(id string) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(_recordsBucket).Delete([]byte(id))
	})
}

// forEach calls fn for every stored record. It fails on the first value it
// cannot decode rather than skip an acknowledged object.
func (s *store) forEach(fn func(id string, seq uint64, r Record)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(_recordsBucket).ForEach(func(k, v []byte) error {
			var sr storedRecord
			if err := json.Unmarshal(v, &sr); err != nil {
				return fmt.Errorf("decode write-back record %q in %s: %w; move the file aside to start empty, which drops its pending uploads",
					k, s.db.Path(), err)
			}
			fn(string(k), sr.Seq, sr.Record)
			return nil
		})
	})
}

func (s *store) close() error { return s.db.Close() }

// syncDir flushes the directory entry of a newly created queue file, which
// bbolt v1.5.0 does not, so that a power loss cannot drop the whole file.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open queue directory for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync queue directory %s: %w", dir, err)
	}
	return nil
}

// recordID is the file key of (bucket, key): the length of bucket as a
// uvarint, then bucket, then key. The length prefix keeps the encoding
// unambiguous whatever bytes the names contain.
func recordID(bucket, key string) string {
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(bucket)+len(key)), uint64(len(bucket)))
	b = append(b, bucket...)
	b = append(b, key...)
	return string(b)
}
