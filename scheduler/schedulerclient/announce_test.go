package schedulerclient

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dfcache/dfcache/rpc/schedulerpb"
)

func TestRunAnnounceThenLeave(t *testing.T) {
	scheds := startSchedulers(t, 2)
	c := newClient(t, addrsOf(scheds))
	var load atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.RunAnnounce(ctx, func() *schedulerpb.Host {
			h := host("peer-1")
			h.ActiveUploads = load.Add(1)
			return h
		})
	}()

	waitFor(t, "first announcement on both schedulers", func() bool {
		for _, s := range scheds {
			if s.callCount(schedulerpb.Scheduler_AnnounceHost_FullMethodName) == 0 {
				return false
			}
		}
		return true
	})
	cancel()
	<-done

	for _, s := range scheds {
		if n := s.callCount(schedulerpb.Scheduler_LeaveHost_FullMethodName); n != 1 {
			t.Errorf("scheduler %s got %d LeaveHost calls; want 1", s.addr, n)
		}
		_, err := s.svc.FindParents(context.Background(), &schedulerpb.FindParentsRequest{HostId: "peer-1", Task: task("k")})
		if err == nil {
			t.Errorf("scheduler %s still knows peer-1 after RunAnnounce ended", s.addr)
		}
	}
	if load.Load() < 1 {
		t.Error("hostFn was never called")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5 s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
