package download

import (
	"fmt"

	"github.com/dfcache/dfcache/piececache"
)

// schedule starts a fetch for every piece of the window that has none,
// from the least busy parent that has it and has not failed it, or else
// from the backend. It leaves a piece waiting while a parent may still
// serve it: one that is busy, has not sent its task info yet or is still
// receiving the task.
func (r *run) schedule() error {
	for i := r.next; i < r.next+r.d.opts.Concurrency; i++ {
		if total, ok := r.total(); ok && i >= total {
			return nil
		}
		s := r.slots[i]
		if s == nil {
			s = &slot{tried: make(map[*parent]bool)}
			r.slots[i] = s
		}
		if s.fetching || s.data != nil {
			continue
		}
		best, wait := r.pick(i, s)
		switch {
		case best != nil:
			r.startPiece(i, s, best)
		case wait:
		case r.canFallback():
			r.startPiece(i, s, nil)
		default:
			return r.noSourceError(i)
		}
	}
	return nil
}

// pick returns the parent to fetch piece i from, or nil and whether some
// parent may serve it later.
func (r *run) pick(i int, s *slot) (best *parent, wait bool) {
	if r.pieceSize == 0 {
		return nil, r.anyParentLeft()
	}
	for _, p := range r.parents {
		switch {
		case p.dropped || s.tried[p]:
		case !p.known:
			wait = true
		case !r.has(p, i):
			wait = wait || !p.complete
		case p.inflight >= r.d.opts.PerParent:
			wait = true
		case best == nil || p.inflight < best.inflight:
			best = p
		}
	}
	return best, wait
}

func (r *run) has(p *parent, i int) bool {
	if p.complete {
		total, _ := r.total()
		return i < total
	}
	return i < p.count
}

func (r *run) anyParentLeft() bool {
	for _, p := range r.parents {
		if !p.dropped {
			return true
		}
	}
	return false
}

// canFallback reports whether the backend can serve pieces, and fixes the
// piece size when no parent has sent one.
func (r *run) canFallback() bool {
	if r.fallback == nil || r.length < 0 {
		return false
	}
	if r.pieceSize == 0 {
		r.pieceSize = r.task.GetPieceSize()
		if r.pieceSize <= 0 {
			r.pieceSize = piececache.DefaultPieceSize
		}
	}
	return true
}

func (r *run) noSourceError(i int) error {
	why := "no parent has it and the task is not in the backend"
	switch {
	case r.fallback != nil && r.length < 0:
		why = "no parent has it and the backend cannot be used while the length is unknown"
	case len(r.parents) == 0:
		why = "no usable parent was given and the task is not in the backend"
	}
	return fmt.Errorf("download task %s: piece %d: %s: %w", r.task.GetId(), i, why, ErrNoSource)
}

// onPiece records the result of a piece fetch. A failure from a parent is
// counted against it and the piece is retried elsewhere; a failure from
// the backend ends the download.
func (r *run) onPiece(res pieceResult) error {
	r.pending--
	s := r.slots[res.index]
	s.fetching = false
	if res.from != nil {
		res.from.inflight--
	}
	if res.err != nil {
		r.putBuffer(res.buf)
		if res.from == nil {
			return fmt.Errorf("download task %s: %w", r.task.GetId(), res.err)
		}
		s.tried[res.from] = true
		r.stats.PiecesRetried++
		r.parentFailed(res.from, res.err)
		return nil
	}
	s.data = res.data
	r.learnDigest(res.index, res.digest)
	r.addBytes(res.from, int64(len(res.data)))
	return nil
}

func (r *run) addBytes(from *parent, n int64) {
	switch {
	case from == nil:
		r.stats.BackendBytes += n
	case from.seed:
		from.failures = 0
		r.stats.SeedPeerBytes += n
	default:
		from.failures = 0
		r.stats.PeerBytes += n
	}
}

func (r *run) learnDigest(i int, sum string) {
	if sum == "" {
		return
	}
	for len(r.digests) <= i {
		r.digests = append(r.digests, "")
	}
	r.digests[i] = sum
}

func (r *run) knownDigest(i int) string {
	if i < len(r.digests) {
		return r.digests[i]
	}
	return ""
}

// parentFailed counts a failed request against p and drops p after
// MaxParentFailures in a row.
func (r *run) parentFailed(p *parent, err error) {
	if p.dropped {
		return
	}
	p.failures++
	r.log.Debug("parent request failed", "parent", p.id, "failures", p.failures, "err", err)
	if p.failures >= r.d.opts.MaxParentFailures {
		r.drop(p, err)
	}
}

// drop stops using p and cancels its requests in flight.
func (r *run) drop(p *parent, err error) {
	p.dropped = true
	p.cancel()
	r.log.Warn("dropping parent", "parent", p.id, "err", err)
}
