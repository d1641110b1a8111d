// Package scheduler implements the scheduler, an in-memory registry of
// hosts (peers and seed peers) and of the tasks they hold. It returns to a
// downloading host the parents to fetch from, and repairs holdings when
// hosts go.
//
// The state is rebuilt from host announcements, so a restarted scheduler
// knows nothing until hosts announce again, and several schedulers can
// split the tasks between them by consistent hashing (see schedulerclient).
//
// Guarantee: concurrent FindParents calls for one task that nobody holds
// cause exactly one Prefetch on a seed peer, or one FETCH_FROM_BACKEND
// answer, and every other caller is told to follow that holder.
package scheduler

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// Clock returns the current time; tests inject a fake one to drive expiry.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options are the collaborators of a Service. Blank fields take defaults.
type Options struct {
	// Controller sends control requests to hosts. Default: an
	// HTTPHostController with a 30 s timeout per request.
	Controller HostController
	// Clock default: the system clock.
	Clock Clock
	// Logger default: slog.Default().
	Logger *slog.Logger
}

// Service implements schedulerpb.SchedulerServer. Create it with
// NewService and stop its background work with Close.
type Service struct {
	schedulerpb.UnimplementedSchedulerServer

	maxParents    int
	hostKeepAlive time.Duration
	ctrl          HostController
	clock         Clock
	log           *slog.Logger

	// bg is cancelled by Close. Background control requests (replica
	// top-ups, write-back takeovers, deletes) run under it and are
	// counted by jobs.
	bg     context.Context
	cancel context.CancelFunc
	jobs   sync.WaitGroup

	// mu guards hosts, tasks, keys, flights and seq, and the fields of
	// the hostState and taskState values they point to. It is never held
	// during a call to a host.
	mu    sync.Mutex
	hosts map[string]*hostState             // by host id
	tasks map[string]*taskState             // by task id
	keys  map[objectKey]map[string]struct{} // ids of each object's versions
	// flights holds, per task id, a channel closed when the FindParents
	// call that is asking seed peers to prefetch the task has finished.
	flights map[string]chan struct{}
	// seq counts task announcements, to order versions with equal
	// created_unix_ms by their latest announcement.
	seq uint64
}

type hostState struct {
	host     *schedulerpb.Host // replaced on announce, never modified
	lastSeen time.Time
	tasks    map[string]struct{} // ids of the tasks this host holds
}

type taskState struct {
	task *schedulerpb.Task // replaced on announce, never modified
	// holders maps a host id to whether it holds every piece.
	holders map[string]bool
	// writer is the host responsible for the backend upload of a pending
	// task. It is empty once persisted, or when the writer left and no
	// seed peer could take over.
	writer    string
	persisted bool
	seq       uint64
}

type objectKey struct {
	backendID, bucket, key string
}

func keyOf(t *schedulerpb.Task) objectKey {
	return objectKey{t.GetBackendId(), t.GetBucket(), t.GetKey()}
}

// NewService returns a Service configured by cfg, which must be valid.
func NewService(cfg Config, opts Options) *Service {
	if opts.Controller == nil {
		opts.Controller = NewHTTPHostController(nil)
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Service{
		maxParents:    cfg.MaxParents,
		hostKeepAlive: cfg.HostKeepAlive,
		ctrl:          opts.Controller,
		clock:         opts.Clock,
		log:           opts.Logger,
		bg:            bg,
		cancel:        cancel,
		hosts:         make(map[string]*hostState),
		tasks:         make(map[string]*taskState),
		keys:          make(map[objectKey]map[string]struct{}),
		flights:       make(map[string]chan struct{}),
	}
}

// Close cancels background control requests and waits for them to return.
func (s *Service) Close() {
	s.cancel()
	s.jobs.Wait()
}

// RunExpiry removes silent hosts every HostKeepAlive until ctx is done.
func (s *Service) RunExpiry(ctx context.Context) {
	t := time.NewTicker(s.hostKeepAlive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.ExpireHosts()
		}
	}
}

// goBackground runs job in its own goroutine under the background context.
func (s *Service) goBackground(job func(ctx context.Context)) {
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		job(s.bg)
	}()
}
