package schedulerclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
	"github.com/dfcache/dfcache/scheduler"
	"github.com/dfcache/dfcache/taskid"
)

// testScheduler is a real scheduler Service on 127.0.0.1 that counts the
// RPCs it receives by method name.
type testScheduler struct {
	addr string
	svc  *scheduler.Service
	srv  *grpc.Server

	mu    sync.Mutex
	calls map[string]int
}

func (s *testScheduler) count(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	s.mu.Lock()
	s.calls[info.FullMethod]++
	s.mu.Unlock()
	return handler(ctx, req)
}

func (s *testScheduler) callCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// nopController accepts every control request without sending it.
type nopController struct{}

func (nopController) Prefetch(context.Context, *schedulerpb.Host, *schedulerpb.Task) error {
	return nil
}
func (nopController) Replicate(context.Context, *schedulerpb.Host, *schedulerpb.ReplicateRequest) error {
	return nil
}
func (nopController) WriteBack(context.Context, *schedulerpb.Host, *schedulerpb.Task) error {
	return nil
}
func (nopController) Delete(context.Context, *schedulerpb.Host, *schedulerpb.DeleteObjectRequest) error {
	return nil
}

func startSchedulers(t *testing.T, n int) []*testScheduler {
	t.Helper()
	out := make([]*testScheduler, n)
	for i := range out {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &testScheduler{addr: lis.Addr().String(), calls: map[string]int{}}
		s.svc = scheduler.NewService(scheduler.DefaultConfig(), scheduler.Options{
			Controller: nopController{},
			Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		s.srv = grpc.NewServer(grpc.UnaryInterceptor(s.count))
		schedulerpb.RegisterSchedulerServer(s.srv, s.svc)
		go func() { _ = s.srv.Serve(lis) }()
		t.Cleanup(func() { s.srv.Stop(); s.svc.Close() })
		out[i] = s
	}
	return out
}

func addrsOf(scheds []*testScheduler) []string {
	var out []string
	for _, s := range scheds {
		out = append(out, s.addr)
	}
	return out
}

func byAddr(scheds []*testScheduler, addr string) *testScheduler {
	for _, s := range scheds {
		if s.addr == addr {
			return s
		}
	}
	return nil
}

func newClient(t *testing.T, addrs []string, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	c, err := New(addrs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func host(id string) *schedulerpb.Host {
	return &schedulerpb.Host{Id: id, Ip: "127.0.0.1", UploadPort: 65002}
}

func task(key string) *schedulerpb.Task {
	return &schedulerpb.Task{
		Id: taskid.New("fs", "bucket", key, "v1"), BackendId: "fs", Bucket: "bucket", Key: key, Version: "v1", CreatedUnixMs: 1,
	}
}

func TestAnnounceHostReachesAll(t *testing.T) {
	scheds := startSchedulers(t, 3)
	c := newClient(t, addrsOf(scheds))

	interval, err := c.AnnounceHost(context.Background(), host("peer-1"))
	if err != nil {
		t.Fatal(err)
	}

	if interval != 5*time.Second {
		t.Errorf("keepalive interval = %s; want 5s, the scheduler default", interval)
	}
	for _, s := range scheds {
		if n := s.callCount(schedulerpb.Scheduler_AnnounceHost_FullMethodName); n != 1 {
			t.Errorf("scheduler %s got %d AnnounceHost calls; want 1", s.addr, n)
		}
	}
}

func TestTaskCallsRouteByKey(t *testing.T) {
	scheds := startSchedulers(t, 3)
	addrs := addrsOf(scheds)
	c := newClient(t, addrs)
	reversed := slices.Clone(addrs)
	slices.Reverse(reversed)
	other := newClient(t, reversed)
	ctx := context.Background()
	if _, err := c.AnnounceHost(ctx, host("peer-1")); err != nil {
		t.Fatal(err)
	}

	owners := map[string]bool{}
	for i := range 30 {
		key := fmt.Sprintf("dir/object-%d", i)
		owner := c.Owner("fs", "bucket", key)
		if got := other.Owner("fs", "bucket", key); got != owner {
			t.Fatalf("owner of %s = %s with reversed list; want %s", key, got, owner)
		}
		owners[owner] = true
		if err := c.AnnounceTask(ctx, "peer-1", task(key), true); err != nil {
			t.Fatal(err)
		}
		assertOnlyOwnerKnows(t, scheds, owner, key)
		got, found, err := other.StatObject(ctx, "fs", "bucket", key)
		if err != nil || !found || got.GetId() != task(key).GetId() {
			t.Errorf("StatObject(%s) via other client = %v %v %v; want the announced task", key, got.GetId(), found, err)
		}
	}
	if len(owners) != 3 {
		t.Errorf("30 keys spread over %d schedulers; want all 3", len(owners))
	}
}

// assertOnlyOwnerKnows checks that only the owner scheduler has the key.
func assertOnlyOwnerKnows(t *testing.T, scheds []*testScheduler, owner, key string) {
	t.Helper()
	for _, s := range scheds {
		resp, err := s.svc.StatObject(context.Background(), &schedulerpb.StatObjectRequest{BackendId: "fs", Bucket: "bucket", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if want := s.addr == owner; resp.GetFound() != want {
			t.Errorf("scheduler %s knows %s = %v; want %v (owner %s)", s.addr, key, resp.GetFound(), want, owner)
		}
	}
}

func TestFailoverWhenOwnerDown(t *testing.T) {
	scheds := startSchedulers(t, 2)
	c := newClient(t, addrsOf(scheds), WithTimeout(2*time.Second))
	ctx := context.Background()
	if _, err := c.AnnounceHost(ctx, host("peer-1")); err != nil {
		t.Fatal(err)
	}
	key := "failover.bin"
	owner := byAddr(scheds, c.Owner("fs", "bucket", key))
	owner.srv.Stop()

	if err := c.AnnounceTask(ctx, "peer-1", task(key), true); err != nil {
		t.Fatalf("AnnounceTask with the owner down: %v; want failover to the other scheduler", err)
	}
	_, found, err := c.StatObject(ctx, "fs", "bucket", key)
	if err != nil || !found {
		t.Errorf("StatObject after failover = found %v, %v; want found", found, err)
	}
}

func TestNoFailoverOnRejection(t *testing.T) {
	scheds := startSchedulers(t, 2)
	c := newClient(t, addrsOf(scheds))

	_, err := c.FindParents(context.Background(), "never-announced", task("k"))

	if status.Code(unwrapStatus(err)) != codes.FailedPrecondition {
		t.Errorf("FindParents for an unknown host = %v; want FailedPrecondition", err)
	}
	total := 0
	for _, s := range scheds {
		total += s.callCount(schedulerpb.Scheduler_FindParents_FullMethodName)
	}
	if total != 1 {
		t.Errorf("FindParents reached %d schedulers; want 1, since a rejection is final", total)
	}
}

// unwrapStatus finds the gRPC status error inside wrapped and joined errors.
func unwrapStatus(err error) error {
	for err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			err = e.Unwrap()[0]
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return err
		}
	}
	return nil
}

func TestSetSchedulersMovesOnlySomeKeys(t *testing.T) {
	scheds := startSchedulers(t, 3)
	c := newClient(t, addrsOf(scheds[:2]))
	before := map[string]string{}
	for i := range 200 {
		key := fmt.Sprintf("k-%d", i)
		before[key] = c.Owner("fs", "bucket", key)
	}

	if err := c.SetSchedulers(addrsOf(scheds)); err != nil {
		t.Fatal(err)
	}

	moved := 0
	for key, was := range before {
		is := c.Owner("fs", "bucket", key)
		if is != was && is != scheds[2].addr {
			t.Fatalf("key %s moved from %s to %s; only moves to the new scheduler are allowed", key, was, is)
		}
		if is != was {
			moved++
		}
	}
	if moved == 0 || moved > 120 {
		t.Errorf("%d of 200 keys moved to the third scheduler; want about 67", moved)
	}
	if got := c.Schedulers(); len(got) != 3 {
		t.Errorf("Schedulers() = %v; want 3 addresses", got)
	}
	if err := c.SetSchedulers([]string{"no-port"}); err == nil {
		t.Error("SetSchedulers with an address without port succeeded; want an error")
	}
	if got := c.Schedulers(); len(got) != 3 {
		t.Errorf("Schedulers() after a rejected update = %v; want the 3 old addresses", got)
	}
}

func TestNoSchedulerError(t *testing.T) {
	c := newClient(t, nil)
	if _, _, err := c.StatObject(context.Background(), "fs", "bucket", "k"); !errors.Is(err, ErrNoScheduler) {
		t.Errorf("StatObject with no scheduler = %v; want ErrNoScheduler", err)
	}
	if _, err := c.AnnounceHost(context.Background(), host("peer")); !errors.Is(err, ErrNoScheduler) {
		t.Errorf("AnnounceHost with no scheduler = %v; want ErrNoScheduler", err)
	}
}

func TestCallTimesOut(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	schedulerpb.RegisterSchedulerServer(srv, hangingScheduler{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	c := newClient(t, []string{lis.Addr().String()}, WithTimeout(100*time.Millisecond))

	_, _, err = c.StatObject(context.Background(), "fs", "bucket", "k")

	if status.Code(unwrapStatus(err)) != codes.DeadlineExceeded {
		t.Errorf("StatObject on a hanging scheduler = %v; want DeadlineExceeded", err)
	}
}

// hangingScheduler blocks in StatObject until the caller cancels.
type hangingScheduler struct {
	schedulerpb.UnimplementedSchedulerServer
}

func (hangingScheduler) StatObject(ctx context.Context, _ *schedulerpb.StatObjectRequest) (*schedulerpb.StatObjectResponse, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
