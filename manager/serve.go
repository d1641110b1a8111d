package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// shutdownTimeout bounds the graceful stop. In-flight RPCs and status
// requests get this long before their connections are closed.
const shutdownTimeout = 10 * time.Second

// Serve serves gRPC on rpcLis and the status HTTP API on statusLis until ctx
// ends or one of them fails, then stops both gracefully and closes the
// listeners. It returns nil after a stop caused by ctx.
func (s *Server) Serve(ctx context.Context, rpcLis, statusLis net.Listener) error {
	rpcServer := grpc.NewServer()
	managerpb.RegisterManagerServer(rpcServer, s)
	httpServer := &http.Server{
		Handler:           s.StatusHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
	}

	errc := make(chan error, 2)
	go func() { errc <- wrapServeErr("grpc", rpcServer.Serve(rpcLis)) }()
	go func() { errc <- wrapServeErr("status", httpServer.Serve(statusLis)) }()
	s.log.Info("manager started", "grpc", rpcLis.Addr().String(), "status", statusLis.Addr().String(),
		"keepAliveTTL", s.cfg.KeepAliveTTL, "objectStorage", s.cfg.ObjectStorage.Enable)

	var err error
	sweep := time.NewTicker(s.cfg.KeepAliveTTL / 2)
	defer sweep.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			break loop
		case <-sweep.C:
			s.ExpireMembers()
		}
	}
	s.stop(rpcServer, httpServer)
	s.log.Info("manager stopped")
	return err
}

// stop drains both servers within shutdownTimeout and then closes them.
func (s *Server) stop(rpcServer *grpc.Server, httpServer *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	go func() {
		<-ctx.Done()
		rpcServer.Stop()
	}()
	rpcServer.GracefulStop()
	if err := httpServer.Shutdown(ctx); err != nil {
		s.log.Warn("status server did not stop in time", "error", err)
		_ = httpServer.Close()
	}
}

func wrapServeErr(name string, err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", name, err)
}
