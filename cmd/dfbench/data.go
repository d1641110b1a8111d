package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

// _patternBlock is the length of the random block a patternReader repeats.
const _patternBlock = 4 << 20

// patternReader yields size bytes: one random block, chosen by seed,
// repeated. It costs a copy per byte, so it does not slow down what it
// feeds, and memory stays at one block whatever the size.
type patternReader struct {
	block     []byte
	size, pos int64
}

func newPatternReader(seed uint64, size int64) *patternReader {
	block := make([]byte, _patternBlock)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(seed >> 32)})
	_, _ = rng.Read(block)
	return &patternReader{block: block, size: size}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.block[(r.pos+int64(n))%_patternBlock:])
	}
	r.pos += int64(n)
	return n, nil
}

// writePatternFile writes size bytes of pattern seed to path.
func writePatternFile(path string, seed uint64, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create data file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = io.Copy(w, newPatternReader(seed, size))
	if err == nil {
		err = w.Flush()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("write data file %s: %w", path, err)
	}
	return nil
}

// waitLogLine polls the log at path until a line contains every one of
// words, or timeout passes. Peers log background work (replica placement)
// that has no other signal of its end.
func waitLogLine(ctx context.Context, path string, timeout time.Duration, words ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil && hasLine(data, words) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no line with %q in %s within %s", words, path, timeout)
		case <-tick.C:
		}
	}
}

func hasLine(data []byte, words []string) bool {
	for line := range bytes.Lines(data) {
		if containsAll(line, words) {
			return true
		}
	}
	return false
}

// countLogLines returns how many lines of the log at path contain every
// one of words; 0 when the log cannot be read.
func countLogLines(path string, words ...string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for line := range bytes.Lines(data) {
		if containsAll(line, words) {
			n++
		}
	}
	return n
}

func containsAll(line []byte, words []string) bool {
	for _, w := range words {
		if !bytes.Contains(line, []byte(w)) {
			return false
		}
	}
	return true
}
