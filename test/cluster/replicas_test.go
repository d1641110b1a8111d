package cluster

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// TestMaxReplicas writes objects with maxReplicas 1, 2 and 5 on a peer in
// a cluster of 3 seed peers, all on 127.0.0.1, and checks that min(n, 3)
// seed peers hold each one.
func TestMaxReplicas(t *testing.T) {
	c := startCluster(t, 1, 3)
	writer := c.peers[0]
	for _, n := range []int{1, 2, 5} {
		key := "replicas-" + strconv.Itoa(n)
		obj := newContent(uint64(30+n), 3<<20)
		writer.put(t, c.bucket, key, obj, client.PutObjectOptions{Mode: api.WriteBack, MaxReplicas: n})
		want := min(n, len(c.seeds))
		writer.waitReplicasPlaced(t, c.bucket, key, want)
		if holders := c.seedHolders(t, key, obj, c.seeds); len(holders) != want {
			t.Errorf("maxReplicas %d: seed peers holding %s: %v, want %d of them", n, key, holders, want)
		}
	}
}

// TestReplicaSkipsRejectingSeed gives one of 3 seed peers a disk quota
// smaller than the object, so it rejects replicas. It writes with
// maxReplicas 2 until the writer has tried that seed peer. The next seed
// peer must take the copy, so both others hold every object.
func TestReplicaSkipsRejectingSeed(t *testing.T) {
	c := startControlPlane(t)
	c.addDaemon(true, daemonOptions{})
	c.addDaemon(true, daemonOptions{})
	small := c.addDaemon(true, daemonOptions{diskQuota: "1MiB"})
	writer := c.addDaemon(false, daemonOptions{})
	c.waitJoined(c.all()...)
	good := c.seeds[:2]

	// Seed peers are ranked by a hash of the task id, so each object
	// tries the small seed peer first or second with probability 2/3.
	tried := false
	for i := 0; i < 8 && !tried; i++ {
		key := fmt.Sprintf("rejected-%d", i)
		obj := newContent(uint64(40+i), 3<<20)
		writer.put(t, c.bucket, key, obj, client.PutObjectOptions{Mode: api.WriteBack, MaxReplicas: 2})
		writer.waitReplicasPlaced(t, c.bucket, key, 2)
		if holders := c.seedHolders(t, key, obj, good); len(holders) != 2 {
			t.Errorf("seed peers holding %s: %v, want seed-1 and seed-2", key, holders)
		}
		tried = writer.logHasLine(`msg="replica push failed, trying the next seed peer" seed=` + small.id + " key=" + key)
	}
	if !tried {
		t.Fatalf("the writer never tried %s in 8 objects; the test did not exercise a rejection", small.id)
	}
}

// waitReplicasPlaced waits until d logged that it finished placing
// replicas of key, and fails the test unless it placed want of them.
func (d *daemon) waitReplicasPlaced(t *testing.T, bucket, key string, want int) {
	t.Helper()
	prefix := `msg="replicas placed" bucket=` + bucket + " key=" + key + " "
	waitFor(t, _startTimeout, d.id+" to place replicas of "+key, func() bool { return d.logContains(prefix) })
	if placed := fmt.Sprintf(" placed=%d ", want); !d.logLineHas(prefix, placed) {
		t.Errorf("%s did not log%sfor %s; see its log", d.id, placed, key)
	}
}

// seedHolders reads key on each seed peer and returns the ids of those
// that served it from their own cache. A seed peer that did not hold it
// fetches it on this read, so call it once per key.
func (c *testCluster) seedHolders(t *testing.T, key string, obj content, seeds []*daemon) []string {
	t.Helper()
	var holders []string
	for _, s := range seeds {
		g := s.get(t, c.bucket, key)
		checkGot(t, "GET on "+s.id, g, obj, "")
		if g.source == api.SourceLocal {
			holders = append(holders, s.id)
		}
	}
	return holders
}
