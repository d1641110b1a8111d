package scheduler

import (
	"context"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// writeBackJobLocked returns a job that hands the backend upload of the
// pending task to a live seed peer holding it complete, trying them least
// loaded first. It logs a warning and returns nil when no seed qualifies,
// because the object then exists only on hosts that do not upload it.
func (s *Service) writeBackJobLocked(ts *taskState, formerWriter string) func(context.Context) {
	t := ts.task
	var seeds []*schedulerpb.Host
	for id, complete := range ts.holders {
		if h, ok := s.liveHostLocked(id); ok && complete && h.host.GetSeed() {
			seeds = append(seeds, proto.CloneOf(h.host))
		}
	}
	sortByLoad(t.GetId(), seeds)
	if len(seeds) == 0 {
		s.log.Warn("write-back takeover impossible: the writer of a pending task left and no live seed peer holds it complete; the upload resumes only if the writer returns",
			"task", t.GetId(), "writer", formerWriter)
		return nil
	}
	return func(ctx context.Context) {
		for _, seed := range seeds {
			err := s.ctrl.WriteBack(ctx, seed, t)
			if err == nil {
				s.takeOverWrite(t.GetId(), seed.GetId())
				return
			}
			s.log.Error("write-back takeover failed", "task", t.GetId(), "seed", seed.GetId(), "err", err)
		}
	}
}

func (s *Service) takeOverWrite(taskID, seedID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts, ok := s.tasks[taskID]
	if !ok || ts.persisted || ts.writer != "" {
		return
	}
	ts.writer = seedID
	s.log.Info("seed peer took over write-back", "task", taskID, "seed", seedID)
}

// replicaJobLocked returns a job that tops the task's seed holders back up
// to min(max_replicas, live seeds) by asking other seeds to copy it from
// the remaining holders. It returns nil when no top-up is due or no live
// holder is left to copy from.
func (s *Service) replicaJobLocked(ts *taskState) func(context.Context) {
	t := ts.task
	if t.GetMaxReplicas() <= 0 {
		return nil
	}
	var sources []*schedulerpb.Host
	seedHolders := 0
	for id := range ts.holders {
		if h, ok := s.liveHostLocked(id); ok {
			sources = append(sources, proto.CloneOf(h.host))
			if h.host.GetSeed() {
				seedHolders++
			}
		}
	}
	targets := s.rankSeedsLocked(t.GetId(), "")
	need := min(int(t.GetMaxReplicas()), seedHolders+len(targets)) - seedHolders
	if need <= 0 || len(sources) == 0 {
		s.log.Debug("no replica top-up", "task", t.GetId(), "seedHolders", seedHolders, "sources", len(sources))
		return nil
	}
	sortByLoad(t.GetId(), sources)
	req := &schedulerpb.ReplicateRequest{Task: t, Sources: sources}
	return func(ctx context.Context) {
		for _, target := range targets {
			if need == 0 {
				return
			}
			if err := s.ctrl.Replicate(ctx, target, req); err != nil {
				s.log.Error("replica top-up failed, trying the next seed", "task", t.GetId(), "seed", target.GetId(), "err", err)
				continue
			}
			s.recordHolder(target.GetId(), t)
			s.log.Info("replica top-up started", "task", t.GetId(), "seed", target.GetId())
			need--
		}
	}
}

func sortByLoad(taskID string, hosts []*schedulerpb.Host) {
	slices.SortFunc(hosts, func(a, b *schedulerpb.Host) int { return compareLoad(taskID, a, b) })
}
