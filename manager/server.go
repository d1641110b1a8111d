// Package manager implements the cluster manager: it hands every peer the
// backend configuration and lists the live schedulers, seed peers and peers.
//
// The member table lives in memory and is rebuilt from keepalives, so
// several managers can run side by side without a database as long as
// members keep alive to each of them. A restarted manager lists a member
// again at that member's next keepalive.
package manager

import (
	"context"
	"log/slog"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/rpc/managerpb"
)

// Server implements managerpb.ManagerServer and the HTTP status endpoint.
// It is safe for concurrent use.
type Server struct {
	managerpb.UnimplementedManagerServer

	cfg     Config
	log     *slog.Logger
	members *registry
}

// Option changes a Server built by NewServer.
type Option func(*serverOptions)

type serverOptions struct {
	clock Clock
	log   *slog.Logger
}

// WithClock sets the time source of member expiry. The default is the
// system clock.
func WithClock(c Clock) Option {
	return func(o *serverOptions) { o.clock = c }
}

// WithLogger sets the logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *serverOptions) { o.log = l }
}

// NewServer returns a Server for cfg, which must be valid (see
// Config.Validate).
func NewServer(cfg Config, opts ...Option) *Server {
	o := serverOptions{clock: systemClock{}, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return &Server{
		cfg:     cfg,
		log:     o.log,
		members: newRegistry(cfg.KeepAliveTTL, o.clock, o.log),
	}
}

// GetObjectStorage returns the objectStorage section, credentials included,
// or FailedPrecondition when objectStorage.enable is false.
func (s *Server) GetObjectStorage(_ context.Context, req *managerpb.GetObjectStorageRequest) (*managerpb.ObjectStorage, error) {
	store := s.cfg.ObjectStorage
	if !store.Enable {
		return nil, status.Error(codes.FailedPrecondition,
			"object storage is disabled on this manager: set objectStorage.enable: true with name and endpoint in its config")
	}
	s.log.Debug("object storage requested", "memberId", req.GetMemberId())
	return &managerpb.ObjectStorage{
		Enable:             true,
		Name:               store.Name,
		Region:             store.Region,
		Endpoint:           store.Endpoint,
		AccessKey:          store.AccessKey,
		SecretKey:          store.SecretKey,
		SecurityToken:      store.SecurityToken,
		S3ForcePathStyle:   store.S3ForcePathStyle,
		MultipartThreshold: store.MultipartThreshold,
		PartSize:           store.PartSize,
		SignatureVersion:   store.SignatureVersion,
	}, nil
}

// KeepAlive registers the member or refreshes it, and returns the TTL.
// An invalid member is rejected with InvalidArgument naming the field.
func (s *Server) KeepAlive(_ context.Context, req *managerpb.KeepAliveRequest) (*managerpb.KeepAliveResponse, error) {
	if err := validateMember(req.GetMember()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.members.touch(req.GetMember())
	return &managerpb.KeepAliveResponse{TtlMs: s.cfg.KeepAliveTTL.Milliseconds()}, nil
}

// ListMembers returns the live members of the requested type, or of every
// type when it is unspecified, sorted by type then id.
func (s *Server) ListMembers(_ context.Context, req *managerpb.ListMembersRequest) (*managerpb.ListMembersResponse, error) {
	t := req.GetType()
	if _, ok := managerpb.MemberType_name[int32(t)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "type: %d is not a member type", t)
	}
	return &managerpb.ListMembersResponse{Members: s.members.list(t)}, nil
}

// ExpireMembers drops the members whose last keepalive is older than the
// TTL and logs each one. Serve calls it periodically; listing and
// keepalives also expire members first, so calling it is optional.
func (s *Server) ExpireMembers() {
	s.members.expire()
}
