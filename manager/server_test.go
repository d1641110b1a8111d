package manager

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/rpc/managerpb"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
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

// logRecorder is a slog.Handler that keeps the message of every record.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}

func (r *logRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

type testManager struct {
	rpc       managerpb.ManagerClient
	statusURL string
	logs      *logRecorder
}

// startManager serves a manager on 127.0.0.1 TCP ports until the test ends.
func startManager(t *testing.T, cfg Config, clock Clock) *testManager {
	t.Helper()
	rpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	srv := NewServer(cfg, WithClock(clock), WithLogger(slog.New(logs)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, rpcLis, statusLis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	conn, err := grpc.NewClient(rpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testManager{
		rpc:       managerpb.NewManagerClient(conn),
		statusURL: "http://" + statusLis.Addr().String(),
		logs:      logs,
	}
}

func peer(id string) *managerpb.Member {
	return &managerpb.Member{Id: id, Type: managerpb.MemberType_MEMBER_TYPE_PEER,
		Hostname: "host-a", Ip: "127.0.0.1", UploadPort: 65002, ObjectPort: 65004}
}

func keepAlive(t *testing.T, m *testManager, member *managerpb.Member) {
	t.Helper()
	if _, err := m.rpc.KeepAlive(context.Background(), &managerpb.KeepAliveRequest{Member: member}); err != nil {
		t.Fatalf("KeepAlive %s: %v", member.Id, err)
	}
}

func listIDs(t *testing.T, m *testManager, typ managerpb.MemberType) []string {
	t.Helper()
	resp, err := m.rpc.ListMembers(context.Background(), &managerpb.ListMembersRequest{Type: typ})
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	ids := []string{}
	for _, mb := range resp.Members {
		ids = append(ids, mb.Id)
	}
	return ids
}

func TestKeepAliveThenExpiry(t *testing.T) {
	clock := newFakeClock()
	m := startManager(t, Default(), clock)

	resp, err := m.rpc.KeepAlive(context.Background(), &managerpb.KeepAliveRequest{Member: peer("p1")})
	if err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	if resp.TtlMs != 30000 {
		t.Errorf("ttl_ms = %d; want 30000", resp.TtlMs)
	}
	list, err := m.rpc.ListMembers(context.Background(), &managerpb.ListMembersRequest{})
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	if len(list.Members) != 1 || list.Members[0].Id != "p1" || list.Members[0].UploadPort != 65002 {
		t.Fatalf("members = %v; want p1 with upload port 65002", list.Members)
	}
	if got, want := list.Members[0].LastSeenUnixMs, clock.Now().UnixMilli(); got != want {
		t.Errorf("last_seen_unix_ms = %d; want %d", got, want)
	}

	clock.Advance(30 * time.Second)
	if ids := listIDs(t, m, 0); len(ids) != 1 {
		t.Fatalf("after exactly the TTL: members %v; want p1 still listed", ids)
	}
	clock.Advance(time.Millisecond)
	if ids := listIDs(t, m, 0); len(ids) != 0 {
		t.Fatalf("after the TTL: members %v; want none", ids)
	}
	if m.logs.count("member joined") != 1 || m.logs.count("member left") != 1 {
		t.Errorf("logs = %v; want one member joined and one member left", m.logs.msgs)
	}
}

func TestKeepAliveRefreshesLastSeen(t *testing.T) {
	clock := newFakeClock()
	m := startManager(t, Default(), clock)

	keepAlive(t, m, peer("p1"))
	clock.Advance(20 * time.Second)
	keepAlive(t, m, peer("p1"))
	clock.Advance(20 * time.Second)
	if ids := listIDs(t, m, 0); len(ids) != 1 {
		t.Fatalf("members %v; want p1 kept by its second keepalive", ids)
	}
	if n := m.logs.count("member joined"); n != 1 {
		t.Errorf("member joined logged %d times; want 1", n)
	}
}

func TestListMembersSortedAndFiltered(t *testing.T) {
	m := startManager(t, Default(), newFakeClock())
	seed := &managerpb.Member{Id: "s1", Type: managerpb.MemberType_MEMBER_TYPE_SEED_PEER, Ip: "127.0.0.1", UploadPort: 1}
	sched := &managerpb.Member{Id: "z-sched", Type: managerpb.MemberType_MEMBER_TYPE_SCHEDULER, Ip: "127.0.0.1", RpcPort: 8002}
	for _, mb := range []*managerpb.Member{peer("p2"), seed, peer("p1"), sched} {
		keepAlive(t, m, mb)
	}

	if got, want := strings.Join(listIDs(t, m, 0), ","), "z-sched,s1,p1,p2"; got != want {
		t.Errorf("all members = %s; want %s", got, want)
	}
	if got := strings.Join(listIDs(t, m, managerpb.MemberType_MEMBER_TYPE_PEER), ","); got != "p1,p2" {
		t.Errorf("peers = %s; want p1,p2", got)
	}
	_, err := m.rpc.ListMembers(context.Background(), &managerpb.ListMembersRequest{Type: 9})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("ListMembers type 9: code %v; want InvalidArgument", status.Code(err))
	}
}

func TestKeepAliveRejectsInvalidMember(t *testing.T) {
	m := startManager(t, Default(), newFakeClock())
	cases := []struct {
		name   string
		member *managerpb.Member
		field  string
	}{
		{"nil member", nil, "member"},
		{"empty id", &managerpb.Member{Type: 3, Ip: "127.0.0.1", UploadPort: 1}, "member.id"},
		{"long id", &managerpb.Member{Id: strings.Repeat("x", 257), Type: 3, Ip: "127.0.0.1", UploadPort: 1}, "member.id"},
		{"no type", &managerpb.Member{Id: "a", Ip: "127.0.0.1", UploadPort: 1}, "member.type"},
		{"bad ip", &managerpb.Member{Id: "a", Type: 3, Ip: "host", UploadPort: 1}, "member.ip"},
		{"peer without upload port", &managerpb.Member{Id: "a", Type: 3, Ip: "127.0.0.1"}, "member.upload_port"},
		{"seed peer object port", &managerpb.Member{Id: "a", Type: 2, Ip: "127.0.0.1", UploadPort: 1, ObjectPort: 70000}, "member.object_port"},
		{"scheduler without rpc port", &managerpb.Member{Id: "a", Type: 1, Ip: "127.0.0.1", UploadPort: 1}, "member.rpc_port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.rpc.KeepAlive(context.Background(), &managerpb.KeepAliveRequest{Member: tc.member})
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("code = %v; want InvalidArgument", status.Code(err))
			}
			if !strings.Contains(status.Convert(err).Message(), tc.field) {
				t.Errorf("message %q does not name %s", status.Convert(err).Message(), tc.field)
			}
		})
	}
	if ids := listIDs(t, m, 0); len(ids) != 0 {
		t.Errorf("members = %v; want none after rejected keepalives", ids)
	}
}

func enabledConfig() Config {
	cfg := Default()
	cfg.ObjectStorage = ObjectStorage{Enable: true, Config: backend.Config{
		Name: "s3", Region: "us-east-2", Endpoint: "http://127.0.0.1:9000",
		AccessKey: "AKIDSECRETACCESS", SecretKey: "very-secret-key", SecurityToken: "session-token",
		S3ForcePathStyle: true, PartSize: 8 << 20, SignatureVersion: "v4",
	}}
	return cfg
}

func TestGetObjectStorage(t *testing.T) {
	m := startManager(t, enabledConfig(), newFakeClock())
	got, err := m.rpc.GetObjectStorage(context.Background(), &managerpb.GetObjectStorageRequest{MemberId: "p1"})
	if err != nil {
		t.Fatalf("GetObjectStorage: %v", err)
	}
	if !got.Enable || got.Name != "s3" || got.Endpoint != "http://127.0.0.1:9000" || got.Region != "us-east-2" {
		t.Errorf("object storage = %v; want enabled s3 at http://127.0.0.1:9000 in us-east-2", got)
	}
	if got.AccessKey != "AKIDSECRETACCESS" || got.SecretKey != "very-secret-key" || got.SecurityToken != "session-token" {
		t.Errorf("credentials not handed out: %v", got)
	}
	if !got.S3ForcePathStyle || got.PartSize != 8<<20 || got.SignatureVersion != "v4" {
		t.Errorf("options = %v; want path style, part size 8388608, v4", got)
	}
}

func TestGetObjectStorageDisabled(t *testing.T) {
	m := startManager(t, Default(), newFakeClock())
	_, err := m.rpc.GetObjectStorage(context.Background(), &managerpb.GetObjectStorageRequest{})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("code = %v; want FailedPrecondition", status.Code(err))
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "objectStorage.enable") {
		t.Errorf("message %q does not say which key to set", msg)
	}
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestStatusHasMembersAndNoSecrets(t *testing.T) {
	m := startManager(t, enabledConfig(), newFakeClock())
	keepAlive(t, m, peer("p1"))
	keepAlive(t, m, &managerpb.Member{Id: "s1", Type: 2, Ip: "127.0.0.1", UploadPort: 7002})

	code, body := getStatus(t, m.statusURL+"/api/v1/status")
	if code != http.StatusOK {
		t.Fatalf("status = %d; want 200", code)
	}
	for _, secret := range []string{"AKIDSECRETACCESS", "very-secret-key", "session-token"} {
		if strings.Contains(body, secret) {
			t.Errorf("status body contains the credential %q: %s", secret, body)
		}
	}
	var got statusResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if len(got.Peers) != 1 || got.Peers[0].ID != "p1" || len(got.SeedPeers) != 1 || got.SeedPeers[0].UploadPort != 7002 {
		t.Errorf("status = %s; want peer p1 and seed peer s1 on 7002", body)
	}
	if got.Schedulers == nil || len(got.Schedulers) != 0 {
		t.Errorf("schedulers = %v; want an empty list", got.Schedulers)
	}
	if got.ObjectStorage.Name != "s3" || got.ObjectStorage.Endpoint != "http://127.0.0.1:9000" {
		t.Errorf("objectStorage = %+v; want s3 at http://127.0.0.1:9000", got.ObjectStorage)
	}
	if !strings.Contains(body, `"schedulers":[]`) {
		t.Errorf("body %s: want schedulers as [] rather than null", body)
	}
}

func TestStatusHealthyAndMethods(t *testing.T) {
	m := startManager(t, Default(), newFakeClock())
	code, body := getStatus(t, m.statusURL+"/healthy")
	if code != http.StatusOK || strings.TrimSpace(body) != `"OK"` {
		t.Errorf("GET /healthy = %d %s; want 200 \"OK\"", code, body)
	}
	resp, err := http.Post(m.statusURL+"/api/v1/status", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d; want 405", resp.StatusCode)
	}
}

func TestExpireMembersLogsLeave(t *testing.T) {
	clock := newFakeClock()
	logs := &logRecorder{}
	srv := NewServer(Default(), WithClock(clock), WithLogger(slog.New(logs)))
	if _, err := srv.KeepAlive(context.Background(), &managerpb.KeepAliveRequest{Member: peer("p1")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Second)
	srv.ExpireMembers()
	if n := logs.count("member left"); n != 1 {
		t.Errorf("member left logged %d times; want 1", n)
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	rpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	statusLis.Close()

	srv := NewServer(Default(), WithLogger(slog.New(&logRecorder{})))
	err = srv.Serve(context.Background(), rpcLis, statusLis)
	if err == nil || !strings.Contains(err.Error(), "serve status") {
		t.Errorf("Serve = %v; want an error from the status listener", err)
	}
	if _, err := net.Dial("tcp", rpcLis.Addr().String()); err == nil {
		t.Error("gRPC listener still accepts after Serve returned")
	}
}
