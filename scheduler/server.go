package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/dfcache/dfcache/manager/managerclient"
	"github.com/dfcache/dfcache/rpc/managerpb"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// stopTimeout bounds how long Serve waits for in-flight RPCs on shutdown
// before it closes their connections.
const stopTimeout = 10 * time.Second

// Server serves a Service over gRPC, expires silent hosts and, when
// managers are configured, keeps the scheduler registered with them.
type Server struct {
	cfg     Config
	svc     *Service
	lis     net.Listener
	grpc    *grpc.Server
	manager *managerclient.Client // nil without managers
}

// NewServer binds cfg.Server's address and builds the service. The caller
// must call Serve, which releases the listener when it returns.
func NewServer(cfg Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Server.ListenAddr())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Server.ListenAddr(), err)
	}
	var mc *managerclient.Client
	if addrs := cfg.Manager.ManagerAddrs(); len(addrs) > 0 {
		logger := opts.Logger
		if logger == nil {
			logger = slog.Default()
		}
		if mc, err = managerclient.New(addrs, managerclient.WithLogger(logger)); err != nil {
			_ = lis.Close()
			return nil, fmt.Errorf("manager client: %w", err)
		}
	}
	svc := NewService(cfg, opts)
	s := &Server{cfg: cfg, svc: svc, lis: lis, grpc: grpc.NewServer(), manager: mc}
	schedulerpb.RegisterSchedulerServer(s.grpc, svc)
	return s, nil
}

// Addr returns the bound address, useful with port 0.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Service returns the served scheduler state.
func (s *Server) Service() *Service { return s.svc }

// Serve serves until ctx is done, then stops gracefully: in-flight RPCs get
// up to 10 s, and background control requests are cancelled.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.svc.RunExpiry(ctx) })
	if s.manager != nil {
		member := s.member()
		wg.Go(func() { s.manager.RunKeepAlive(ctx, member, s.cfg.Manager.KeepAlive) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.grpc.Serve(s.lis) }()
	s.svc.log.Info("scheduler started", "addr", s.Addr().String(), "managers", len(s.cfg.Manager.NetAddrs))

	var err error
	select {
	case err = <-serveErr:
		err = fmt.Errorf("serve grpc: %w", err)
	case <-ctx.Done():
		s.stop()
		if e := <-serveErr; e != nil && !errors.Is(e, grpc.ErrServerStopped) {
			err = fmt.Errorf("serve grpc: %w", e)
		}
	}
	cancel()
	wg.Wait()
	s.svc.Close()
	s.closeManager()
	s.svc.log.Info("scheduler stopped")
	return err
}

func (s *Server) stop() {
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		s.grpc.Stop()
		<-done
	}
}

func (s *Server) closeManager() {
	if s.manager != nil {
		_ = s.manager.Close()
	}
}

// member describes this scheduler to the manager. Its id is the
// advertised address, unique per scheduler process.
func (s *Server) member() *managerpb.Member {
	ip := s.cfg.Server.AdvertiseIP
	if ip == "" {
		ip = s.cfg.Server.Listen
	}
	port := s.lis.Addr().(*net.TCPAddr).Port
	hostname, _ := os.Hostname()
	return &managerpb.Member{
		Id:       "scheduler-" + net.JoinHostPort(ip, strconv.Itoa(port)),
		Type:     managerpb.MemberType_MEMBER_TYPE_SCHEDULER,
		Hostname: hostname,
		Ip:       ip,
		RpcPort:  int32(port),
	}
}
