package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// daemon is one running dfdaemon of the benchmark cluster.
type daemon struct {
	*process
	// endpoint is the object API, "http://127.0.0.1:PORT".
	endpoint string
	seed     bool
}

// cluster is a manager, a scheduler and dfdaemons on 127.0.0.1, configured
// like cmd/dfcluster's but on free ports, with the S3 backend at backendURL.
type cluster struct {
	dir, binDir string
	backendURL  string

	manager, scheduler *process
	peers, seeds       []*daemon
	managerAddr        string
}

// startCluster starts the manager, the scheduler, then peers and seed
// peers. On error it stops what it started.
func startCluster(ctx context.Context, dir, binDir, backendURL string, peers, seeds int) (*cluster, error) {
	c := &cluster{dir: dir, binDir: binDir, backendURL: backendURL}
	err := c.startManager(ctx)
	if err == nil {
		err = c.startScheduler(ctx)
	}
	for i := 0; err == nil && i < peers+seeds; i++ {
		err = c.startDaemon(ctx, i, i >= peers)
	}
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) startManager(ctx context.Context) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	c.managerAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfg := map[string]any{
		"server":       map[string]any{"listen": "127.0.0.1", "port": ports[0]},
		"status":       map[string]any{"listen": "127.0.0.1", "port": ports[1]},
		"keepAliveTTL": "15s",
		"objectStorage": map[string]any{
			"enable": true, "name": "s3", "endpoint": c.backendURL, "region": _s3Region,
			"accessKey": _s3AccessKey, "secretKey": _s3SecretKey, "s3ForcePathStyle": true,
		},
	}
	status := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.manager, err = c.launch(ctx, "manager", "manager", cfg, status+"/healthy")
	return err
}

func (c *cluster) startScheduler(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := map[string]any{
		"server":        map[string]any{"listen": "127.0.0.1", "port": port},
		"manager":       map[string]any{"netAddrs": c.managerAddrs(), "keepAlive": "2s"},
		"hostKeepAlive": "2s",
	}
	c.scheduler, err = c.launch(ctx, "scheduler", "scheduler", cfg, fmt.Sprintf("tcp://127.0.0.1:%d", port))
	return err
}

func (c *cluster) managerAddrs() []map[string]any {
	return []map[string]any{{"type": "tcp", "addr": c.managerAddr}}
}

// startDaemon starts the i-th dfdaemon with the configuration defaults
// users get, apart from addresses and directories.
func (c *cluster) startDaemon(ctx context.Context, i int, seed bool) error {
	name := fmt.Sprintf("peer-%d", i+1)
	if seed {
		name = fmt.Sprintf("seed-peer-%d", i+1-len(c.peers))
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	cfg := map[string]any{
		"dataDir":       filepath.Join(c.dir, name, "data"),
		"host":          map[string]any{"id": name, "advertiseIP": "127.0.0.1"},
		"manager":       map[string]any{"enable": true, "netAddrs": c.managerAddrs(), "refreshInterval": "2s"},
		"seedPeer":      map[string]any{"enable": seed},
		"upload":        map[string]any{"tcpListen": map[string]any{"listen": "127.0.0.1", "port": ports[1]}},
		"objectStorage": map[string]any{"tcpListen": map[string]any{"listen": "127.0.0.1", "port": ports[0]}},
		"scheduler":     map[string]any{"keepAlive": "2s"},
	}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	p, err := c.launch(ctx, name, "dfdaemon", cfg, endpoint+"/healthy")
	if err != nil {
		return err
	}
	d := &daemon{process: p, endpoint: endpoint, seed: seed}
	if seed {
		c.seeds = append(c.seeds, d)
	} else {
		c.peers = append(c.peers, d)
	}
	return nil
}

// launch writes cfg as the YAML configuration of name, starts binary with
// it and waits until ready responds with 200 (or accepts TCP connections).
func (c *cluster) launch(ctx context.Context, name, binary string, cfg map[string]any, ready string) (*process, error) {
	dir := filepath.Join(c.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory of %s: %w", name, err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode configuration of %s: %w", name, err)
	}
	cfgPath := filepath.Join(dir, binary+".yaml")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("write configuration of %s: %w", name, err)
	}
	p, err := startProcess(name, filepath.Join(dir, binary+".log"), filepath.Join(c.binDir, binary), "--config", cfgPath)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(ctx, ready, true); err != nil {
		p.stop(stopGrace)
		return nil, err
	}
	return p, nil
}

// daemons returns the peers, then the seed peers.
func (c *cluster) daemons() []*daemon {
	return append(append([]*daemon(nil), c.peers...), c.seeds...)
}

// stop ends every member by pid, daemons first, then the scheduler and
// the manager.
func (c *cluster) stop() {
	ds := c.daemons()
	for i := len(ds) - 1; i >= 0; i-- {
		ds[i].stop(stopGrace)
	}
	for _, p := range []*process{c.scheduler, c.manager} {
		if p != nil {
			p.stop(stopGrace)
		}
	}
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}
