package scheduler

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

// findConcurrently calls FindParents for task from n hosts at once.
func findConcurrently(t *testing.T, env *testEnv, task *schedulerpb.Task, n int) []*schedulerpb.FindParentsResponse {
	t.Helper()
	resps := make([]*schedulerpb.FindParentsResponse, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			req := &schedulerpb.FindParentsRequest{HostId: fmt.Sprintf("peer-%d", i), Task: task}
			resps[i], errs[i] = env.client.FindParents(context.Background(), req)
		})
	}
	close(start)
	return waitResponses(t, &wg, resps, errs)
}

func waitResponses(t *testing.T, wg *sync.WaitGroup, resps []*schedulerpb.FindParentsResponse, errs []error) []*schedulerpb.FindParentsResponse {
	t.Helper()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("FindParents of peer-%d: %v", i, err)
		}
	}
	return resps
}

func TestFindParentsConcurrentOnePrefetch(t *testing.T) {
	env := newTestEnv(t)
	env.ctrl.gate = make(chan struct{})
	for i := range 8 {
		env.announceHost(t, newHost(fmt.Sprintf("peer-%d", i), false, 0))
	}
	env.announceHost(t, newHost("seed-a", true, 0))
	env.announceHost(t, newHost("seed-b", true, 4))
	task := newTask("movie.mp4", "v1", 1)

	go func() {
		// Hold the Prefetch until all 8 calls reached the server, so the
		// others arrive while it is in flight.
		for range 8 {
			<-env.entered
		}
		close(env.ctrl.gate)
	}()
	resps := findConcurrently(t, env, task, 8)

	call := env.ctrl.next(t)
	if call.action != "prefetch" || call.host != "seed-a" {
		t.Fatalf("control request = %s to %s; want prefetch to the least loaded seed-a", call.action, call.host)
	}
	if call.task.GetId() != task.GetId() {
		t.Errorf("prefetch task = %s; want %s", call.task.GetId(), task.GetId())
	}
	env.ctrl.expectNone(t)
	for i, r := range resps {
		if r.GetAction() != schedulerpb.Action_ACTION_FOLLOW_PARENTS {
			t.Errorf("peer-%d action = %v; want FOLLOW_PARENTS", i, r.GetAction())
		}
		if ids := parentIDs(r); !slices.Equal(ids, []string{"seed-a"}) {
			t.Errorf("peer-%d parents = %v; want [seed-a]", i, ids)
		}
	}
}

func TestFindParentsNoSeedOneBackendFetch(t *testing.T) {
	env := newTestEnv(t)
	for i := range 8 {
		env.announceHost(t, newHost(fmt.Sprintf("peer-%d", i), false, 0))
	}
	task := newTask("movie.mp4", "v1", 1)

	resps := findConcurrently(t, env, task, 8)

	fetcher := ""
	for i, r := range resps {
		if r.GetAction() == schedulerpb.Action_ACTION_FETCH_FROM_BACKEND {
			if fetcher != "" {
				t.Fatalf("peer-%d and %s both told to fetch from the backend", i, fetcher)
			}
			fetcher = fmt.Sprintf("peer-%d", i)
		}
	}
	if fetcher == "" {
		t.Fatal("no peer told to fetch from the backend")
	}
	for i, r := range resps {
		if id := fmt.Sprintf("peer-%d", i); id != fetcher {
			if ids := parentIDs(r); r.GetAction() != schedulerpb.Action_ACTION_FOLLOW_PARENTS || !slices.Equal(ids, []string{fetcher}) {
				t.Errorf("%s answer = %v %v; want FOLLOW_PARENTS [%s]", id, r.GetAction(), ids, fetcher)
			}
		}
	}
	env.ctrl.expectNone(t)
}

func TestFindParentsSeedFailureTriesNext(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer", false, 0))
	env.announceHost(t, newHost("seed-a", true, 0))
	env.announceHost(t, newHost("seed-b", true, 1))
	env.ctrl.setFail("seed-a")
	task := newTask("a.bin", "v1", 1)

	resp := env.findParents(t, "peer", task)

	if ids := parentIDs(resp); !slices.Equal(ids, []string{"seed-b"}) {
		t.Errorf("parents = %v; want [seed-b] after seed-a rejected", ids)
	}
	if c := env.ctrl.next(t); c.host != "seed-a" {
		t.Errorf("first prefetch to %s; want seed-a", c.host)
	}
	if c := env.ctrl.next(t); c.host != "seed-b" {
		t.Errorf("second prefetch to %s; want seed-b", c.host)
	}
}

func TestFindParentsAllSeedsFailBackend(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer", false, 0))
	env.announceHost(t, newHost("seed-a", true, 0))
	env.ctrl.setFail("seed-a")
	task := newTask("a.bin", "v1", 1)

	resp := env.findParents(t, "peer", task)
	if resp.GetAction() != schedulerpb.Action_ACTION_FETCH_FROM_BACKEND {
		t.Fatalf("action = %v; want FETCH_FROM_BACKEND when every seed rejects", resp.GetAction())
	}

	env.announceHost(t, newHost("peer-2", false, 0))
	next := env.findParents(t, "peer-2", task)
	if ids := parentIDs(next); !slices.Equal(ids, []string{"peer"}) {
		t.Errorf("later asker parents = %v; want [peer], the backend fetcher", ids)
	}
}

func TestFindParentsNeverReturnsAsker(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer-a", false, 0))
	env.announceHost(t, newHost("peer-b", false, 0))
	task := newTask("a.bin", "v1", 1)
	env.announceTask(t, "peer-a", task, true)
	env.announceTask(t, "peer-b", task, false)

	resp := env.findParents(t, "peer-a", task)

	if ids := parentIDs(resp); !slices.Equal(ids, []string{"peer-b"}) {
		t.Errorf("parents of peer-a = %v; want [peer-b]", ids)
	}
}

