package scheduler

import (
	"cmp"
	"context"
	"slices"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/hashring"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// parentDecision is the outcome of one look at the state under mu. It is
// a response, a flight to wait for, or a flight this caller now leads.
type parentDecision struct {
	resp  *schedulerpb.FindParentsResponse
	wait  <-chan struct{}
	lead  chan struct{}
	seeds []*schedulerpb.Host
}

// FindParents returns where the host should fetch the task from. See the package
// doc for how concurrent calls for an uncached task are collapsed.
func (s *Service) FindParents(ctx context.Context, req *schedulerpb.FindParentsRequest) (*schedulerpb.FindParentsResponse, error) {
	if err := validateTask(req.GetTask()); err != nil {
		return nil, err
	}
	for {
		d, err := s.decideParents(req)
		switch {
		case err != nil:
			return nil, err
		case d.resp != nil:
			return d.resp, nil
		case d.lead != nil:
			return s.leadPrefetch(ctx, req, d)
		}
		// Another caller is asking seed peers; look again once it is done.
		select {
		case <-d.wait:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (s *Service) decideParents(req *schedulerpb.FindParentsRequest) (parentDecision, error) {
	t := req.GetTask()
	asker := req.GetHostId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.liveHostLocked(asker); !ok {
		return parentDecision{}, unknownHostError(asker)
	}
	if parents := s.parentsLocked(t.GetId(), asker); len(parents) > 0 {
		s.log.Debug("follow holders", "task", t.GetId(), "host", asker, "parents", len(parents))
		return parentDecision{resp: follow(parents...)}, nil
	}
	if ch, ok := s.flights[t.GetId()]; ok {
		return parentDecision{wait: ch}, nil
	}
	if ts, known := s.tasks[t.GetId()]; (known && !ts.persisted) || (!known && t.GetPending()) {
		s.log.Debug("pending task has no live holder", "task", t.GetId(), "host", asker)
		return parentDecision{resp: &schedulerpb.FindParentsResponse{Action: schedulerpb.Action_ACTION_NOT_FOUND}}, nil
	}
	seeds := s.rankSeedsLocked(t.GetId(), asker)
	if len(seeds) == 0 {
		s.addHolderLocked(asker, t, false)
		s.log.Debug("no seed peer, asker fetches from backend", "task", t.GetId(), "host", asker)
		return parentDecision{resp: fetchFromBackend()}, nil
	}
	ch := make(chan struct{})
	s.flights[t.GetId()] = ch
	return parentDecision{lead: ch, seeds: seeds}, nil
}

// leadPrefetch sends Prefetch to the seeds in order, and the first that
// accepts becomes the task's in-progress holder. With none left, the asker
// becomes the holder and fetches from the backend itself. Waiting callers
// are released only after the holder is recorded, so they follow it.
func (s *Service) leadPrefetch(ctx context.Context, req *schedulerpb.FindParentsRequest, d parentDecision) (*schedulerpb.FindParentsResponse, error) {
	t := req.GetTask()
	defer func() {
		s.mu.Lock()
		delete(s.flights, t.GetId())
		s.mu.Unlock()
		close(d.lead)
	}()
	for _, seed := range d.seeds {
		err := s.ctrl.Prefetch(ctx, seed, t)
		if err == nil && s.recordHolder(seed.GetId(), t) {
			s.log.Debug("seed peer prefetches task", "task", t.GetId(), "seed", seed.GetId(), "host", req.GetHostId())
			return follow(&schedulerpb.Parent{Host: seed}), nil
		}
		if ctx.Err() != nil {
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		s.log.Debug("seed peer rejected prefetch, trying the next", "task", t.GetId(), "seed", seed.GetId(), "err", err)
	}
	if !s.recordHolder(req.GetHostId(), t) {
		return nil, unknownHostError(req.GetHostId())
	}
	s.log.Debug("no seed peer accepted prefetch, asker fetches from backend", "task", t.GetId(), "host", req.GetHostId())
	return fetchFromBackend(), nil
}

func (s *Service) recordHolder(hostID string, t *schedulerpb.Task) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addHolderLocked(hostID, t, false)
}

// parentsLocked returns the live holders of the task other than exclude:
// complete ones first, then the least loaded, at most maxParents.
func (s *Service) parentsLocked(taskID, exclude string) []*schedulerpb.Parent {
	ts, ok := s.tasks[taskID]
	if !ok {
		return nil
	}
	var parents []*schedulerpb.Parent
	for id, complete := range ts.holders {
		if h, ok := s.liveHostLocked(id); ok && id != exclude {
			parents = append(parents, &schedulerpb.Parent{Host: proto.CloneOf(h.host), Complete: complete})
		}
	}
	slices.SortFunc(parents, func(a, b *schedulerpb.Parent) int {
		if a.GetComplete() != b.GetComplete() {
			if a.GetComplete() {
				return -1
			}
			return 1
		}
		return compareLoad(taskID, a.GetHost(), b.GetHost())
	})
	return parents[:min(len(parents), s.maxParents)]
}

// rankSeedsLocked returns the live seed peers that do not hold the task,
// other than exclude, least loaded first.
func (s *Service) rankSeedsLocked(taskID, exclude string) []*schedulerpb.Host {
	ts := s.tasks[taskID]
	var seeds []*schedulerpb.Host
	for id, h := range s.hosts {
		if ts != nil {
			if _, holds := ts.holders[id]; holds {
				continue
			}
		}
		if h.host.GetSeed() && id != exclude && s.aliveLocked(h) {
			seeds = append(seeds, proto.CloneOf(h.host))
		}
	}
	sortByLoad(taskID, seeds)
	return seeds
}

// compareLoad orders hosts by active uploads, breaking ties by rendezvous
// hash of the task id so that every scheduler spreads tasks the same way.
func compareLoad(taskID string, a, b *schedulerpb.Host) int {
	if c := cmp.Compare(a.GetActiveUploads(), b.GetActiveUploads()); c != 0 {
		return c
	}
	return cmp.Compare(hashring.Score(taskID, b.GetId()), hashring.Score(taskID, a.GetId()))
}

func follow(parents ...*schedulerpb.Parent) *schedulerpb.FindParentsResponse {
	return &schedulerpb.FindParentsResponse{Action: schedulerpb.Action_ACTION_FOLLOW_PARENTS, Parents: parents}
}

func fetchFromBackend() *schedulerpb.FindParentsResponse {
	return &schedulerpb.FindParentsResponse{Action: schedulerpb.Action_ACTION_FETCH_FROM_BACKEND}
}

// FindReplicaTargets lists every live seed peer that does not hold the
// task, other than the asker, least loaded first. It ignores req.Count and
// returns all candidates, so the caller can move on to the next one when a
// copy fails.
func (s *Service) FindReplicaTargets(_ context.Context, req *schedulerpb.FindReplicaTargetsRequest) (*schedulerpb.FindReplicaTargetsResponse, error) {
	if err := validateTask(req.GetTask()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seeds := s.rankSeedsLocked(req.GetTask().GetId(), req.GetHostId())
	s.log.Debug("replica targets", "task", req.GetTask().GetId(), "host", req.GetHostId(), "targets", len(seeds))
	return &schedulerpb.FindReplicaTargetsResponse{Hosts: seeds}, nil
}
