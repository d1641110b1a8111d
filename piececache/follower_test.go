package piececache

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestFollowerReadsWhileWriting(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("followed")
	data := testData(5*testPieceSize+123, 1)
	w, err := c.Create(key)
	if err != nil {
		t.Fatal(err)
	}
	if c.Inflight(key) != w {
		t.Fatal("Inflight does not return the open writer")
	}
	r := c.Inflight(key).NewReader()
	defer r.Close()

	// Two whole pieces are readable before the write goes on.
	if _, err := w.Write(data[:2*testPieceSize+10]); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 2*testPieceSize)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("follower read before commit: %v", err)
	}
	if !bytes.Equal(head, data[:len(head)]) {
		t.Error("follower's first two pieces differ from the written bytes")
	}

	rest := make(chan []byte)
	go func() {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Errorf("follower ReadAll: %v", err)
		}
		rest <- b
	}()
	if _, err := w.Write(data[2*testPieceSize+10:]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(Meta{}, CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := append(head, <-rest...); !bytes.Equal(got, data) {
		t.Errorf("follower read %d bytes that differ from the %d written", len(got), len(data))
	}
	if c.Inflight(key) != nil {
		t.Error("Inflight after Commit is not nil")
	}
}

func TestFollowerAfterCommitReadsAll(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	data := testData(testPieceSize+1, 2)
	w, _ := c.Create(testKey("late"))
	w.Write(data)
	w.Commit(Meta{}, CommitOptions{})
	r := w.NewReader()
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("follower created after Commit read %d bytes, %v; want all %d", len(got), err, len(data))
	}
}

func TestFollowerEmptyWrite(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("empty"))
	r := w.NewReader()
	defer r.Close()
	w.Commit(Meta{}, CommitOptions{})
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read of an empty committed write = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestFollowerSeesAbort(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	key := testKey("aborted")
	w, _ := c.Create(key)
	w.Write(testData(testPieceSize+5, 3))
	r := w.NewReader()
	defer r.Close()

	first := make([]byte, testPieceSize)
	if _, err := io.ReadFull(r, first); err != nil {
		t.Fatal(err)
	}
	result := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 10)) // blocks: the next piece is incomplete
		result <- err
	}()
	w.Abort()
	if err := <-result; !errors.Is(err, ErrAborted) {
		t.Errorf("follower Read = %v; want ErrAborted", err)
	}
	w.Abort() // idempotent
	if _, err := w.Commit(Meta{}, CommitOptions{}); !errors.Is(err, ErrAborted) {
		t.Errorf("Commit after Abort = %v; want ErrAborted", err)
	}
	if _, err := w.NewReader().Read(make([]byte, 1)); !errors.Is(err, ErrAborted) {
		t.Errorf("new follower of an aborted write = %v; want ErrAborted", err)
	}
	if n := stagingEntries(t, c); n != 0 {
		t.Errorf("%d staging entries after Abort; want 0", n)
	}
	if _, ok := c.Lookup(key); ok || c.Inflight(key) != nil {
		t.Error("aborted write is visible")
	}
}

func TestFollowerCloseEndsBlockedRead(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("closed"))
	defer w.Abort()
	r := w.NewReader()
	result := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 10))
		result <- err
	}()
	r.Close()
	if err := <-result; err == nil {
		t.Error("blocked Read after Close returned no error")
	}
}

func TestFollowerDetectsChangedStaging(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("tampered"))
	defer w.Abort()
	w.Write(testData(testPieceSize, 4))
	f, err := os.OpenFile(w.dir+"/"+dataFile, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff, 0xfe}, 10)
	f.Close()

	r := w.NewReader()
	defer r.Close()
	n, err := r.Read(make([]byte, 100))
	if n != 0 || !errors.Is(err, ErrCorrupt) {
		t.Errorf("Read of a changed piece = %d, %v; want 0, ErrCorrupt", n, err)
	}
}

func TestWriterDigestAndWritten(t *testing.T) {
	c := openTestCache(t, t.TempDir(), Options{})
	w, _ := c.Create(testKey("progress"))
	defer w.Abort()
	w.Write([]byte("hel"))
	w.Write([]byte("lo"))
	if w.Written() != 5 || w.Digest() != md5Digest([]byte("hello")) {
		t.Errorf("Written, Digest = %d, %s; want 5, %s", w.Written(), w.Digest(), md5Digest([]byte("hello")))
	}
	if used, _ := c.Usage(); used != 5 {
		t.Errorf("Usage during the write = %d; want the 5 staged bytes", used)
	}
}
