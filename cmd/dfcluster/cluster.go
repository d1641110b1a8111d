package main

import (
	"context"

	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dfcache/dfcache/backend"
)

// Standard ports, shifted by --port-offset.
const (
	_managerPort       = 65003
	_managerStatusPort = 65005
	_schedulerPort     = 8002
	_firstObjectPort   = 65004
	_firstUploadPort   = 65002
	// _portStride separates the ports of consecutive daemons.
	_portStride = 10
)

type options struct {
	dir        string
	binDir     string
	peers      int
	seeds      int
	portOffset int
	s3         backend.Config
}

func defaultOptions() options {
	bin := ""
	if exe, err := os.Executable(); err == nil {
		bin = filepath.Dir(exe)
	}
	return options{dir: "dfcluster-data", binDir: bin, peers: 2, seeds: 1}
}

func (o options) validate() error {
	if o.peers < 1 || o.peers > 50 {
		return fmt.Errorf("--peers: %d is out of range 1-50", o.peers)
	}
	if o.seeds < 0 || o.seeds > 50 {
		return fmt.Errorf("--seed-peers: %d is out of range 0-50", o.seeds)
	}
	if low, high := _schedulerPort+o.portOffset, _firstObjectPort+(o.peers+o.seeds)*_portStride+o.portOffset; low < 1024 || high > 65535 {
		return fmt.Errorf("--port-offset: %d moves ports outside 1024-65535 (they span %d-%d); use an offset from %d to %d",
			o.portOffset, low, high, 1024-_schedulerPort, 65535-(_firstObjectPort+(o.peers+o.seeds)*_portStride))
	}
	for _, name := range []string{"dfdaemon", "manager", "scheduler"} {
		if _, err := os.Stat(filepath.Join(o.binDir, name)); err != nil {
			return fmt.Errorf("binary %s not found in %s: run `make build` or pass --bin", name, o.binDir)
		}
	}
	return nil
}

func (o options) backend() backend.Config {
	if o.s3.Endpoint != "" {
		cfg := o.s3
		cfg.Name = "s3"
		cfg.S3ForcePathStyle = true
		return cfg
	}
	return backend.Config{Name: "fs", Endpoint: filepath.Join(absDir(o.dir), "backend")}
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// process is one running member of the cluster.
type process struct {
	name     string
	endpoint string
	log      string
	cmd      *exec.Cmd
	exited   chan error
}

type localCluster struct {
	opts  options
	procs []*process
}

func start(ctx context.Context, opts options) (*localCluster, error) {
	c := &localCluster{opts: opts}
	if err := os.MkdirAll(filepath.Join(absDir(opts.dir), "backend"), 0o755); err != nil {
		return nil, err
	}
	if err := c.checkPortsFree(); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{c.startManager, c.startScheduler, c.startDaemons}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			c.stop()
			return nil, err
		}
	}
	return c, nil
}

func (c *localCluster) port(base int) int { return base + c.opts.portOffset }

// ports lists every port the cluster binds.
func (c *localCluster) ports() []int {
	ports := []int{c.port(_managerPort), c.port(_managerStatusPort), c.port(_schedulerPort)}
	for i := range c.opts.peers + c.opts.seeds {
		ports = append(ports, c.port(_firstObjectPort+i*_portStride), c.port(_firstUploadPort+i*_portStride))
	}
	return ports
}

// checkPortsFree fails when a port is taken, as by another cluster, whose
// members would otherwise respond to this cluster's readiness checks.
func (c *localCluster) checkPortsFree() error {
	for _, port := range c.ports() {
		if !portFree(port) {
			return fmt.Errorf("port %d on 127.0.0.1 is in use, maybe by another dfcluster: stop it or pass --port-offset", port)
		}
	}
	return nil
}

func (c *localCluster) startManager(ctx context.Context) error {
	cfg := map[string]any{
		"server":        map[string]any{"listen": "127.0.0.1", "port": c.port(_managerPort)},
		"status":        map[string]any{"listen": "127.0.0.1", "port": c.port(_managerStatusPort)},
		"keepAliveTTL":  "15s",
		"objectStorage": objectStorage(c.opts.backend()),
	}
	status := fmt.Sprintf("http://127.0.0.1:%d", c.port(_managerStatusPort))
	return c.launch(ctx, "manager", "manager", cfg, status+"/healthy", status+"/api/v1/status")
}

func objectStorage(b backend.Config) map[string]any {
	m := map[string]any{"enable": true, "name": b.Name, "endpoint": b.Endpoint}
	if b.Name == "s3" {
		m["region"], m["accessKey"], m["secretKey"], m["s3ForcePathStyle"] = b.Region, b.AccessKey, b.SecretKey, true
	}
	return m
}

