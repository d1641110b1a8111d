package piececache

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestWriterServesPiecesWhileWriting(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	data := testData(3*testPieceSize+100, 7)
	w, err := c.Create(testKey("served"))
	if err != nil {
		t.Fatal(err)
	}
	if w.PieceSize() != testPieceSize {
		t.Errorf("PieceSize() = %d, want %d", w.PieceSize(), testPieceSize)
	}
	if _, err := w.Write(data[:2*testPieceSize+5]); err != nil {
		t.Fatal(err)
	}
	if got := len(w.Pieces()); got != 2 {
		t.Fatalf("Pieces() while writing has %d entries, want 2", got)
	}
	if err := w.WaitPiece(context.Background(), 1); err != nil {
		t.Fatalf("WaitPiece(1) of a complete piece: %v", err)
	}
	piece, err := w.ReadPiece(1, nil)
	if err != nil {
		t.Fatalf("ReadPiece(1): %v", err)
	}
	if !bytes.Equal(piece, data[testPieceSize:2*testPieceSize]) {
		t.Error("ReadPiece(1) differs from the written bytes")
	}
	if got, want := w.PieceDigest(1), w.Pieces()[1]; got != want {
		t.Errorf("PieceDigest(1) = %q, want %q", got, want)
	}
	if got := w.PieceDigest(2); got != "" {
		t.Errorf("PieceDigest of an incomplete piece = %q, want empty", got)
	}
	if _, err := w.ReadPiece(2, nil); !errors.Is(err, ErrNoSuchPiece) {
		t.Errorf("ReadPiece of an incomplete piece: %v, want ErrNoSuchPiece", err)
	}
	if w.Committed() {
		t.Error("Committed() before Commit is true")
	}
	w.Abort()
}

func TestWaitPieceWakesOnWrite(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	data := testData(2*testPieceSize, 8)
	w, _ := c.Create(testKey("wake"))
	defer w.Abort()

	done := make(chan error)
	go func() { done <- w.WaitPiece(context.Background(), 1) }()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitPiece(1) after the piece was written: %v", err)
	}
	piece, err := w.ReadPiece(1, make([]byte, 0, testPieceSize))
	if err != nil || !bytes.Equal(piece, data[testPieceSize:]) {
		t.Errorf("ReadPiece(1) = %d bytes, %v; want the second piece", len(piece), err)
	}
}

func TestWaitPieceEnds(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})

	short, _ := c.Create(testKey("short"))
	short.Write(testData(testPieceSize+1, 9))
	beyond := make(chan error)
	go func() { beyond <- short.WaitPiece(context.Background(), 2) }()
	if _, err := short.Commit(Meta{}, CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-beyond; !errors.Is(err, ErrNoSuchPiece) {
		t.Errorf("WaitPiece beyond a committed write: %v, want ErrNoSuchPiece", err)
	}

	dropped, _ := c.Create(testKey("dropped"))
	aborted := make(chan error)
	go func() { aborted <- dropped.WaitPiece(context.Background(), 0) }()
	dropped.Abort()
	if err := <-aborted; !errors.Is(err, ErrAborted) {
		t.Errorf("WaitPiece of an aborted write: %v, want ErrAborted", err)
	}
	if _, err := dropped.ReadPiece(0, nil); !errors.Is(err, ErrAborted) {
		t.Errorf("ReadPiece of an aborted write: %v, want ErrAborted", err)
	}

	idle, _ := c.Create(testKey("idle"))
	defer idle.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := idle.WaitPiece(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitPiece with a cancelled context: %v, want context.Canceled", err)
	}
	if err := idle.WaitPiece(context.Background(), -1); !errors.Is(err, ErrNoSuchPiece) {
		t.Errorf("WaitPiece(-1): %v, want ErrNoSuchPiece", err)
	}
}

func TestWriterReadPieceAfterCommit(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("committed")
	data := testData(2*testPieceSize+10, 10)
	w, _ := c.Create(key)
	w.Write(data)
	if _, err := w.Commit(Meta{}, CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if !w.Committed() {
		t.Error("Committed() after Commit is false")
	}
	if got := len(w.Pieces()); got != 3 {
		t.Errorf("Pieces() after Commit has %d entries, want 3", got)
	}
	last, err := w.ReadPiece(2, nil)
	if err != nil || !bytes.Equal(last, data[2*testPieceSize:]) {
		t.Errorf("ReadPiece(2) after Commit = %d bytes, %v; want the 10-byte last piece", len(last), err)
	}

	put(t, c, key, testData(50, 11), Meta{}, CommitOptions{})
	if _, err := w.ReadPiece(0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPiece of a replaced version: %v, want ErrNotFound", err)
	}
}

func TestWriterReadPieceDetectsCorruption(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("flipped"))
	defer w.Abort()
	w.Write(testData(testPieceSize, 12))
	flipByte(t, filepath.Join(w.dir, dataFile), 5)
	if _, err := w.ReadPiece(0, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadPiece of a changed staging file: %v, want ErrCorrupt", err)
	}
}

func TestObjectWaitPiece(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("object")
	m := put(t, c, key, testData(testPieceSize+1, 13), Meta{}, CommitOptions{})
	obj, err := c.Open(key, m.Version)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if err := obj.WaitPiece(context.Background(), 1); err != nil {
		t.Errorf("Object.WaitPiece(1): %v", err)
	}
	if err := obj.WaitPiece(context.Background(), 2); !errors.Is(err, ErrNoSuchPiece) {
		t.Errorf("Object.WaitPiece(2) of a 2-piece object: %v, want ErrNoSuchPiece", err)
	}
}
