package scheduler

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// deleteAttempts and deleteBackoff bound the retries of one Delete control
// request; the backoff doubles after each failure.
const (
	deleteAttempts = 3
	deleteBackoff  = 500 * time.Millisecond
)

// StatObject returns the newest version of the key, by created_unix_ms and
// then by latest announcement, among the versions that a live host holds
// or that are persisted. Task.pending is false once any host announced the
// version as persisted.
func (s *Service) StatObject(_ context.Context, req *schedulerpb.StatObjectRequest) (*schedulerpb.StatObjectResponse, error) {
	if req.GetBucket() == "" || req.GetKey() == "" {
		return nil, status.Error(codes.InvalidArgument, "bucket and key must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *taskState
	for id := range s.keys[objectKey{req.GetBackendId(), req.GetBucket(), req.GetKey()}] {
		ts := s.tasks[id]
		if !ts.persisted && !s.hasLiveHolderLocked(ts) {
			continue
		}
		if best == nil || newer(ts, best) {
			best = ts
		}
	}
	if best == nil {
		return &schedulerpb.StatObjectResponse{}, nil
	}
	t := proto.CloneOf(best.task)
	t.Pending = !best.persisted
	return &schedulerpb.StatObjectResponse{Found: true, Task: t}, nil
}

func newer(a, b *taskState) bool {
	if ca, cb := a.task.GetCreatedUnixMs(), b.task.GetCreatedUnixMs(); ca != cb {
		return ca > cb
	}
	return a.seq > b.seq
}

func (s *Service) hasLiveHolderLocked(ts *taskState) bool {
	for id := range ts.holders {
		if _, ok := s.liveHostLocked(id); ok {
			return true
		}
	}
	return false
}

// DeleteObject forgets every version of the key and, in the background,
// sends a Delete control request to every other host that held one. A
// host that still fails after three attempts is logged and keeps its
// copy until it evicts it.
func (s *Service) DeleteObject(_ context.Context, req *schedulerpb.DeleteObjectRequest) (*schedulerpb.Empty, error) {
	if req.GetBucket() == "" || req.GetKey() == "" {
		return nil, status.Error(codes.InvalidArgument, "bucket and key must not be empty")
	}
	holders := map[string]*schedulerpb.Host{}
	s.mu.Lock()
	for id := range s.keys[objectKey{req.GetBackendId(), req.GetBucket(), req.GetKey()}] {
		for hostID := range s.tasks[id].holders {
			if h, ok := s.hosts[hostID]; ok && hostID != req.GetHostId() {
				holders[hostID] = h.host
			}
		}
		s.dropTaskLocked(id)
	}
	s.mu.Unlock()
	s.log.Debug("object deleted", "bucket", req.GetBucket(), "key", req.GetKey(), "host", req.GetHostId(), "holders", len(holders))
	req = proto.CloneOf(req)
	for _, h := range holders {
		s.goBackground(func(ctx context.Context) { s.sendDelete(ctx, h, req) })
	}
	return &schedulerpb.Empty{}, nil
}

func (s *Service) sendDelete(ctx context.Context, h *schedulerpb.Host, req *schedulerpb.DeleteObjectRequest) {
	backoff := deleteBackoff
	for attempt := 1; ; attempt++ {
		err := s.ctrl.Delete(ctx, h, req)
		if err == nil {
			return
		}
		if attempt == deleteAttempts || ctx.Err() != nil {
			s.log.Error("delete on host failed; it keeps its copy until evicted",
				"host", h.GetId(), "bucket", req.GetBucket(), "key", req.GetKey(), "attempts", attempt, "err", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}