func (c *localCluster) startScheduler(ctx context.Context) error {
	cfg := map[string]any{
		"server":        map[string]any{"listen": "127.0.0.1", "port": c.port(_schedulerPort)},
		"manager":       map[string]any{"netAddrs": c.managerAddrs(), "keepAlive": "2s"},
		"hostKeepAlive": "2s",
	}
	addr := fmt.Sprintf("127.0.0.1:%d", c.port(_schedulerPort))
	return c.launch(ctx, "scheduler", "scheduler", cfg, "tcp://"+addr, "grpc://"+addr)
}

func (c *localCluster) managerAddrs() []map[string]any {
	return []map[string]any{{"type": "tcp", "addr": fmt.Sprintf("127.0.0.1:%d", c.port(_managerPort))}}
}

func (c *localCluster) startDaemons(ctx context.Context) error {
	for i := range c.opts.peers + c.opts.seeds {
		seed := i >= c.opts.peers
		name := fmt.Sprintf("peer-%d", i+1)
		if seed {
			name = fmt.Sprintf("seed-peer-%d", i-c.opts.peers+1)
		}
		objectPort := c.port(_firstObjectPort + i*_portStride)
		dir := filepath.Join(absDir(c.opts.dir), name)
		cfg := map[string]any{
			"dataDir":  filepath.Join(dir, "data"),
			"host":     map[string]any{"id": name, "advertiseIP": "127.0.0.1"},
			"manager":  map[string]any{"enable": true, "netAddrs": c.managerAddrs(), "refreshInterval": "2s"},
			"seedPeer": map[string]any{"enable": seed},
			"upload":   map[string]any{"tcpListen": map[string]any{"listen": "127.0.0.1", "port": c.port(_firstUploadPort + i*_portStride)}},
			"objectStorage": map[string]any{
				"tcpListen": map[string]any{"listen": "127.0.0.1", "port": objectPort},
			},
			"scheduler": map[string]any{"keepAlive": "2s"},
		}
		endpoint := fmt.Sprintf("http://127.0.0.1:%d", objectPort)
		if err := c.launch(ctx, name, "dfdaemon", cfg, endpoint+"/healthy", endpoint); err != nil {
			return err
		}
	}
	return nil
}

// launch writes cfg as name's configuration, starts binary with it and
// waits until ready responds: an HTTP URL, or "tcp://host:port".
func (c *localCluster) launch(ctx context.Context, name, binary string, cfg map[string]any, ready, endpoint string) error {
	dir := filepath.Join(absDir(c.opts.dir), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, binary+".yaml")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return err
	}
	p := &process{name: name, endpoint: endpoint, log: filepath.Join(dir, binary+".log"), exited: make(chan error, 1)}
	logFile, err := os.Create(p.log)
	if err != nil {
		return err
	}
	defer logFile.Close()
	p.cmd = exec.Command(filepath.Join(c.opts.binDir, binary), "--config", cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	c.procs = append(c.procs, p)
	return waitReady(ctx, p, ready)
}

func waitReady(ctx context.Context, p *process, ready string) error {
	deadline := time.Now().Add(90 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			return fmt.Errorf("%s exited during start-up (%v); see %s", p.name, err, p.log)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if isReady(hc, ready) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 90s; see %s", p.name, p.log)
}

func isReady(hc *http.Client, ready string) bool {
	if addr, ok := cutPrefix(ready, "tcp://"); ok {
		return dialOK(addr)
	}
	resp, err := hc.Get(ready)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (c *localCluster) printEndpoints(w io.Writer) {
	fmt.Fprintf(w, "local cluster running; data and logs in %s\n", absDir(c.opts.dir))
	for _, p := range c.procs {
		fmt.Fprintf(w, "  %-12s %-34s log %s\n", p.name, p.endpoint, p.log)
	}
	peer1 := fmt.Sprintf("http://127.0.0.1:%d", c.port(_firstObjectPort))
	fmt.Fprintf(w, "try: curl -X POST %s/buckets/demo && dfstore cp -e %s FILE dfs://demo/KEY\n", peer1, peer1)
	fmt.Fprintln(w, "Ctrl-C stops the cluster; a member that exits is reported and the others keep running")
}

// wait returns when ctx ends or every member has exited. A member that
// exits is reported, so killing a peer to watch the others cope works.
func (c *localCluster) wait(ctx context.Context, w io.Writer) error {
	exited := make(chan string, len(c.procs))
	for _, p := range c.procs {
		go func(p *process) {
			err := <-p.exited
			p.exited <- err
			exited <- fmt.Sprintf("%s exited (%v); see %s", p.name, err, p.log)
		}(p)
	}
	for left := len(c.procs); left > 0; left-- {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-exited:
			fmt.Fprintln(w, msg)
		}
	}
	return fmt.Errorf("every member of the cluster exited")
}

// stop ends every member, newest first, with SIGTERM and then SIGKILL.
func (c *localCluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}
	c.procs = nil
}
