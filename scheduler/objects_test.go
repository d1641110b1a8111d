package scheduler

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

func TestStatObjectNewestWins(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer-a", false, 0))
	env.announceHost(t, newHost("peer-b", false, 0))
	v2 := newTask("k", "v2", 2000)
	v1 := newTask("k", "v1", 1000)
	env.announceTask(t, "peer-a", v2, true)
	env.announceTask(t, "peer-b", v1, true) // announced later but older

	got := statObject(t, env, "k")
	if !got.GetFound() || got.GetTask().GetVersion() != "v2" {
		t.Fatalf("StatObject = found %v version %q; want v2 (created later)", got.GetFound(), got.GetTask().GetVersion())
	}

	tieA, tieB := newTask("k", "tie-a", 3000), newTask("k", "tie-b", 3000)
	env.announceTask(t, "peer-a", tieA, true)
	env.announceTask(t, "peer-b", tieB, true)
	if v := statObject(t, env, "k").GetTask().GetVersion(); v != "tie-b" {
		t.Errorf("StatObject with equal created_unix_ms = %q; want tie-b, the latest announced", v)
	}
}

func TestStatObjectSkipsUnheldPending(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("writer", false, 0))
	env.announceHost(t, newHost("reader", false, 0))
	persisted := newTask("k", "v1", 1000)
	env.announceTask(t, "reader", persisted, true)
	pending := newTask("k", "v2", 2000)
	pending.Pending = true
	env.announceTask(t, "writer", pending, true)

	if v := statObject(t, env, "k").GetTask().GetVersion(); v != "v2" {
		t.Fatalf("StatObject = %q; want v2 while its writer is alive", v)
	}
	leave(t, env, "writer")
	leave(t, env, "reader")

	got := statObject(t, env, "k")
	if !got.GetFound() || got.GetTask().GetVersion() != "v1" || got.GetTask().GetPending() {
		t.Errorf("StatObject = found %v %q pending %v; want persisted v1 after v2's only holder left",
			got.GetFound(), got.GetTask().GetVersion(), got.GetTask().GetPending())
	}
	if other := statObject(t, env, "other"); other.GetFound() {
		t.Error("StatObject of an unknown key found = true; want false")
	}
}

func leave(t *testing.T, env *testEnv, hostID string) {
	t.Helper()
	if _, err := env.client.LeaveHost(context.Background(), &schedulerpb.LeaveHostRequest{HostId: hostID}); err != nil {
		t.Fatalf("LeaveHost(%s): %v", hostID, err)
	}
}

func TestDeleteObjectCallsHolders(t *testing.T) {
	env := newTestEnv(t)
	for _, id := range []string{"requester", "peer", "seed"} {
		env.announceHost(t, newHost(id, id == "seed", 0))
	}
	v1, v2 := newTask("k", "v1", 1), newTask("k", "v2", 2)
	env.announceTask(t, "requester", v2, true)
	env.announceTask(t, "peer", v1, true)
	env.announceTask(t, "seed", v2, false)
	kept := newTask("other", "v1", 1)
	env.announceTask(t, "peer", kept, true)

	req := &schedulerpb.DeleteObjectRequest{HostId: "requester", BackendId: "s3-main", Bucket: "bucket", Key: "k"}
	if _, err := env.client.DeleteObject(context.Background(), req); err != nil {
		t.Fatal(err)
	}

	var hosts []string
	for range 2 {
		c := env.ctrl.next(t)
		if c.action != "delete" || c.del.GetKey() != "k" || c.del.GetBucket() != "bucket" {
			t.Fatalf("control request = %s of %s/%s; want delete of bucket/k", c.action, c.del.GetBucket(), c.del.GetKey())
		}
		hosts = append(hosts, c.host)
	}
	slices.Sort(hosts)
	if !slices.Equal(hosts, []string{"peer", "seed"}) {
		t.Errorf("delete sent to %v; want [peer seed], not the requester", hosts)
	}
	if statObject(t, env, "k").GetFound() {
		t.Error("StatObject after DeleteObject found = true; want false")
	}
	if !statObject(t, env, "other").GetFound() {
		t.Error("StatObject of another key found = false after DeleteObject; want true")
	}
}

func TestDeleteObjectRetriesFailedHost(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer", false, 0))
	env.announceTask(t, "peer", newTask("k", "v1", 1), true)
	env.ctrl.setFail("peer")

	req := &schedulerpb.DeleteObjectRequest{BackendId: "s3-main", Bucket: "bucket", Key: "k"}
	if _, err := env.client.DeleteObject(context.Background(), req); err != nil {
		t.Fatal(err)
	}

	for i := range deleteAttempts {
		if c := env.ctrl.next(t); c.action != "delete" || c.host != "peer" {
			t.Fatalf("attempt %d = %s to %s; want delete to peer", i+1, c.action, c.host)
		}
	}
	env.svc.Close()
	env.ctrl.expectNone(t)
}

func TestFindReplicaTargetsOrder(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("asker-seed", true, 0))
	env.announceHost(t, newHost("holder", true, 0))
	env.announceHost(t, newHost("busy", true, 7))
	env.announceHost(t, newHost("idle", true, 0))
	env.announceHost(t, newHost("medium", true, 2))
	env.announceHost(t, newHost("peer", false, 0))
	env.announceHost(t, newHost("silent", true, 0))
	task := newTask("k", "v1", 1)
	env.announceTask(t, "holder", task, true)
	env.clock.Advance(10 * time.Second)
	for _, id := range []string{"asker-seed", "busy", "idle", "medium", "peer", "holder"} {
		env.announceHost(t, newHost(id, id != "peer", map[string]int32{"busy": 7, "medium": 2}[id]))
	}
	env.clock.Advance(6 * time.Second) // silent is now past 3 x 5 s

	resp, err := env.client.FindReplicaTargets(context.Background(),
		&schedulerpb.FindReplicaTargetsRequest{HostId: "asker-seed", Task: task, Count: 1})
	if err != nil {
		t.Fatal(err)
	}

	var ids []string
	for _, h := range resp.GetHosts() {
		ids = append(ids, h.GetId())
	}
	if want := []string{"idle", "medium", "busy"}; !slices.Equal(ids, want) {
		t.Errorf("targets = %v; want %v (least loaded first, no holder, asker, peer or silent seed)", ids, want)
	}
}
