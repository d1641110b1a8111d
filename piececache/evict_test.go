package piececache

import (
	"errors"
	"slices"
	"testing"
)

// quotaFor returns a quota with room for the given number of test objects of
// n bytes each, counting 1 KiB for each meta.json (these stay well below).
func quotaFor(objects, n int) int64 { return int64(objects * (n + 1024)) }

func TestEvictionHonoursPinsAndAccessOrder(t *testing.T) {
	var evicted []string
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{
		Quota:   quotaFor(3, size),
		OnEvict: func(m Meta) { evicted = append(evicted, m.Key.Object) },
	})
	ma := put(t, c, testKey("a"), testData(size, 1), Meta{}, CommitOptions{})
	put(t, c, testKey("b"), testData(size, 2), Meta{}, CommitOptions{})
	put(t, c, testKey("c"), testData(size, 3), Meta{}, CommitOptions{})
	if err := c.Pin(testKey("a"), ma.Version); err != nil {
		t.Fatal(err)
	}
	c.Lookup(testKey("b")) // b is now more recently used than c

	put(t, c, testKey("d"), testData(size, 4), Meta{}, CommitOptions{})
	if !slices.Equal(evicted, []string{"c"}) {
		t.Errorf("evicted %v; want [c], the least recently used unpinned entry", evicted)
	}
	for _, name := range []string{"a", "b", "d"} {
		if _, ok := c.Lookup(testKey(name)); !ok {
			t.Errorf("entry %s was evicted", name)
		}
	}
	if used, quota := c.Usage(); used > quota {
		t.Errorf("Usage = %d over quota %d", used, quota)
	}

	// Unpinned, a is the least recently used entry again once the others are read.
	c.Unpin(testKey("a"), ma.Version)
	c.Lookup(testKey("b"))
	c.Lookup(testKey("d"))
	put(t, c, testKey("e"), testData(size, 5), Meta{}, CommitOptions{})
	if !slices.Equal(evicted, []string{"c", "a"}) {
		t.Errorf("evicted %v; want [c a]", evicted)
	}
}

func TestPinnedCommitSurvivesEviction(t *testing.T) {
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{Quota: quotaFor(2, size)})
	put(t, c, testKey("a"), testData(size, 1), Meta{}, CommitOptions{Pin: true})
	put(t, c, testKey("b"), testData(size, 2), Meta{}, CommitOptions{})
	put(t, c, testKey("c"), testData(size, 3), Meta{}, CommitOptions{})
	if _, ok := c.Lookup(testKey("a")); !ok {
		t.Error("pinned entry a was evicted")
	}
	if _, ok := c.Lookup(testKey("b")); ok {
		t.Error("unpinned entry b survived; want it evicted for c")
	}
}

func TestPinsCountAndCarryOverSameVersion(t *testing.T) {
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{Quota: quotaFor(2, size)})
	data := testData(size, 1)
	m := put(t, c, testKey("a"), data, Meta{}, CommitOptions{Pin: true})
	c.Pin(testKey("a"), m.Version)
	put(t, c, testKey("a"), data, Meta{}, CommitOptions{}) // same version: pins stay
	c.Unpin(testKey("a"), m.Version)                       // one of two pins left

	put(t, c, testKey("b"), testData(size, 2), Meta{}, CommitOptions{})
	put(t, c, testKey("c"), testData(size, 3), Meta{}, CommitOptions{})
	if _, ok := c.Lookup(testKey("a")); !ok {
		t.Error("entry a with one pin left was evicted")
	}
	if err := c.Pin(testKey("a"), "md5:other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pin of another version = %v; want ErrNotFound", err)
	}
	if err := c.Pin(testKey("missing"), m.Version); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pin of a missing key = %v; want ErrNotFound", err)
	}
}

func TestQuotaExceededWhenAllPinned(t *testing.T) {
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{Quota: quotaFor(2, size)})
	put(t, c, testKey("a"), testData(size, 1), Meta{}, CommitOptions{Pin: true})
	put(t, c, testKey("b"), testData(size, 2), Meta{}, CommitOptions{Pin: true})
	usedBefore, _ := c.Usage()

	w, err := c.Create(testKey("c"))
	if err != nil {
		t.Fatal(err)
	}
	follower := w.NewReader()
	defer follower.Close()
	_, err = w.Write(testData(size, 3))
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("Write = %v; want ErrQuotaExceeded", err)
	}
	if _, err := follower.Read(make([]byte, 10)); !errors.Is(err, ErrAborted) || !errors.Is(err, ErrQuotaExceeded) {
		t.Errorf("follower Read = %v; want ErrAborted wrapping ErrQuotaExceeded", err)
	}
	if used, _ := c.Usage(); used != usedBefore {
		t.Errorf("Usage = %d after the failed write; want %d", used, usedBefore)
	}
	if n := stagingEntries(t, c); n != 0 {
		t.Errorf("%d staging entries; want 0", n)
	}
	for _, name := range []string{"a", "b"} {
		if _, ok := c.Lookup(testKey(name)); !ok {
			t.Errorf("pinned entry %s is gone", name)
		}
	}
}

func TestQuotaExceededEvictsNothing(t *testing.T) {
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{Quota: quotaFor(2, size)})
	put(t, c, testKey("a"), testData(size, 1), Meta{}, CommitOptions{})
	w, _ := c.Create(testKey("huge"))
	if _, err := w.Write(testData(3*size, 2)); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("Write larger than the quota = %v; want ErrQuotaExceeded", err)
	}
	if _, ok := c.Lookup(testKey("a")); !ok {
		t.Error("entry a was evicted for a write that could never fit")
	}
}

func TestReopenOverQuotaDoesNotEvict(t *testing.T) {
	const size = 10000
	dir := t.TempDir()
	c := openTestCache(t, dir, Options{})
	for i, name := range []string{"a", "b", "c"} {
		put(t, c, testKey(name), testData(size, uint64(i)), Meta{}, CommitOptions{})
	}
	c.Close()

	c2 := openTestCache(t, dir, Options{Quota: quotaFor(1, size)})
	for _, name := range []string{"a", "b", "c"} {
		if _, ok := c2.Lookup(testKey(name)); !ok {
			t.Errorf("Open evicted %s", name)
		}
	}
}

func TestCommitEvictsForMetadata(t *testing.T) {
	const size = 10000
	c := openTestCache(t, t.TempDir(), Options{})
	put(t, c, testKey("a"), testData(size, 1), Meta{}, CommitOptions{})
	entryA, _ := c.Usage()
	c.Close()

	// b's data fits next to a, but b's meta.json does not.
	c = openTestCache(t, c.dir, Options{Quota: entryA + size + 10})
	put(t, c, testKey("b"), testData(size, 2), Meta{}, CommitOptions{})
	if _, ok := c.Lookup(testKey("a")); ok {
		t.Error("entry a survived; want it evicted to fit b's metadata")
	}
	if _, ok := c.Lookup(testKey("b")); !ok {
		t.Error("Commit evicted the entry it just published")
	}
	if used, quota := c.Usage(); used > quota {
		t.Errorf("Usage = %d over quota %d", used, quota)
	}
}
