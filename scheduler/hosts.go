package scheduler

import (
	"context"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// expiryIntervals is how many keepalive intervals a host may stay silent.
const expiryIntervals = 3

// AnnounceHost registers a host or refreshes its address and load.
func (s *Service) AnnounceHost(_ context.Context, req *schedulerpb.AnnounceHostRequest) (*schedulerpb.AnnounceHostResponse, error) {
	h := req.GetHost()
	if err := validateHost(h); err != nil {
		return nil, err
	}
	h = proto.CloneOf(h)
	s.mu.Lock()
	st, known := s.hosts[h.GetId()]
	if !known {
		st = &hostState{tasks: make(map[string]struct{})}
		s.hosts[h.GetId()] = st
	}
	st.host = h
	st.lastSeen = s.clock.Now()
	s.mu.Unlock()
	if !known {
		s.log.Info("host joined", "host", h.GetId(), "ip", h.GetIp(), "uploadPort", h.GetUploadPort(), "seed", h.GetSeed())
	}
	return &schedulerpb.AnnounceHostResponse{KeepaliveIntervalMs: s.hostKeepAlive.Milliseconds()}, nil
}

func validateHost(h *schedulerpb.Host) error {
	if h.GetId() == "" {
		return status.Error(codes.InvalidArgument, "host.id: missing; set a cluster-unique host id")
	}
	if net.ParseIP(h.GetIp()) == nil {
		return status.Errorf(codes.InvalidArgument, "host.ip: %q of host %s is not an IP address", h.GetIp(), h.GetId())
	}
	if p := h.GetUploadPort(); p < 1 || p > 65535 {
		return status.Errorf(codes.InvalidArgument, "host.upload_port: %d of host %s is not a port number (1-65535)", p, h.GetId())
	}
	return nil
}

// LeaveHost removes a host and its holdings at once. An unknown host is
// not an error, so a host may leave twice.
func (s *Service) LeaveHost(_ context.Context, req *schedulerpb.LeaveHostRequest) (*schedulerpb.Empty, error) {
	s.mu.Lock()
	jobs, known := s.removeHostLocked(req.GetHostId())
	s.mu.Unlock()
	if known {
		s.log.Info("host left", "host", req.GetHostId())
	}
	s.startJobs(jobs)
	return &schedulerpb.Empty{}, nil
}

// ExpireHosts removes every host silent for three HostKeepAlive intervals,
// with its holdings, and starts the repairs this needs.
func (s *Service) ExpireHosts() {
	var jobs []func(context.Context)
	var expired []string
	s.mu.Lock()
	for id, st := range s.hosts {
		if !s.aliveLocked(st) {
			j, _ := s.removeHostLocked(id)
			jobs = append(jobs, j...)
			expired = append(expired, id)
		}
	}
	s.mu.Unlock()
	for _, id := range expired {
		s.log.Info("host expired", "host", id, "silentFor", (expiryIntervals * s.hostKeepAlive).String())
	}
	s.startJobs(jobs)
}

// aliveLocked reports whether the host announced itself recently enough.
// It does not depend on ExpireHosts having run.
func (s *Service) aliveLocked(st *hostState) bool {
	return s.clock.Now().Sub(st.lastSeen) <= expiryIntervals*s.hostKeepAlive
}

// liveHostLocked returns the host with id if it is registered and alive.
func (s *Service) liveHostLocked(id string) (*hostState, bool) {
	st, ok := s.hosts[id]
	if !ok || !s.aliveLocked(st) {
		return nil, false
	}
	return st, true
}

// removeHostLocked forgets the host and its holdings and returns the repair
// jobs to start once mu is released.
func (s *Service) removeHostLocked(id string) ([]func(context.Context), bool) {
	st, ok := s.hosts[id]
	if !ok {
		return nil, false
	}
	delete(s.hosts, id)
	var jobs []func(context.Context)
	for taskID := range st.tasks {
		jobs = append(jobs, s.removeHoldingLocked(taskID, st.host)...)
	}
	return jobs, true
}

func (s *Service) startJobs(jobs []func(context.Context)) {
	for _, j := range jobs {
		if j != nil {
			s.goBackground(j)
		}
	}
}

func unknownHostError(id string) error {
	return status.Errorf(codes.FailedPrecondition, "host %q is not registered or has expired; call AnnounceHost first", id)
}