func TestFindParentsOrderCompleteThenLoad(t *testing.T) {
	env := newTestEnv(t) // maxParents 3
	env.announceHost(t, newHost("asker", false, 0))
	env.announceHost(t, newHost("partial-idle", false, 0))
	env.announceHost(t, newHost("complete-busy", false, 9))
	env.announceHost(t, newHost("complete-idle", false, 1))
	env.announceHost(t, newHost("partial-busy", false, 5))
	task := newTask("a.bin", "v1", 1)
	env.announceTask(t, "partial-idle", task, false)
	env.announceTask(t, "complete-busy", task, true)
	env.announceTask(t, "complete-idle", task, true)
	env.announceTask(t, "partial-busy", task, false)

	resp := env.findParents(t, "asker", task)

	want := []string{"complete-idle", "complete-busy", "partial-idle"}
	if ids := parentIDs(resp); !slices.Equal(ids, want) {
		t.Errorf("parents = %v; want %v (complete first, then least loaded, capped at 3)", ids, want)
	}
	if !resp.GetParents()[0].GetComplete() || resp.GetParents()[2].GetComplete() {
		t.Errorf("complete flags = %v, %v; want true, false", resp.GetParents()[0].GetComplete(), resp.GetParents()[2].GetComplete())
	}
}

func TestFindParentsSameIPDistinctHosts(t *testing.T) {
	env := newTestEnv(t)
	a, b := newHost("host-a", false, 0), newHost("host-b", false, 0)
	a.UploadPort, b.UploadPort = 65002, 65012
	env.announceHost(t, a)
	env.announceHost(t, b)
	task := newTask("a.bin", "v1", 1)
	env.announceTask(t, "host-a", task, true)

	resp := env.findParents(t, "host-b", task)

	if ids := parentIDs(resp); !slices.Equal(ids, []string{"host-a"}) {
		t.Fatalf("parents of host-b = %v; want [host-a] on the same IP", ids)
	}
	if p := resp.GetParents()[0].GetHost().GetUploadPort(); p != 65002 {
		t.Errorf("parent upload port = %d; want 65002 of host-a", p)
	}
}

func TestFindParentsPendingNotFound(t *testing.T) {
	env := newTestEnv(t)
	env.announceHost(t, newHost("peer", false, 0))
	env.announceHost(t, newHost("seed", true, 0))
	task := newTask("a.bin", "v1", 1)
	task.Pending = true

	resp := env.findParents(t, "peer", task)

	if resp.GetAction() != schedulerpb.Action_ACTION_NOT_FOUND {
		t.Errorf("action = %v; want NOT_FOUND for a pending task nobody holds", resp.GetAction())
	}
	env.ctrl.expectNone(t)
}

func TestFindParentsRejectsBadInput(t *testing.T) {
	env := newTestEnv(t)
	task := newTask("a.bin", "v1", 1)
	_, err := env.client.FindParents(context.Background(), &schedulerpb.FindParentsRequest{HostId: "ghost", Task: task})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("unknown host: code %v; want FailedPrecondition", status.Code(err))
	}

	env.announceHost(t, newHost("peer", false, 0))
	bad := newTask("a.bin", "v1", 1)
	bad.Id = "made-up"
	_, err = env.client.FindParents(context.Background(), &schedulerpb.FindParentsRequest{HostId: "peer", Task: bad})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("task id not from taskid.New: code %v; want InvalidArgument", status.Code(err))
	}
}

func TestFindParentsWaiterTakesOverCancelledFlight(t *testing.T) {
	env := newTestEnv(t)
	env.ctrl.gate = make(chan struct{})
	env.announceHost(t, newHost("leader", false, 0))
	env.announceHost(t, newHost("waiter", false, 0))
	env.announceHost(t, newHost("seed", true, 0))
	task := newTask("a.bin", "v1", 1)

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := env.client.FindParents(leaderCtx, &schedulerpb.FindParentsRequest{HostId: "leader", Task: task})
		leaderErr <- err
	}()
	waitFlight(t, env, task.GetId())
	waiterResp := make(chan *schedulerpb.FindParentsResponse, 1)
	waiterErr := make(chan error, 1)
	go func() {
		resp, err := env.client.FindParents(context.Background(), &schedulerpb.FindParentsRequest{HostId: "waiter", Task: task})
		waiterResp <- resp
		waiterErr <- err
	}()
	<-env.entered
	<-env.entered

	cancelLeader()
	if err := <-leaderErr; status.Code(err) != codes.Canceled {
		t.Fatalf("leader FindParents = %v; want Canceled", err)
	}
	close(env.ctrl.gate)

	resp := <-waiterResp
	if err := <-waiterErr; err != nil {
		t.Fatalf("waiter FindParents: %v", err)
	}
	if ids := parentIDs(resp); !slices.Equal(ids, []string{"seed"}) {
		t.Errorf("waiter parents = %v; want [seed] after taking over the cancelled flight", ids)
	}
	if c := env.ctrl.next(t); c.action != "prefetch" || c.host != "seed" {
		t.Errorf("control request = %s to %s; want prefetch to seed", c.action, c.host)
	}
	env.ctrl.expectNone(t)
}

// waitFlight polls until a FindParents call leads a prefetch flight for
// the task.
func waitFlight(t *testing.T, env *testEnv, taskID string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		env.svc.mu.Lock()
		_, ok := env.svc.flights[taskID]
		env.svc.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no prefetch flight started within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
