package download

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// poll requests the task info of every usable parent that has not sent it
// yet or is still receiving the task, one request per parent at a time.
//
// TODO: a parent whose write hangs without failing is polled until the
// caller's ctx ends, because each poll succeeds with no new piece.
func (r *run) poll() {
	for _, p := range r.parents {
		if p.dropped || p.polling || (p.known && p.complete) {
			continue
		}
		after := -1
		if p.known {
			after = p.count
		}
		r.startInfo(p, after, p.idle > 0 || p.failures > 0)
	}
}

// onInfo records a task info of a parent, or counts its failure. A parent
// without the task, or whose info disagrees with what is known, is dropped.
func (r *run) onInfo(res infoResult) {
	r.pending--
	p := res.from
	p.polling = false
	switch {
	case p.dropped:
		return
	case errors.Is(res.err, errNoTask):
		r.drop(p, res.err)
		return
	case res.err != nil:
		r.parentFailed(p, res.err)
		return
	}
	if res.info.FirstPiece < 0 || res.info.FirstPiece > p.count {
		r.drop(p, fmt.Errorf("task info from parent %s starts at piece %d, expected %d or less", p.id, res.info.FirstPiece, p.count))
		return
	}
	if err := r.accept(res.info); err != nil {
		r.drop(p, fmt.Errorf("task info from parent %s: %w", p.id, err))
		return
	}
	progress := !p.known || res.info.listed() > p.count || res.info.Complete
	p.known, p.count, p.complete = true, res.info.listed(), res.info.Complete
	p.failures = 0
	p.idle = 0
	if !progress {
		p.idle++
	}
}

// accept checks info against the piece size, length and digests known so
// far, and learns what is new in it.
func (r *run) accept(info taskInfo) error {
	if info.PieceSize <= 0 {
		return fmt.Errorf("invalid piece size %d", info.PieceSize)
	}
	if r.pieceSize != 0 && info.PieceSize != r.pieceSize {
		return fmt.Errorf("piece size %d differs from %d", info.PieceSize, r.pieceSize)
	}
	if info.Complete && info.Length < 0 {
		return errors.New("complete task without a length")
	}
	if r.length >= 0 && info.Length >= 0 && info.Length != r.length {
		return fmt.Errorf("length %d differs from %d", info.Length, r.length)
	}
	if err := r.checkPieceCount(info); err != nil {
		return err
	}
	for j, sum := range info.Pieces {
		i := info.FirstPiece + j
		if known := r.knownDigest(i); known != "" && known != sum {
			return fmt.Errorf("piece %d digest %s differs from %s", i, sum, known)
		}
	}

	r.pieceSize = info.PieceSize
	if info.Length >= 0 {
		r.length = info.Length
	}
	for j, sum := range info.Pieces {
		r.learnDigest(info.FirstPiece+j, sum)
	}
	return nil
}

// checkPieceCount checks that info lists no more pieces than its length
// allows, and all of them when complete.
func (r *run) checkPieceCount(info taskInfo) error {
	if info.Length < 0 {
		return nil
	}
	total := int((info.Length + info.PieceSize - 1) / info.PieceSize)
	if info.listed() > total || (info.Complete && info.listed() != total) {
		return fmt.Errorf("%d pieces listed for length %d and piece size %d (complete %v)",
			info.listed(), info.Length, info.PieceSize, info.Complete)
	}
	return nil
}

// sleep waits for d and reports whether ctx is still running.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
