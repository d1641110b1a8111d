package scheduler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
	"github.com/dfcache/dfcache/taskid"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// controlCall is one request received by fakeController.
type controlCall struct {
	action string // prefetch, replicate, writeback or delete
	host   string
	task   *schedulerpb.Task
	repl   *schedulerpb.ReplicateRequest
	del    *schedulerpb.DeleteObjectRequest
}

// fakeController records control requests and fails those to hosts in
// fail. When gate is set, Prefetch blocks until it is closed.
type fakeController struct {
	calls chan controlCall
	gate  chan struct{}

	mu   sync.Mutex
	fail map[string]bool // host id -> reject every request
}

func newFakeController() *fakeController {
	return &fakeController{calls: make(chan controlCall, 100), fail: map[string]bool{}}
}

func (f *fakeController) setFail(hostID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[hostID] = true
}

func (f *fakeController) record(c controlCall) error {
	f.calls <- c
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[c.host] {
		return errors.New("fake host rejects control requests")
	}
	return nil
}

func (f *fakeController) Prefetch(ctx context.Context, h *schedulerpb.Host, t *schedulerpb.Task) error {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.record(controlCall{action: "prefetch", host: h.GetId(), task: t})
}

func (f *fakeController) Replicate(_ context.Context, h *schedulerpb.Host, r *schedulerpb.ReplicateRequest) error {
	return f.record(controlCall{action: "replicate", host: h.GetId(), task: r.GetTask(), repl: r})
}

func (f *fakeController) WriteBack(_ context.Context, h *schedulerpb.Host, t *schedulerpb.Task) error {
	return f.record(controlCall{action: "writeback", host: h.GetId(), task: t})
}

func (f *fakeController) Delete(_ context.Context, h *schedulerpb.Host, r *schedulerpb.DeleteObjectRequest) error {
	return f.record(controlCall{action: "delete", host: h.GetId(), del: r})
}

// next returns the next control request, failing the test after 5 s.
func (f *fakeController) next(t *testing.T) controlCall {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no control request within 5 s")
		return controlCall{}
	}
}

// expectNone fails if a control request is already queued. Callers first
// wait for a later event, so work started before it has been recorded.
func (f *fakeController) expectNone(t *testing.T) {
	t.Helper()
	select {
	case c := <-f.calls:
		t.Fatalf("unexpected %s request to host %s", c.action, c.host)
	default:
	}
}

// testEnv is a Service served over real gRPC on 127.0.0.1.
type testEnv struct {
	svc    *Service
	ctrl   *fakeController
	clock  *fakeClock
	client schedulerpb.SchedulerClient
	// entered receives one value per FindParents call that reached the
	// server, before the service handles it.
	entered chan struct{}
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MaxParents = 3
	env := &testEnv{
		ctrl:    newFakeController(),
		clock:   &fakeClock{now: time.Unix(1_700_000_000, 0)},
		entered: make(chan struct{}, 100),
	}
	env.svc = NewService(cfg, Options{
		Controller: env.ctrl,
		Clock:      env.clock,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(env.countFindParents))
	schedulerpb.RegisterSchedulerServer(srv, env.svc)
	go func() { _ = srv.Serve(lis) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		env.svc.Close()
	})
	env.client = schedulerpb.NewSchedulerClient(conn)
	return env
}

func (e *testEnv) countFindParents(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if info.FullMethod == schedulerpb.Scheduler_FindParents_FullMethodName {
		e.entered <- struct{}{}
	}
	return handler(ctx, req)
}

func newHost(id string, seed bool, load int32) *schedulerpb.Host {
	return &schedulerpb.Host{Id: id, Hostname: "node", Ip: "127.0.0.1", UploadPort: 65002, Seed: seed, ActiveUploads: load}
}

func newTask(key, version string, createdMs int64) *schedulerpb.Task {
	return &schedulerpb.Task{
		Id:            taskid.New("s3-main", "bucket", key, version),
		BackendId:     "s3-main",
		Bucket:        "bucket",
		Key:           key,
		Version:       version,
		Length:        1 << 20,
		PieceSize:     4 << 20,
		CreatedUnixMs: createdMs,
	}
}

func (e *testEnv) announceHost(t *testing.T, h *schedulerpb.Host) {
	t.Helper()
	if _, err := e.client.AnnounceHost(context.Background(), &schedulerpb.AnnounceHostRequest{Host: h}); err != nil {
		t.Fatalf("AnnounceHost(%s): %v", h.GetId(), err)
	}
}

func (e *testEnv) announceTask(t *testing.T, hostID string, task *schedulerpb.Task, complete bool) {
	t.Helper()
	req := &schedulerpb.AnnounceTaskRequest{HostId: hostID, Task: task, Complete: complete}
	if _, err := e.client.AnnounceTask(context.Background(), req); err != nil {
		t.Fatalf("AnnounceTask(%s, %s): %v", hostID, task.GetKey(), err)
	}
}

func (e *testEnv) findParents(t *testing.T, hostID string, task *schedulerpb.Task) *schedulerpb.FindParentsResponse {
	t.Helper()
	resp, err := e.client.FindParents(context.Background(), &schedulerpb.FindParentsRequest{HostId: hostID, Task: task})
	if err != nil {
		t.Fatalf("FindParents(%s): %v", hostID, err)
	}
	return resp
}

func parentIDs(resp *schedulerpb.FindParentsResponse) []string {
	var ids []string
	for _, p := range resp.GetParents() {
		ids = append(ids, p.GetHost().GetId())
	}
	return ids
}
