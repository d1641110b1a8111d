package scheduler

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

func TestExpiryRemovesHoldings(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("stale", false, 0))
	env.announceHost(t, newHost("fresh", false, 0))
	env.announceHost(t, newHost("asker", false, 0))
	task := newTask("a.bin", "v1", 1)
	env.announceTask(t, "stale", task, true)
	env.announceTask(t, "fresh", task, true)

	env.clock.Advance(10 * time.Second)
	env.announceHost(t, newHost("fresh", false, 0))
	env.announceHost(t, newHost("asker", false, 0))
	env.clock.Advance(6 * time.Second) // stale silent for 16 s > 3 x 5 s
	env.svc.ExpireHosts()

	resp := env.findParents(t, "asker", task)
	if ids := parentIDs(resp); !slices.Equal(ids, []string{"fresh"}) {
		t.Errorf("parents after expiry = %v; want [fresh]", ids)
	}
	_, err := env.client.AnnounceTask(context.Background(), &schedulerpb.AnnounceTaskRequest{HostId: "stale", Task: task})
	if err == nil {
		t.Error("AnnounceTask from an expired host succeeded; want FailedPrecondition")
	}
}

func TestSilentHostSkippedBeforeExpiry(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("silent", false, 0))
	task := newTask("a.bin", "v1", 1)
	task.Pending = true
	env.announceTask(t, "silent", task, true)

	env.clock.Advance(16 * time.Second)
	env.announceHost(t, newHost("asker", false, 0))
	resp := env.findParents(t, "asker", task)

	if resp.GetAction() != schedulerpb.Action_ACTION_NOT_FOUND {
		t.Errorf("action = %v %v; want NOT_FOUND while the only holder is silent", resp.GetAction(), parentIDs(resp))
	}
}

func TestReplicaTopUpWhenSeedLeaves(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("writer", false, 0))
	env.announceHost(t, newHost("seed-1", true, 0))
	env.announceHost(t, newHost("seed-2", true, 0))
	env.announceHost(t, newHost("seed-3", true, 5))
	env.announceHost(t, newHost("seed-4", true, 1))
	task := newTask("a.bin", "v1", 1)
	task.MaxReplicas = 2
	env.announceTask(t, "writer", task, true)
	env.announceTask(t, "seed-1", task, true)
	env.announceTask(t, "seed-2", task, true)

	if _, err := env.client.LeaveHost(context.Background(), &schedulerpb.LeaveHostRequest{HostId: "seed-1"}); err != nil {
		t.Fatal(err)
	}

	call := env.ctrl.next(t)
	if call.action != "replicate" || call.host != "seed-4" {
		t.Fatalf("control request = %s to %s; want replicate to seed-4, the least loaded free seed", call.action, call.host)
	}
	var sources []string
	for _, h := range call.repl.GetSources() {
		sources = append(sources, h.GetId())
	}
	slices.Sort(sources)
	if !slices.Equal(sources, []string{"seed-2", "writer"}) {
		t.Errorf("replicate sources = %v; want the remaining holders [seed-2 writer]", sources)
	}
	if call.task.GetId() != task.GetId() {
		t.Errorf("replicate task = %s; want %s", call.task.GetId(), task.GetId())
	}
	waitHolder(t, env, task, "seed-4")
	env.ctrl.expectNone(t)
}

func TestNoTopUpWhenEnoughSeeds(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("seed-1", true, 0))
	env.announceHost(t, newHost("seed-2", true, 0))
	env.announceHost(t, newHost("seed-3", true, 0))
	task := newTask("a.bin", "v1", 1)
	task.MaxReplicas = 1
	env.announceTask(t, "seed-1", task, true)
	env.announceTask(t, "seed-2", task, true)

	if _, err := env.client.WithdrawTask(context.Background(), &schedulerpb.WithdrawTaskRequest{HostId: "seed-1", TaskId: task.GetId()}); err != nil {
		t.Fatal(err)
	}
	env.announceHost(t, newHost("peer", false, 0))
	resp := env.findParents(t, "peer", task)
	if ids := parentIDs(resp); !slices.Equal(ids, []string{"seed-2"}) {
		t.Errorf("parents = %v; want [seed-2]", ids)
	}
	env.svc.Close() // waits for background jobs, so a top-up would be queued now

	env.ctrl.expectNone(t)
}

// waitHolder polls until host is a parent of task for a fresh asker.
func waitHolder(t *testing.T, env *testEnv, task *schedulerpb.Task, host string) {
	t.Helper()
	env.announceHost(t, newHost("probe", false, 0))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if slices.Contains(parentIDs(env.findParents(t, "probe", task)), host) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s not recorded as holder of %s within 5 s", host, task.GetKey())
}

func TestWriteBackTakeoverWhenWriterLeaves(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("writer", false, 0))
	env.announceHost(t, newHost("seed-partial", true, 0))
	env.announceHost(t, newHost("seed-full", true, 3))
	task := newTask("a.bin", "v1", 1)
	task.Pending = true
	env.announceTask(t, "writer", task, true)
	env.announceTask(t, "seed-partial", task, false)
	env.announceTask(t, "seed-full", task, true)

	if _, err := env.client.LeaveHost(context.Background(), &schedulerpb.LeaveHostRequest{HostId: "writer"}); err != nil {
		t.Fatal(err)
	}

	call := env.ctrl.next(t)
	if call.action != "writeback" || call.host != "seed-full" {
		t.Fatalf("control request = %s to %s; want writeback to seed-full, the only complete seed", call.action, call.host)
	}
	if call.task.GetId() != task.GetId() {
		t.Errorf("writeback task = %s; want %s", call.task.GetId(), task.GetId())
	}
	stat := statObject(t, env, "a.bin")
	if !stat.GetFound() || !stat.GetTask().GetPending() {
		t.Errorf("StatObject after takeover = found %v pending %v; want found, still pending", stat.GetFound(), stat.GetTask().GetPending())
	}
}

func TestNoTakeoverOncePersisted(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("writer", false, 0))
	env.announceHost(t, newHost("seed", true, 0))
	task := newTask("a.bin", "v1", 1)
	task.Pending = true
	env.announceTask(t, "writer", task, true)
	env.announceTask(t, "seed", task, true)
	done := newTask("a.bin", "v1", 1)
	env.announceTask(t, "writer", done, true) // upload ended: pending=false

	if _, err := env.client.LeaveHost(context.Background(), &schedulerpb.LeaveHostRequest{HostId: "writer"}); err != nil {
		t.Fatal(err)
	}
	env.svc.Close()
	env.ctrl.expectNone(t)
	if stat := statObject(t, env, "a.bin"); stat.GetTask().GetPending() {
		t.Error("StatObject pending = true after a pending=false announcement; want false")
	}
}

func statObject(t *testing.T, env *testEnv, key string) *schedulerpb.StatObjectResponse {
	t.Helper()
	resp, err := env.client.StatObject(context.Background(), &schedulerpb.StatObjectRequest{BackendId: "s3-main", Bucket: "bucket", Key: key})
	if err != nil {
		t.Fatalf("StatObject(%s): %v", key, err)
	}
	return resp
}
