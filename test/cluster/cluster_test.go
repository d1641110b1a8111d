package cluster

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/client"
	"github.com/dfcache/dfcache/internal/testenv"
)

// Intervals of the test cluster, short so that joins, expiry and refreshes
// take seconds.
const (
	_refreshInterval = "1s"
	// _hostKeepAlive makes the scheduler drop a silent host after three
	// intervals, 3 s.
	_hostKeepAlive = "1s"
	_managerTTL    = "5s"
	_startTimeout  = 60 * time.Second
	_pieceSize     = "1MiB"
)

// testCluster is a manager, a scheduler and dfdaemons on 127.0.0.1, with
// versitygw behind a proxy as the backend that the manager hands out.
type testCluster struct {
	t  *testing.T
	s3 *testenv.S3Server
	// proxy counts the S3 requests and injects faults. The throttle in
	// front of it is the endpoint the manager hands out.
	proxy    *testenv.Proxy
	throttle *throttle
	sdk      *s3.Client
	bucket   string

	managerAddr string
	manager     *process
	scheduler   *process
	peers       []*daemon
	seeds       []*daemon
}

// daemon is one dfdaemon of the cluster.
type daemon struct {
	*process
	id     string
	seed   bool
	URL    string
	client *client.Client
}

// daemonOptions tune one dfdaemon.
type daemonOptions struct {
	// diskQuota is cache.diskQuota; empty means 4GiB.
	diskQuota string
}

// startCluster starts the backend, the manager and the scheduler, then
// peers and seed peers with default options, and waits until the
// scheduler has registered every daemon.
func startCluster(t *testing.T, peers, seeds int) *testCluster {
	t.Helper()
	c := startControlPlane(t)
	for range seeds {
		c.addDaemon(true, daemonOptions{})
	}
	for range peers {
		c.addDaemon(false, daemonOptions{})
	}
	c.waitJoined(append(append([]*daemon{}, c.peers...), c.seeds...)...)
	return c
}

// startControlPlane starts versitygw, the proxy, the manager and the
// scheduler, with no daemon yet.
func startControlPlane(t *testing.T) *testCluster {
	t.Helper()
	srv := testenv.StartS3(t)
	c := &testCluster{t: t, s3: srv, proxy: testenv.NewProxy(t, srv.Endpoint), sdk: srv.Client(), bucket: "cluster-bucket"}
	srv.CreateBucket(t, c.bucket)
	c.throttle = newThrottle(t, c.proxy.URL)
	c.startManager()
	c.startScheduler()
	return c
}

func (c *testCluster) startManager() {
	port, statusPort := testenv.FreePort(c.t), testenv.FreePort(c.t)
	c.managerAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := map[string]any{
		"server":       map[string]any{"listen": "127.0.0.1", "port": port},
		"status":       map[string]any{"listen": "127.0.0.1", "port": statusPort},
		"keepAliveTTL": _managerTTL,
		"objectStorage": map[string]any{
			"enable": true, "name": "s3", "region": c.s3.Region, "endpoint": c.throttle.URL,
			"accessKey": c.s3.AccessKey, "secretKey": c.s3.SecretKey, "s3ForcePathStyle": true,
		},
		"log": map[string]any{"level": "debug"},
	}
	c.manager = newProcess(c.t, c.t.TempDir(), "manager", "manager", cfg)
	c.manager.start()
	c.waitHTTP(c.manager, fmt.Sprintf("http://127.0.0.1:%d/healthy", statusPort))
}

func (c *testCluster) startScheduler() {
	port := testenv.FreePort(c.t)
	cfg := map[string]any{
		"server":        map[string]any{"listen": "127.0.0.1", "port": port},
		"manager":       map[string]any{"netAddrs": c.managerAddrs(), "keepAlive": _refreshInterval},
		"hostKeepAlive": _hostKeepAlive,
		"log":           map[string]any{"level": "debug"},
	}
	c.scheduler = newProcess(c.t, c.t.TempDir(), "scheduler", "scheduler", cfg)
	c.scheduler.start()
	waitFor(c.t, _startTimeout, "scheduler start", func() bool {
		c.checkAlive(c.scheduler)
		return c.scheduler.logContains(`msg="scheduler started"`)
	})
	waitFor(c.t, _startTimeout, "manager to list the scheduler", func() bool {
		return c.manager.logContains("member joined")
	})
}

func (c *testCluster) managerAddrs() []map[string]any {
	return []map[string]any{{"type": "tcp", "addr": c.managerAddr}}
}

