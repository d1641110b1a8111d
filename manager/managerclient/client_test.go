package managerclient

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/manager"
	"github.com/dfcache/dfcache/rpc/managerpb"
)

// testManager is a manager gRPC server on 127.0.0.1 whose calls pass
// through fault, when set, and are counted by method name.
type testManager struct {
	addr  string
	mu    sync.Mutex
	calls map[string]int
	// fault, when it returns a non-nil error, fails the call before the
	// manager handles it.
	fault func(ctx context.Context, method string) error
}

func (m *testManager) count(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

func (m *testManager) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	m.mu.Lock()
	m.calls[method]++
	m.mu.Unlock()
	if m.fault != nil {
		if err := m.fault(ctx, method); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

func startManager(t *testing.T, cfg manager.Config, fault func(context.Context, string) error) *testManager {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &testManager{addr: lis.Addr().String(), calls: map[string]int{}, fault: fault}
	srv := grpc.NewServer(grpc.UnaryInterceptor(m.intercept))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	managerpb.RegisterManagerServer(srv, manager.NewServer(cfg, manager.WithLogger(discard)))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return m
}

// deadAddr returns a 127.0.0.1 address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

func newClient(t *testing.T, addrs []string, opts ...Option) *Client {
	t.Helper()
	c, err := New(addrs, opts...)
	if err != nil {
		t.Fatalf("New(%v): %v", addrs, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func peer(id string) *managerpb.Member {
	return &managerpb.Member{Id: id, Type: managerpb.MemberType_MEMBER_TYPE_PEER,
		Hostname: "host-a", Ip: "127.0.0.1", UploadPort: 65002, ObjectPort: 65004}
}

func memberIDs(t *testing.T, c *Client) string {
	t.Helper()
	members, err := c.ListMembers(context.Background(), managerpb.MemberType_MEMBER_TYPE_UNSPECIFIED)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.Id
	}
	return strings.Join(ids, ",")
}

func TestFailoverDeadToLive(t *testing.T) {
	live := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{deadAddr(t), live.addr})

	if err := c.KeepAlive(context.Background(), peer("p1")); err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	if got := memberIDs(t, c); got != "p1" {
		t.Errorf("members = %q; want p1", got)
	}
	if n := live.count("ListMembers"); n != 1 {
		t.Errorf("live manager got %d ListMembers calls; want 1", n)
	}
}

func unavailable(_ context.Context, method string) error {
	return status.Error(codes.Unavailable, "test: manager down for "+method)
}

func TestFailoverSticksToLastGood(t *testing.T) {
	down := startManager(t, manager.Default(), unavailable)
	live := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{down.addr, live.addr})

	for range 3 {
		if _, err := c.ListMembers(context.Background(), 0); err != nil {
			t.Fatalf("ListMembers: %v", err)
		}
	}
	if n := down.count("ListMembers"); n != 1 {
		t.Errorf("failing manager got %d calls; want 1, then the client stays on the live one", n)
	}
	if n := live.count("ListMembers"); n != 3 {
		t.Errorf("live manager got %d calls; want 3", n)
	}
}

func TestFailoverOnTimeout(t *testing.T) {
	hang := func(ctx context.Context, _ string) error {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	slow := startManager(t, manager.Default(), hang)
	live := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{slow.addr, live.addr}, WithTimeout(time.Second))

	if _, err := c.ListMembers(context.Background(), 0); err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	if slow.count("ListMembers") != 1 || live.count("ListMembers") != 1 {
		t.Errorf("calls slow=%d live=%d; want 1 each", slow.count("ListMembers"), live.count("ListMembers"))
	}
}

func TestNoFailoverOnManagerAnswer(t *testing.T) {
	reject := func(context.Context, string) error { return status.Error(codes.PermissionDenied, "test: denied") }
	first := startManager(t, manager.Default(), reject)
	second := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{first.addr, second.addr})

	_, err := c.ListMembers(context.Background(), 0)
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("ListMembers code = %v (%v); want PermissionDenied", status.Code(err), err)
	}
	if !strings.Contains(err.Error(), first.addr) {
		t.Errorf("error %q does not name the manager %s", err, first.addr)
	}
	if n := second.count("ListMembers"); n != 0 {
		t.Errorf("second manager got %d calls; want 0", n)
	}
}

func TestAllManagersDown(t *testing.T) {
	a, b := deadAddr(t), deadAddr(t)
	c := newClient(t, []string{a, b})

	_, err := c.ListMembers(context.Background(), 0)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("code = %v; want Unavailable", status.Code(err))
	}
	if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("error %v does not name both %s and %s", err, a, b)
	}
	if err := c.KeepAlive(context.Background(), peer("p1")); err == nil {
		t.Error("KeepAlive with every manager down succeeded")
	}
}

