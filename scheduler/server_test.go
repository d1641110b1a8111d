package scheduler

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dfcache/dfcache/rpc/managerpb"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

func TestServerServesAndStops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.Port = 0
	cfg.HostKeepAlive = 2 * time.Second
	srv, err := NewServer(cfg, Options{Controller: newFakeController(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()

	conn, err := grpc.NewClient(srv.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := schedulerpb.NewSchedulerClient(conn).AnnounceHost(context.Background(),
		&schedulerpb.AnnounceHostRequest{Host: newHost("peer", false, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetKeepaliveIntervalMs() != 2000 {
		t.Errorf("keepalive interval = %d ms; want 2000", resp.GetKeepaliveIntervalMs())
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after cancel = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return within 15 s of cancel")
	}
}

func TestNewServerRejectsBusyPort(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Server.Port = 0
	first, err := NewServer(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = first.Serve(ctx) }()

	cfg.Server.Port = first.Addr().(*net.TCPAddr).Port
	_, err = NewServer(cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:"+strconv.Itoa(cfg.Server.Port)) {
		t.Errorf("NewServer on a busy port: %v; want a listen error naming the address", err)
	}
}

// fakeManager records the members that send keepalives.
type fakeManager struct {
	managerpb.UnimplementedManagerServer
	members chan *managerpb.Member
}

func (m *fakeManager) KeepAlive(_ context.Context, req *managerpb.KeepAliveRequest) (*managerpb.KeepAliveResponse, error) {
	m.members <- req.GetMember()
	return &managerpb.KeepAliveResponse{TtlMs: 30000}, nil
}

func TestServerRegistersWithManager(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mgr := &fakeManager{members: make(chan *managerpb.Member, 10)}
	grpcSrv := grpc.NewServer()
	managerpb.RegisterManagerServer(grpcSrv, mgr)
	go func() { _ = grpcSrv.Serve(lis) }()
	defer grpcSrv.Stop()

	cfg := DefaultConfig()
	cfg.Server.Port = 0
	cfg.Manager.NetAddrs = []NetAddr{{Type: "tcp", Addr: lis.Addr().String()}}
	srv, err := NewServer(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Serve(ctx) }()

	var m *managerpb.Member
	select {
	case m = <-mgr.members:
	case <-time.After(5 * time.Second):
		t.Fatal("no keepalive reached the manager within 5 s")
	}
	port := srv.Addr().(*net.TCPAddr).Port
	if m.GetType() != managerpb.MemberType_MEMBER_TYPE_SCHEDULER {
		t.Errorf("member type = %v; want MEMBER_TYPE_SCHEDULER", m.GetType())
	}
	if m.GetIp() != "127.0.0.1" || int(m.GetRpcPort()) != port {
		t.Errorf("member address = %s:%d; want 127.0.0.1:%d", m.GetIp(), m.GetRpcPort(), port)
	}
	if m.GetId() == "" {
		t.Error("member id is empty")
	}
}
