package download

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// emptyDigest is the md5 digest of zero bytes.
const emptyDigest = "md5:d41d8cd98f00b204e9800998ecf8427e"

// run is the state of one download. Only the goroutine of loop touches it;
// fetches run in their own goroutines and report on the channels.
type run struct {
	d        *Downloader
	task     *schedulerpb.Task
	dst      io.Writer
	fallback Fallback
	log      *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	parents   []*parent
	pieceSize int64    // 0 until known
	length    int64    // -1 until known
	digests   []string // known piece digests by index, "" where unknown
	next      int      // index of the next piece to write to dst
	slots     map[int]*slot
	pending   int // fetches and info requests whose result is not received
	pieceDone chan pieceResult
	infoDone  chan infoResult

	free  [][]byte // piece buffers not in use
	held  int      // piece buffers in use
	stats Stats
}

// parent is one parent host and what is known about its copy of the task.
type parent struct {
	id     string
	url    string // base URL of its upload server
	seed   bool
	ctx    context.Context
	cancel context.CancelFunc

	known    bool // a task info has arrived
	count    int  // pieces listed in the last task info
	complete bool
	inflight int // piece requests in flight
	polling  bool
	failures int // consecutive failed requests
	idle     int // consecutive task infos without a new piece
	dropped  bool
}

// slot is a piece inside the window [next, next+Concurrency).
type slot struct {
	fetching bool
	data     []byte // the verified piece once fetched
	tried    map[*parent]bool
}

func newRun(ctx context.Context, d *Downloader, task *schedulerpb.Task, parents []*schedulerpb.Parent, dst io.Writer, fallback Fallback) *run {
	ctx, cancel := context.WithCancel(ctx)
	r := &run{
		d: d, task: task, dst: dst, fallback: fallback, ctx: ctx, cancel: cancel,
		log:       d.log.With("task", task.GetId()),
		length:    -1,
		slots:     make(map[int]*slot),
		pieceDone: make(chan pieceResult, d.opts.Concurrency),
		infoDone:  make(chan infoResult, len(parents)),
	}
	// The piece size comes from the parents, because their pieces must
	// line up; the task's piece size is used only for the backend.
	switch {
	case task.GetLength() > 0:
		r.length = task.GetLength()
	case task.GetLength() == 0 && task.GetDigest() == emptyDigest:
		r.length = 0
	}
	for _, p := range parents {
		if pr := r.newParent(p.GetHost()); pr != nil {
			r.parents = append(r.parents, pr)
		}
	}
	return r
}

// newParent returns the parent state of host, or nil when host has no
// address to fetch from.
func (r *run) newParent(host *schedulerpb.Host) *parent {
	if host.GetIp() == "" || host.GetUploadPort() <= 0 || host.GetUploadPort() > 65535 {
		r.log.Warn("skipping parent without an upload address", "parent", host.GetId(), "ip", host.GetIp(), "port", host.GetUploadPort())
		return nil
	}
	ctx, cancel := context.WithCancel(r.ctx)
	return &parent{
		id:     host.GetId(),
		url:    "http://" + net.JoinHostPort(host.GetIp(), strconv.Itoa(int(host.GetUploadPort()))),
		seed:   host.GetSeed(),
		ctx:    ctx,
		cancel: cancel,
	}
}

// loop fetches and writes pieces until the whole task is written.
func (r *run) loop() error {
	for !r.done() {
		if err := r.schedule(); err != nil {
			return err
		}
		r.poll()
		if r.pending == 0 {
			return fmt.Errorf("download task %s: no request in flight at piece %d: no parent or backend can serve it", r.task.GetId(), r.next)
		}
		select {
		case res := <-r.pieceDone:
			if err := r.onPiece(res); err != nil {
				return err
			}
		case res := <-r.infoDone:
			r.onInfo(res)
		case <-r.ctx.Done():
			return fmt.Errorf("download task %s: %w", r.task.GetId(), r.ctx.Err())
		}
		if err := r.flush(); err != nil {
			return err
		}
	}
	return nil
}

// stop cancels the requests still in flight and waits for their
// goroutines, so none of them touches a buffer after Download returns.
func (r *run) stop() {
	r.cancel()
	r.wg.Wait()
}

func (r *run) done() bool {
	total, ok := r.total()
	return ok && r.next >= total
}

// total returns the number of pieces, and false while the length or the
// piece size of a non-empty object is unknown.
func (r *run) total() (int, bool) {
	switch {
	case r.length == 0:
		return 0, true
	case r.length < 0 || r.pieceSize == 0:
		return 0, false
	}
	return int((r.length + r.pieceSize - 1) / r.pieceSize), true
}

// pieceLen returns the size of piece i, a full piece while the length is
// unknown.
func (r *run) pieceLen(i int) int64 {
	if r.length < 0 {
		return r.pieceSize
	}
	return min(r.pieceSize, r.length-int64(i)*r.pieceSize)
}

// flush writes the fetched pieces that come next to dst.
func (r *run) flush() error {
	for {
		s := r.slots[r.next]
		if s == nil || s.data == nil {
			return nil
		}
		if _, err := r.dst.Write(s.data); err != nil {
			return fmt.Errorf("download task %s: write piece %d: %w", r.task.GetId(), r.next, err)
		}
		r.putBuffer(s.data)
		delete(r.slots, r.next)
		r.next++
	}
}

func (r *run) getBuffer() []byte {
	r.held++
	r.stats.MaxPiecesInMemory = max(r.stats.MaxPiecesInMemory, r.held)
	if n := len(r.free); n > 0 {
		buf := r.free[n-1]
		r.free = r.free[:n-1]
		return buf
	}
	return make([]byte, r.pieceSize)
}

func (r *run) putBuffer(buf []byte) {
	r.held--
	r.free = append(r.free, buf[:cap(buf)])
}