func TestTwoManagersSideBySide(t *testing.T) {
	m1 := startManager(t, manager.Default(), nil)
	m2 := startManager(t, manager.Default(), nil)
	peerClient := newClient(t, []string{m1.addr, m2.addr})
	seedClient := newClient(t, []string{m2.addr, m1.addr})

	if err := peerClient.KeepAlive(context.Background(), peer("p1")); err != nil {
		t.Fatalf("KeepAlive p1: %v", err)
	}
	seed := &managerpb.Member{Id: "s1", Type: managerpb.MemberType_MEMBER_TYPE_SEED_PEER, Ip: "127.0.0.1", UploadPort: 7002}
	if err := seedClient.KeepAlive(context.Background(), seed); err != nil {
		t.Fatalf("KeepAlive s1: %v", err)
	}

	for _, m := range []*testManager{m1, m2} {
		if got := memberIDs(t, newClient(t, []string{m.addr})); got != "s1,p1" {
			t.Errorf("manager %s lists %q; want s1,p1", m.addr, got)
		}
	}
}

func TestGetObjectStorageConverts(t *testing.T) {
	cfg := manager.Default()
	want := backend.Config{
		Name: "oss", Region: "cn-hangzhou", Endpoint: "http://127.0.0.1:9000",
		AccessKey: "AK", SecretKey: "SK", SecurityToken: "TOKEN", S3ForcePathStyle: true,
		MultipartThreshold: 32 << 20, PartSize: 8 << 20, SignatureVersion: "v1",
	}
	cfg.ObjectStorage = manager.ObjectStorage{Enable: true, Config: want}
	live := startManager(t, cfg, nil)
	c := newClient(t, []string{deadAddr(t), live.addr})

	got, err := c.GetObjectStorage(context.Background())
	if err != nil {
		t.Fatalf("GetObjectStorage: %v", err)
	}
	if got != want {
		t.Errorf("config = %#v; want %#v", got, want)
	}
}

func TestGetObjectStorageDisabled(t *testing.T) {
	live := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{live.addr})

	_, err := c.GetObjectStorage(context.Background())
	if !errors.Is(err, ErrObjectStorageDisabled) {
		t.Fatalf("error = %v; want ErrObjectStorageDisabled", err)
	}
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("code = %v; want FailedPrecondition", status.Code(err))
	}
	if !strings.Contains(err.Error(), "objectStorage.enable") {
		t.Errorf("error %q does not say which key to set", err)
	}
}

func TestKeepAliveInvalidMember(t *testing.T) {
	live := startManager(t, manager.Default(), nil)
	c := newClient(t, []string{live.addr})

	err := c.KeepAlive(context.Background(), &managerpb.Member{Id: "p1", Type: managerpb.MemberType_MEMBER_TYPE_PEER, Ip: "127.0.0.1"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("code = %v (%v); want InvalidArgument", status.Code(err), err)
	}
	if !strings.Contains(err.Error(), "upload_port") {
		t.Errorf("error %q does not name upload_port", err)
	}
}

func TestNewRejectsBadAddresses(t *testing.T) {
	for _, addrs := range [][]string{nil, {"manager"}, {"127.0.0.1:0"}, {"127.0.0.1:http"}, {":65003"}, {"127.0.0.1:65003", "x"}} {
		if c, err := New(addrs); err == nil {
			c.Close()
			t.Errorf("New(%q) succeeded; want an error", addrs)
		}
	}
	if _, err := New([]string{"127.0.0.1:65003"}, WithTimeout(0)); err == nil {
		t.Error("New with timeout 0 succeeded; want an error")
	}
}

// logRecorder is a slog.Handler that counts records by message.
type logRecorder struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[rec.Message]++
	return nil
}

func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[msg]
}

func TestRunKeepAliveLogsOncePerStreak(t *testing.T) {
	var failures atomic.Int32
	flaky := func(_ context.Context, method string) error {
		if method == "KeepAlive" && failures.Add(1) <= 5 {
			return status.Error(codes.Unavailable, "test: restarting")
		}
		return nil
	}
	m := startManager(t, manager.Default(), flaky)
	logs := &logRecorder{counts: map[string]int{}}
	c := newClient(t, []string{m.addr}, WithLogger(slog.New(logs)))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		c.RunKeepAlive(ctx, peer("p1"), time.Millisecond)
		close(done)
	}()
	waitFor(t, func() bool { return logs.count("keepalive accepted again") > 0 })
	cancel()
	<-done

	if got := memberIDs(t, c); got != "p1" {
		t.Errorf("members = %q; want p1", got)
	}

	if n := m.count("KeepAlive"); n < 6 {
		t.Errorf("manager got %d keepalives; want at least 6", n)
	}
	if n := logs.count("keepalive failed; retrying every interval"); n != 1 {
		t.Errorf("failure logged %d times over 5 failures; want 1", n)
	}
	if n := logs.count("keepalive accepted again"); n != 1 {
		t.Errorf("recovery logged %d times; want 1", n)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
