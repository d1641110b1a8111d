package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPatternReaderSizeAndSeed(t *testing.T) {
	const size = 3*_patternBlock + 12345
	sum := func(seed uint64) ([32]byte, int64) {
		h := sha256.New()
		n, err := io.CopyBuffer(h, newPatternReader(seed, size), make([]byte, 100_000))
		if err != nil {
			t.Fatalf("read pattern: %v", err)
		}
		var out [32]byte
		copy(out[:], h.Sum(nil))
		return out, n
	}
	a, n := sum(1)
	if n != size {
		t.Fatalf("pattern yielded %d bytes, want %d", n, size)
	}
	if again, _ := sum(1); again != a {
		t.Error("two readers with seed 1 yielded different bytes")
	}
	if other, _ := sum(2); other == a {
		t.Error("seeds 1 and 2 yielded the same bytes")
	}
}

func TestWritePatternFileMatchesReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.bin")
	const size = _patternBlock + 7
	if err := writePatternFile(path, 9, size); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(newPatternReader(9, size))
	if !bytes.Equal(got, want) {
		t.Errorf("file has %d bytes that differ from the reader's %d", len(got), len(want))
	}
}

func TestCountLogLinesNeedsEveryWord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peer.log")
	log := "level=INFO msg=\"replicas placed\" key=a/1\n" +
		"level=INFO msg=\"replicas placed\" key=b/1\n" +
		"level=INFO msg=\"upload done\" key=a/2\n" +
		"level=INFO msg=\"replicas placed\" key=a/3\n"
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := countLogLines(path, "replicas placed", "key=a/"); got != 2 {
		t.Errorf("countLogLines = %d, want 2", got)
	}
	if got := countLogLines(filepath.Join(t.TempDir(), "missing.log"), "x"); got != 0 {
		t.Errorf("countLogLines of a missing file = %d, want 0", got)
	}
}

func TestKeptNotesAfterMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	notes := "## Profiles\n\nhand-written\n"
	if err := os.WriteFile(path, []byte("# old table\n"+_notesMarker+"\n"+notes), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := keptNotes(path); got != notes {
		t.Errorf("keptNotes = %q, want %q", got, notes)
	}
	if err := os.WriteFile(path, []byte("# no marker\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := keptNotes(path); got != "" {
		t.Errorf("keptNotes without marker = %q, want empty", got)
	}
}

func TestPeakRSSOfSelf(t *testing.T) {
	pid := os.Getpid()
	if err := resetPeakRSS(pid); err != nil {
		t.Skipf("clear_refs not writable here: %v", err)
	}
	rss, err := peakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Errorf("peak RSS of the test process = %d bytes, want at least 1 MiB", rss)
	}
}
