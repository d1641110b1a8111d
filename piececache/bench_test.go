package piececache

import (
	"io"
	"testing"
)

// BenchmarkReadAt measures sequential reads of a cached 256 MiB object with
// io.Copy through an io.SectionReader (32 KiB reads). "first" opens a new
// handle per iteration, so every piece is read twice and checked; "verified"
// reuses one handle whose pieces are already checked.
func BenchmarkReadAt(b *testing.B) {
	const size = 256 << 20
	c := openTestCache(b, b.TempDir(), Options{PieceSize: DefaultPieceSize})
	key := testKey("bench")
	w, err := c.Create(key)
	if err != nil {
		b.Fatal(err)
	}
	chunk := testData(1<<20, 1)
	for range size / len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	m, err := w.Commit(Meta{}, CommitOptions{})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("first", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			obj, err := c.Open(key, m.Version)
			if err != nil {
				b.Fatal(err)
			}
			copyObject(b, obj, size)
			obj.Close()
		}
	})
	b.Run("verified", func(b *testing.B) {
		obj, err := c.Open(key, m.Version)
		if err != nil {
			b.Fatal(err)
		}
		defer obj.Close()
		copyObject(b, obj, size)
		b.SetBytes(size)
		for b.Loop() {
			copyObject(b, obj, size)
		}
	})
}

func copyObject(b *testing.B, obj *Object, size int64) {
	n, err := io.Copy(io.Discard, io.NewSectionReader(obj, 0, size))
	if err != nil || n != size {
		b.Fatalf("copied %d bytes, %v; want %d", n, err, size)
	}
}
