package scheduler

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
	"github.com/dfcache/dfcache/taskid"
)

// validateTask checks that the task names an object and that its id is
// taskid.New of its identity, so the key index cannot point to a wrong id.
func validateTask(t *schedulerpb.Task) error {
	if t == nil {
		return status.Error(codes.InvalidArgument, "task: missing")
	}
	if t.GetBucket() == "" || t.GetKey() == "" {
		return status.Errorf(codes.InvalidArgument, "task %s: bucket and key must not be empty", t.GetId())
	}
	want := taskid.New(t.GetBackendId(), t.GetBucket(), t.GetKey(), t.GetVersion())
	if t.GetId() != want {
		return status.Errorf(codes.InvalidArgument,
			"task.id: %q does not match its backend_id, bucket, key and version; compute it with taskid.New (expected %s)", t.GetId(), want)
	}
	return nil
}

// addHolderLocked records that the live host hostID holds the task and
// creates the task's record on first sight. It returns false when the host
// is not registered.
func (s *Service) addHolderLocked(hostID string, t *schedulerpb.Task, complete bool) bool {
	h, ok := s.hosts[hostID]
	if !ok {
		return false
	}
	ts := s.tasks[t.GetId()]
	if ts == nil {
		ts = s.newTaskLocked(t)
	}
	ts.holders[hostID] = complete
	h.tasks[t.GetId()] = struct{}{}
	return true
}

func (s *Service) newTaskLocked(t *schedulerpb.Task) *taskState {
	ts := &taskState{
		task:      proto.CloneOf(t),
		holders:   make(map[string]bool),
		persisted: !t.GetPending(),
	}
	s.tasks[t.GetId()] = ts
	k := keyOf(t)
	if s.keys[k] == nil {
		s.keys[k] = make(map[string]struct{})
	}
	s.keys[k][t.GetId()] = struct{}{}
	return ts
}

func (s *Service) dropTaskLocked(id string) {
	ts, ok := s.tasks[id]
	if !ok {
		return
	}
	for hostID := range ts.holders {
		if h, ok := s.hosts[hostID]; ok {
			delete(h.tasks, id)
		}
	}
	delete(s.tasks, id)
	k := keyOf(ts.task)
	delete(s.keys[k], id)
	if len(s.keys[k]) == 0 {
		delete(s.keys, k)
	}
}

// removeHoldingLocked forgets that host holds the task and returns the
// repair jobs this calls for: a write-back takeover when host was the
// writer of a pending task, and a replica top-up when host was a seed.
// A task left with no holder is forgotten unless it is persisted, because
// StatObject still reports persisted versions.
func (s *Service) removeHoldingLocked(taskID string, host *schedulerpb.Host) []func(context.Context) {
	if h, ok := s.hosts[host.GetId()]; ok {
		delete(h.tasks, taskID)
	}
	ts, ok := s.tasks[taskID]
	if !ok {
		return nil
	}
	if _, held := ts.holders[host.GetId()]; !held {
		return nil
	}
	delete(ts.holders, host.GetId())
	var jobs []func(context.Context)
	if ts.writer == host.GetId() && !ts.persisted {
		ts.writer = ""
		jobs = append(jobs, s.writeBackJobLocked(ts, host.GetId()))
	}
	if host.GetSeed() {
		jobs = append(jobs, s.replicaJobLocked(ts))
	}
	// NOTE: a persisted version with no holder stays until a newer version
	// of its key is announced or the key is deleted, so memory grows with
	// the number of distinct persisted keys ever seen.
	if len(ts.holders) == 0 && !ts.persisted {
		s.dropTaskLocked(taskID)
	}
	return jobs
}

// AnnounceTask records that a host holds a task, in full or in part, and
// stores the task's metadata. The first host to announce a pending task
// is its writer; an announcement with pending=false marks it persisted.
func (s *Service) AnnounceTask(_ context.Context, req *schedulerpb.AnnounceTaskRequest) (*schedulerpb.Empty, error) {
	t := req.GetTask()
	if err := validateTask(t); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.liveHostLocked(req.GetHostId()); !ok {
		return nil, unknownHostError(req.GetHostId())
	}
	ts := s.tasks[t.GetId()]
	if ts == nil {
		ts = s.newTaskLocked(t)
		if t.GetPending() {
			ts.writer = req.GetHostId()
		}
	} else {
		s.updateTaskLocked(ts, t)
	}
	s.seq++
	ts.seq = s.seq
	s.addHolderLocked(req.GetHostId(), t, req.GetComplete())
	s.pruneOldVersionsLocked(t)
	s.log.Debug("task announced", "task", t.GetId(), "host", req.GetHostId(), "complete", req.GetComplete(), "pending", !ts.persisted)
	return &schedulerpb.Empty{}, nil
}

// updateTaskLocked takes the newer metadata but keeps created_unix_ms when
// the announcement lacks it. Persisted is final: a later pending=true
// announcement from a replica does not undo it.
func (s *Service) updateTaskLocked(ts *taskState, t *schedulerpb.Task) {
	next := proto.CloneOf(t)
	if next.GetCreatedUnixMs() == 0 {
		next.CreatedUnixMs = ts.task.GetCreatedUnixMs()
	}
	ts.task = next
	if !t.GetPending() && !ts.persisted {
		ts.persisted = true
		ts.writer = ""
		s.log.Debug("task persisted", "task", t.GetId())
	}
}

// pruneOldVersionsLocked forgets versions of t's key that no host holds
// and that are older than t, so at most one holder-less persisted version
// per key stays in memory.
func (s *Service) pruneOldVersionsLocked(t *schedulerpb.Task) {
	for id := range s.keys[keyOf(t)] {
		ts := s.tasks[id]
		if id != t.GetId() && len(ts.holders) == 0 && ts.task.GetCreatedUnixMs() <= t.GetCreatedUnixMs() {
			s.dropTaskLocked(id)
		}
	}
}

// WithdrawTask records that a host no longer holds a task. Unknown hosts
// and tasks are not an error.
func (s *Service) WithdrawTask(_ context.Context, req *schedulerpb.WithdrawTaskRequest) (*schedulerpb.Empty, error) {
	var jobs []func(context.Context)
	s.mu.Lock()
	if h, ok := s.hosts[req.GetHostId()]; ok {
		jobs = s.removeHoldingLocked(req.GetTaskId(), h.host)
	}
	s.mu.Unlock()
	s.startJobs(jobs)
	return &schedulerpb.Empty{}, nil
}
