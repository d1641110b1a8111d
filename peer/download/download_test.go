package download

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/dfcache/dfcache/piececache"
)

func TestDownloadFromOneParent(t *testing.T) {
	data := randomBytes(20*testPieceSize + 33)
	p := newObjectParent(t, data)

	got, stats, err := download(t, newDownloader(Options{}), testTask(data), parentsOf(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes that differ from the %d of the parent", len(got), len(data))
	}
	if stats.PeerBytes != int64(len(data)) || stats.SeedPeerBytes != 0 || stats.BackendBytes != 0 {
		t.Errorf("stats = %+v, want all %d bytes from peers", stats, len(data))
	}
	if n := p.served.Load(); n != 21 {
		t.Errorf("parent served %d pieces, want 21", n)
	}
}

func TestDownloadFromTwoParents(t *testing.T) {
	data := randomBytes(32 * testPieceSize)
	peer := newObjectParent(t, data)
	seed := newObjectParent(t, data)
	seed.seed = true
	// Each parent serves one piece and then holds the rest until the
	// other has served one, so both must be used whichever answers first.
	peerServed, markPeerServed := closeOnce()
	seedServed, markSeedServed := closeOnce()
	peer.beforePiece = holdAfterFirst(markPeerServed, seedServed)
	seed.beforePiece = holdAfterFirst(markSeedServed, peerServed)

	d := newDownloader(Options{Concurrency: 8, PerParent: 2})
	got, stats, err := download(t, d, testTask(data), parentsOf(peer, seed), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the parents'")
	}
	if stats.PeerBytes == 0 || stats.SeedPeerBytes == 0 {
		t.Errorf("stats = %+v, want bytes from both the peer and the seed peer", stats)
	}
	if sum := stats.PeerBytes + stats.SeedPeerBytes; sum != int64(len(data)) {
		t.Errorf("peer and seed peer bytes add up to %d, want %d", sum, len(data))
	}
	if total := peer.served.Load() + seed.served.Load(); total != 32 {
		t.Errorf("parents served %d pieces in all, want 32", total)
	}
}

func TestDownloadFromParentInProgress(t *testing.T) {
	data := randomBytes(10*testPieceSize + 5)
	p, w := newWriterParent(t)
	w.Write(data[:2*testPieceSize])

	task := testTask(data)
	task.Length = 0 // the length of a write in progress is unknown
	dst := &signalWriter{first: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := newDownloader(Options{}).Download(t.Context(), task, parentsOf(p), dst, nil)
		done <- err
	}()

	// The download has a piece before the parent's write goes on.
	<-dst.first
	if w.Committed() {
		t.Fatal("parent write committed before the first piece arrived")
	}
	w.Write(data[2*testPieceSize:])
	if _, err := w.Commit(piececache.Meta{}, piececache.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.buf.Bytes(), data) {
		t.Errorf("downloaded %d bytes that differ from the %d written", dst.buf.Len(), len(data))
	}
}

func TestParentKilledMidTransfer(t *testing.T) {
	data := randomBytes(16 * testPieceSize)
	dying := newObjectParent(t, data)
	healthy := newObjectParent(t, data)
	// The dying parent serves two pieces and dies in the middle of the
	// third; the healthy one serves nothing before that.
	died, markDied := closeOnce()
	dying.beforePiece = func(int) bool {
		if dying.pieces.Load() <= 2 {
			return true
		}
		markDied()
		return false
	}
	healthy.beforePiece = func(int) bool { <-died; return true }

	d := newDownloader(Options{PerParent: 1})
	got, stats, err := download(t, d, testTask(data), parentsOf(dying, healthy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the parents'")
	}
	if n := dying.served.Load(); n != 2 {
		t.Errorf("dying parent served %d pieces, want 2", n)
	}
	if stats.PiecesRetried < 1 {
		t.Errorf("PiecesRetried = %d, want at least the piece cut off", stats.PiecesRetried)
	}
	if stats.BackendBytes != 0 || stats.PeerBytes != int64(len(data)) {
		t.Errorf("stats = %+v, want all bytes from peers", stats)
	}
}

func TestLastParentKilledUsesBackend(t *testing.T) {
	data := randomBytes(12*testPieceSize + 100)
	p := newObjectParent(t, data)
	p.beforePiece = func(int) bool { return p.pieces.Load() <= 3 }
	b := &backend{data: data}

	got, stats, err := download(t, newDownloader(Options{PerParent: 1}), testTask(data), parentsOf(p), b.read)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the object")
	}
	if stats.PeerBytes != 3*testPieceSize {
		t.Errorf("PeerBytes = %d, want the 3 pieces served before the parent died", stats.PeerBytes)
	}
	if stats.BackendBytes != int64(len(data))-3*testPieceSize {
		t.Errorf("BackendBytes = %d, want the other %d", stats.BackendBytes, int64(len(data))-3*testPieceSize)
	}
	if n := b.calls.Load(); n != 10 {
		t.Errorf("backend was read %d times, want once for each of the 10 missing pieces", n)
	}
}

func TestLastParentKilledWithoutBackendFails(t *testing.T) {
	data := randomBytes(8 * testPieceSize)
	p := newObjectParent(t, data)
	p.beforePiece = func(int) bool { return p.pieces.Load() <= 2 }

	_, _, err := download(t, newDownloader(Options{PerParent: 1}), testTask(data), parentsOf(p), nil)
	if !errors.Is(err, ErrNoSource) {
		t.Errorf("download after the only parent died: %v, want ErrNoSource", err)
	}
}

func TestCorruptPieceRefetched(t *testing.T) {
	data := randomBytes(12 * testPieceSize)
	liar := newObjectParent(t, data)
	liar.src.corrupt = func(int) bool { return true }
	honest := newObjectParent(t, data)
	// The honest parent waits until the liar has sent a corrupt piece.
	lied, markLied := closeOnce()
	liar.beforePiece = func(int) bool { defer markLied(); return true }
	honest.beforePiece = func(int) bool { <-lied; return true }

	got, stats, err := download(t, newDownloader(Options{PerParent: 2}), testTask(data), parentsOf(liar, honest), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the object: a corrupt piece was written")
	}
	if stats.PiecesRetried < 1 {
		t.Errorf("PiecesRetried = %d, want at least 1", stats.PiecesRetried)
	}
	if lies := liar.served.Load(); lies < 1 || lies > DefaultMaxParentFailures+1 {
		t.Errorf("liar served %d pieces, want 1 to %d before it was dropped", lies, DefaultMaxParentFailures+1)
	}
}

func TestCorruptPieceFromOnlyParentUsesBackend(t *testing.T) {
	data := randomBytes(6 * testPieceSize)
	p := newObjectParent(t, data)
	p.src.corrupt = func(i int) bool { return i == 4 }
	b := &backend{data: data}

	got, stats, err := download(t, newDownloader(Options{}), testTask(data), parentsOf(p), b.read)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ from the object")
	}
	if stats.BackendBytes != testPieceSize || b.calls.Load() != 1 {
		t.Errorf("backend gave %d bytes in %d reads, want piece 4 alone", stats.BackendBytes, b.calls.Load())
	}
}

// holdAfterFirst returns a beforePiece hook that reports the first piece
// with mark and holds every later one until other is closed.
func holdAfterFirst(mark func(), other <-chan struct{}) func(int) bool {
	var pieces atomic.Int32
	return func(int) bool {
		mark()
		if pieces.Add(1) > 1 {
			<-other
		}
		return true
	}
}
