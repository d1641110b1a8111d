package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/daemon/cluster"
	"github.com/dfcache/dfcache/manager/managerclient"
	"github.com/dfcache/dfcache/rpc/managerpb"
	"github.com/dfcache/dfcache/scheduler/schedulerclient"
)

// _managerWait bounds how long start-up waits for a manager to hand out
// the backend configuration.
const _managerWait = 60 * time.Second

func netAddrs(addrs []configNetAddr) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.Addr)
	}
	return out
}

// backendConfig returns the backend configuration: from the manager when
// it is enabled, else from the file.
func (d *Daemon) backendConfig() (backend.Config, error) {
	if !d.cfg.Manager.Enable {
		return d.cfg.ObjectStorage.Backend, nil
	}
	mc, err := managerclient.New(netAddrs(d.cfg.Manager.NetAddrs), managerclient.WithLogger(d.log))
	if err != nil {
		return backend.Config{}, fmt.Errorf("manager.netAddrs: %w", err)
	}
	d.manager = mc
	deadline := time.Now().Add(_managerWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cfg, err := mc.GetObjectStorage(ctx)
		cancel()
		if err == nil {
			return cfg, nil
		}
		if errors.Is(err, managerclient.ErrObjectStorageDisabled) || time.Now().After(deadline) {
			return backend.Config{}, fmt.Errorf("get backend configuration from manager: %w", err)
		}
		d.log.Warn("manager did not respond, retrying", "addrs", mc.Addrs(), "err", err)
		time.Sleep(time.Second)
	}
}

// openCluster connects to the schedulers and binds the upload server. It
// does nothing for a standalone peer.
func (d *Daemon) openCluster() error {
	if !d.cfg.Clustered() {
		return nil
	}
	up := d.cfg.Upload.TCPListen
	ln, err := net.Listen("tcp", up.Addr())
	if err != nil {
		return fmt.Errorf("upload.tcpListen: listen on %s: %w", up.Addr(), err)
	}
	d.uploadLn = ln
	sched, err := schedulerclient.New(netAddrs(d.cfg.Scheduler.NetAddrs), schedulerclient.WithLogger(d.log))
	if err != nil {
		return fmt.Errorf("scheduler.netAddrs: %w", err)
	}
	d.scheduler = sched
	hostname, _ := os.Hostname()
	d.cluster = cluster.New(cluster.Config{
		HostID:      d.hostID(hostname),
		Hostname:    hostname,
		AdvertiseIP: d.cfg.Host.AdvertiseIP,
		UploadPort:  ln.Addr().(*net.TCPAddr).Port,
		ObjectPort:  d.cfg.ObjectStorage.TCPListen.Port,
		Seed:        d.cfg.SeedPeer.Enable,
		BackendID:   d.backend.Info().ID(),
		PieceSize:   int64(d.cfg.Cache.PieceSize),
		Logger:      d.log,
	}, sched, d.cache)
	return nil
}

func (d *Daemon) hostID(hostname string) string {
	if d.cfg.Host.ID != "" {
		return d.cfg.Host.ID
	}
	return hostname + "-" + strconv.Itoa(d.cfg.ObjectStorage.TCPListen.Port)
}

// runCluster serves pieces, announces this host and, with a manager, keeps
// the scheduler list fresh, until ctx ends.
func (d *Daemon) runCluster(ctx context.Context) {
	if d.cluster == nil {
		return
	}
	srv := &http.Server{Handler: d.uploadHandler, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(d.uploadLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("upload server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if d.manager != nil {
		d.refreshSchedulers(ctx)
		go d.runManager(ctx)
	}
	d.announceDone = make(chan struct{})
	go func() {
		defer close(d.announceDone)
		d.cluster.RunAnnounce(ctx)
	}()
	d.log.Info("joined cluster", "host", d.cluster.Host().GetId(), "upload", d.uploadLn.Addr().String(),
		"seed", d.cfg.SeedPeer.Enable, "schedulers", d.scheduler.Schedulers())
}

func (d *Daemon) runManager(ctx context.Context) {
	h := d.cluster.Host()
	member := &managerpb.Member{
		Id: h.GetId(), Type: managerpb.MemberType_MEMBER_TYPE_PEER, Hostname: h.GetHostname(), Ip: h.GetIp(),
		UploadPort: h.GetUploadPort(), ObjectPort: h.GetObjectPort(),
	}
	if d.cfg.SeedPeer.Enable {
		member.Type = managerpb.MemberType_MEMBER_TYPE_SEED_PEER
	}
	go d.manager.RunKeepAlive(ctx, member, d.cfg.Manager.RefreshInterval)
	tick := time.NewTicker(d.cfg.Manager.RefreshInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			d.refreshSchedulers(ctx)
		}
	}
}

// refreshSchedulers replaces the scheduler list with the manager's. An
// empty list or a failed request keeps the list as it is.
func (d *Daemon) refreshSchedulers(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	members, err := d.manager.ListMembers(ctx, managerpb.MemberType_MEMBER_TYPE_SCHEDULER)
	if err != nil || len(members) == 0 {
		d.log.Warn("no scheduler list from the manager, keeping the current one", "err", err)
		return
	}
	addrs := make([]string, 0, len(members))
	for _, m := range members {
		addrs = append(addrs, net.JoinHostPort(m.GetIp(), strconv.Itoa(int(m.GetRpcPort()))))
	}
	if err := d.scheduler.SetSchedulers(addrs); err != nil {
		d.log.Warn("update scheduler list failed", "err", err)
	}
}
