package cluster

import (
	"sync"
	"testing"
)

// TestConcurrentColdGet has 8 peers read one uncached 256 MiB object at
// the same moment. The scheduler collapses the misses into one fill, so
// every peer gets the same correct bytes and S3 receives one GET of the
// object, with a seed peer doing the fill and without one.
func TestConcurrentColdGet(t *testing.T) {
	const peers = 8
	obj := newContent(10, 256<<20)
	for _, tc := range []struct {
		name  string
		seeds int
	}{
		{"one seed peer", 1},
		{"no seed peer", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCluster(t, peers, tc.seeds)
			c.putS3("cold", obj)

			results := make([]got, peers)
			errs := make([]error, peers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, d := range c.peers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = d.tryGet(c.bucket, "cold")
				}()
			}
			close(start)
			wg.Wait()

			sources := map[string]int{}
			for i, d := range c.peers {
				if errs[i] != nil {
					t.Errorf("GET on %s: %v", d.id, errs[i])
					continue
				}
				checkGot(t, "GET on "+d.id, results[i], obj, "")
				sources[results[i].source]++
			}
			t.Logf("sources of the 8 GETs: %v", sources)
			if n := c.s3GETs("cold"); n != 1 {
				t.Errorf("S3 GETs of the object: %d, want 1 for 8 concurrent readers", n)
			}
		})
	}
}
