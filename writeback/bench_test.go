package writeback

import (
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
)

// BenchmarkAdd measures one durable Add at a time, which pays the batch
// delay and one fsync.
func BenchmarkAdd(b *testing.B) {
	q := openBenchQueue(b)
	i := 0
	for b.Loop() {
		i++
		if err := q.Add(testRecord("b", fmt.Sprintf("key-%d", i), "v1")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddParallel measures concurrent Adds, which share commits.
func BenchmarkAddParallel(b *testing.B) {
	q := openBenchQueue(b)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := q.Add(testRecord("b", fmt.Sprintf("key-%d", n.Add(1)), "v1")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func openBenchQueue(b *testing.B) *Queue {
	q, err := Open(b.TempDir()+"/writeback.db", _succeed, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = q.Close() })
	return q
}
