// Package download fetches the pieces of a task from parent hosts over
// HTTP and writes them in order to a local writer, usually a
// piececache.Writer that local readers follow while the download runs.
//
// Pieces are fetched concurrently from several parents, each checked
// against its sha256 digest. A failed piece is retried on another parent,
// then on the backend through a Fallback. Memory is bounded by
// Options.Concurrency pieces, whatever the object size.
package download

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// Defaults of the zero Options fields.
const (
	DefaultConcurrency       = 4
	DefaultPerParent         = 3
	DefaultPieceTimeout      = 60 * time.Second
	DefaultMaxParentFailures = 3
	DefaultPollInterval      = 200 * time.Millisecond
)

// ErrNoSource means that every parent failed or was dropped and the
// backend could not be used. The caller may ask the scheduler for new
// parents.
var ErrNoSource = errors.New("download: no source left")

// Fallback reads n bytes at offset off of the task's object from the
// backend. Download passes nil when the task is pending and not in the
// backend yet.
type Fallback func(ctx context.Context, off, n int64) (io.ReadCloser, error)

// Options configures a Downloader. Zero values select the defaults.
type Options struct {
	// Client sends the piece and task info requests. Nil means a client
	// with a 5 s dial timeout, a 45 s response header timeout (longer than
	// the 30 s a parent holds a request for a piece in progress) and no
	// proxy.
	Client *http.Client
	// Concurrency is the maximum number of pieces fetched or waiting in
	// the reorder buffer at once: 0 means 4. Memory is at most Concurrency
	// times the piece size.
	Concurrency int
	// PerParent is the maximum number of piece requests in flight to one
	// parent: 0 means 3.
	PerParent int
	// PieceTimeout bounds one piece, task info or backend request,
	// including the time a parent waits for a piece in progress: 0 means
	// 60 s. A 64 MiB piece must arrive at above about 1 MiB/s.
	PieceTimeout time.Duration
	// MaxParentFailures is the number of consecutive failed requests
	// after which a parent is dropped for the rest of the download: 0
	// means 3. A digest mismatch counts as a failure.
	MaxParentFailures int
	// PollInterval is the delay before asking a parent again for its task
	// info, after a request that brought no new piece or failed: 0 means
	// 200 ms. Parents that hold the request until new pieces arrive (long
	// poll) are asked again at once.
	PollInterval time.Duration
	// Logger receives a warning for every parent dropped. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Stats describes one download.
type Stats struct {
	// PeerBytes, SeedPeerBytes and BackendBytes count the piece bytes
	// written to dst by source: peers, seed peers and the Fallback.
	PeerBytes, SeedPeerBytes, BackendBytes int64
	// PiecesRetried counts failed piece fetches that were retried
	// elsewhere.
	PiecesRetried int
	// MaxPiecesInMemory is the peak number of piece buffers held at once,
	// fetching or waiting to be written. It never exceeds Concurrency.
	MaxPiecesInMemory int
}

// Downloader fetches tasks from parents. It is safe for concurrent use,
// and one Downloader can run many downloads at once.
type Downloader struct {
	opts Options
	log  *slog.Logger
}

// New returns a Downloader with opts, zero fields set to their defaults.
func New(opts Options) *Downloader {
	if opts.Client == nil {
		opts.Client = defaultClient()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.PerParent <= 0 {
		opts.PerParent = DefaultPerParent
	}
	if opts.PieceTimeout <= 0 {
		opts.PieceTimeout = DefaultPieceTimeout
	}
	if opts.MaxParentFailures <= 0 {
		opts.MaxParentFailures = DefaultMaxParentFailures
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Downloader{opts: opts, log: opts.Logger}
}

func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout: 45 * time.Second,
		MaxIdleConnsPerHost:   DefaultPerParent * 2,
		IdleConnTimeout:       90 * time.Second,
	}}
}

// Download writes the bytes of task to dst, in order, fetching pieces from
// parents and, when they fail, from fallback (which may be nil).
//
// The length comes from task.Length when it is above 0. It is 0 when
// task.Digest is the md5 of empty content, and otherwise the parents' task
// info gives it. The piece size always comes from the parents, so that their
// pieces line up, and task.PieceSize (or 4 MiB) is used only when the
// backend serves every piece. Parents in progress are polled for new
// pieces until one of them completes. A parent whose piece size, length
// or digests disagree with what is known is dropped. The backend is used
// only once the length is known.
//
// Download does not check the md5 of the whole object: the caller does,
// for example with piececache.Writer.Commit and task.Digest. On error, dst
// holds a prefix of the object and the caller should discard it. Stats
// are returned in both cases.
func (d *Downloader) Download(ctx context.Context, task *schedulerpb.Task, parents []*schedulerpb.Parent, dst io.Writer, fallback Fallback) (Stats, error) {
	r := newRun(ctx, d, task, parents, dst, fallback)
	err := r.loop()
	r.stop()
	return r.stats, err
}
