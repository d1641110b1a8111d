package piececache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestConcurrentReadersAndWriters(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("shared")
	data := testData(20*testPieceSize+77, 1)
	m := put(t, c, key, data, Meta{}, CommitOptions{})
	shared, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() { readRandomRanges(t, c, shared, data, uint64(g)) })
	}
	for g := range 4 {
		wg.Go(func() {
			other := testKey(fmt.Sprintf("other-%d", g))
			for i := range 5 {
				body := testData(3*testPieceSize, uint64(100*g+i))
				om := put(t, c, other, body, Meta{}, CommitOptions{})
				if got := readAll(t, c, other, om.Version); !bytes.Equal(got, body) {
					t.Errorf("%s: read bytes differ from the written ones", other.Object)
				}
			}
		})
	}
	wg.Wait()
}

// readRandomRanges reads random ranges through the shared handle and a
// handle of its own, and compares them with data.
func readRandomRanges(t *testing.T, c *Cache, shared *Object, data []byte, seed uint64) {
	own, err := c.Open(shared.Meta().Key, shared.Meta().Version)
	if err != nil {
		t.Error(err)
		return
	}
	defer own.Close()
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range 200 {
		obj := shared
		if i%2 == 1 {
			obj = own
		}
		off := rng.IntN(len(data))
		p := make([]byte, 1+rng.IntN(2*testPieceSize))
		n, err := obj.ReadAt(p, int64(off))
		if n < len(p) && off+n != len(data) {
			t.Errorf("ReadAt(%d bytes at %d) = %d, %v", len(p), off, n, err)
			return
		}
		if !bytes.Equal(p[:n], data[off:off+n]) {
			t.Errorf("ReadAt(%d bytes at %d) returned bytes that differ", len(p), off)
			return
		}
		c.Lookup(shared.Meta().Key)
	}
}