// addDaemon starts a peer or seed peer named peer-N or seed-N and waits
// until its object API is healthy. Call waitJoined before using it.
func (c *testCluster) addDaemon(seed bool, opts daemonOptions) *daemon {
	c.t.Helper()
	name := fmt.Sprintf("peer-%d", len(c.peers)+1)
	if seed {
		name = fmt.Sprintf("seed-%d", len(c.seeds)+1)
	}
	dir := filepath.Join(c.t.TempDir(), name)
	objectPort := testenv.FreePort(c.t)
	d := &daemon{id: name, seed: seed, URL: fmt.Sprintf("http://127.0.0.1:%d", objectPort)}
	d.process = newProcess(c.t, mkdir(c.t, dir), name, "dfdaemon", c.daemonConfig(dir, name, seed, objectPort, opts))
	cl, err := client.New(d.URL)
	if err != nil {
		c.t.Fatal(err)
	}
	d.client = cl
	d.start()
	c.waitHTTP(d.process, d.URL+"/healthy")
	if seed {
		c.seeds = append(c.seeds, d)
	} else {
		c.peers = append(c.peers, d)
	}
	return d
}

func (c *testCluster) daemonConfig(dir, name string, seed bool, objectPort int, opts daemonOptions) map[string]any {
	quota := opts.diskQuota
	if quota == "" {
		quota = "4GiB"
	}
	return map[string]any{
		"dataDir":  filepath.Join(dir, "data"),
		"host":     map[string]any{"id": name, "advertiseIP": "127.0.0.1"},
		"manager":  map[string]any{"enable": true, "netAddrs": c.managerAddrs(), "refreshInterval": _refreshInterval},
		"seedPeer": map[string]any{"enable": seed},
		"upload":   map[string]any{"tcpListen": map[string]any{"listen": "127.0.0.1", "port": testenv.FreePort(c.t)}},
		"objectStorage": map[string]any{
			"tcpListen": map[string]any{"listen": "127.0.0.1", "port": objectPort},
			"writeBack": map[string]any{"workers": 2, "minBackoff": "100ms", "maxBackoff": "500ms", "attempts": 4},
		},
		"scheduler": map[string]any{"keepAlive": _hostKeepAlive},
		"cache":     map[string]any{"diskQuota": quota, "pieceSize": _pieceSize},
		"log":       map[string]any{"level": "debug"},
	}
}

// waitJoined waits until the scheduler has seen every daemon announce
// itself.
func (c *testCluster) waitJoined(daemons ...*daemon) {
	c.t.Helper()
	for _, d := range daemons {
		waitFor(c.t, _startTimeout, d.id+" to join the scheduler", func() bool {
			c.checkAlive(d.process)
			return c.scheduler.logHasLine(`msg="host joined" host=` + d.id)
		})
	}
}

// waitGone waits until the scheduler dropped a stopped or killed daemon,
// because it left or because its keepalives stopped.
func (c *testCluster) waitGone(d *daemon) {
	c.t.Helper()
	waitFor(c.t, _startTimeout, d.id+" to leave the scheduler", func() bool {
		return c.scheduler.logHasLine(`msg="host left" host=`+d.id) ||
			c.scheduler.logHasLine(`msg="host expired" host=`+d.id)
	})
}

// waitCached waits until d committed key to its cache, so that the next
// GET on d is a local hit rather than joining the fill.
func (d *daemon) waitCached(t *testing.T, bucket, key string) {
	t.Helper()
	waitFor(t, _startTimeout, d.id+" to cache "+key, func() bool {
		return d.logHasLine(`msg="object cached" bucket=`+bucket+" key="+key) ||
			d.logHasLine(`msg="object stored" bucket=`+bucket+" key="+key)
	})
}

// restart starts a stopped or killed daemon again on the same ports and
// data directory.
func (c *testCluster) restart(d *daemon) {
	c.t.Helper()
	d.start()
	c.waitHTTP(d.process, d.URL+"/healthy")
}

// waitHTTP polls url until it returns 200, failing at once if p exits.
func (c *testCluster) waitHTTP(p *process, url string) {
	c.t.Helper()
	hc := newHTTPClient(time.Second)
	waitFor(c.t, _startTimeout, p.name+" at "+url, func() bool {
		c.checkAlive(p)
		resp, err := hc.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// checkAlive fails the test when p exited.
func (c *testCluster) checkAlive(p *process) {
	c.t.Helper()
	if !p.running() {
		p.dumpLog()
		c.t.Fatalf("%s exited; see its log above", p.name)
	}
}

// all returns every daemon, peers first.
func (c *testCluster) all() []*daemon {
	return append(append([]*daemon{}, c.peers...), c.seeds...)
}

// metric returns the value of one sample on d's /metrics page, such as
// `dfdaemon_object_bytes_served_total{source="peer"}`, or 0 when absent.
func (d *daemon) metric(t *testing.T, sample string) float64 {
	t.Helper()
	resp, err := newHTTPClient(10 * time.Second).Get(d.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics on %s: %v", d.id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics on %s: %v", d.id, err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if value, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric %s on %s: %q is not a number", sample, d.id, value)
			}
			return v
		}
	}
	return 0
}
