// Package daemon assembles a dfdaemon peer from its configuration: the
// backend, the piece cache, the write-back queue and the object storage
// HTTP API.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/daemon/cluster"
	"github.com/dfcache/dfcache/daemon/config"
	"github.com/dfcache/dfcache/daemon/objectapi"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/manager/managerclient"
	"github.com/dfcache/dfcache/metrics"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/scheduler/schedulerclient"
	"github.com/dfcache/dfcache/writeback"

	// Backends selectable by objectStorage.backend.name.
	_ "github.com/dfcache/dfcache/backend/fsbackend"
	_ "github.com/dfcache/dfcache/backend/obsbackend"
	_ "github.com/dfcache/dfcache/backend/ossbackend"
	_ "github.com/dfcache/dfcache/backend/s3backend"
)

// _shutdownTimeout bounds how long Run waits for requests in flight when
// its context ends.
const _shutdownTimeout = 30 * time.Second

// Daemon is a running peer.
type Daemon struct {
	cfg     config.Config
	log     *slog.Logger
	backend backend.Backend
	cache   *piececache.Cache
	queue   *writeback.Queue
	server  *http.Server
	ln      net.Listener

	// Cluster mode only.
	manager       *managerclient.Client
	scheduler     *schedulerclient.Client
	cluster       *cluster.Cluster
	uploadLn      net.Listener
	uploadHandler http.Handler
	// announceDone is closed when the announce loop has sent the
	// schedulers this host leaves; Run waits for it before Close.
	announceDone chan struct{}
}

type configNetAddr = config.NetAddr

// New opens the data directory and binds the API address. The caller must
// call Run, or Close to release what New opened.
func New(cfg config.Config, log *slog.Logger) (*Daemon, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create dataDir: %w", err)
	}
	d := &Daemon{cfg: cfg, log: log}
	if err := d.open(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) open() error {
	bcfg, err := d.backendConfig()
	if err != nil {
		return err
	}
	b, err := backend.Open(bcfg)
	if err != nil {
		return fmt.Errorf("objectStorage.backend: %w", err)
	}
	d.cache, err = piececache.Open(filepath.Join(d.cfg.DataDir, "cache"), piececache.Options{
		PieceSize: int64(d.cfg.Cache.PieceSize),
		Quota:     int64(d.cfg.Cache.DiskQuota),
		Logger:    d.log,
		OnEvict:   d.evicted,
	})
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	m := metrics.New(func() float64 { return float64(d.queue.Len()) })
	d.backend = m.InstrumentBackend(b)
	up := objectservice.NewUploader(d.backend, d.cache)
	wb := d.cfg.ObjectStorage.WriteBack
	d.queue, err = writeback.Open(filepath.Join(d.cfg.DataDir, "writeback.db"), up, writeback.Options{
		Workers:    wb.Workers,
		MinBackoff: wb.MinBackoff,
		MaxBackoff: wb.MaxBackoff,
		Logger:     d.log,
		OnDone:     d.unpin,
	})
	if err != nil {
		return fmt.Errorf("open write-back queue: %w", err)
	}
	if err := d.pinPending(); err != nil {
		return err
	}
	if err := d.openCluster(); err != nil {
		return err
	}
	opts := objectservice.Options{
		MetadataTTL:       d.cfg.ObjectStorage.MetadataTTL,
		WriteBackAttempts: wb.Attempts,
		Logger:            d.log,
		Metrics:           m,
	}
	if d.cluster != nil {
		opts.Cluster = d.cluster
	}
	svc := objectservice.New(d.backend, d.cache, d.queue, up, opts)
	if d.cluster != nil {
		d.uploadHandler = d.cluster.Attach(svc)
	}
	return d.listen(objectapi.New(svc, m, d.log))
}

func (d *Daemon) cacheKey(r writeback.Record) piececache.Key {
	return piececache.Key{Backend: d.backend.Info().ID(), Bucket: r.Bucket, Object: r.Key}
}

// unpin releases the cache entry of a finished write-back and reports to the
// cluster the backend has it.
func (d *Daemon) unpin(r writeback.Record) {
	d.cache.Unpin(d.cacheKey(r), r.Version)
	if d.cluster != nil {
		d.cluster.Persisted(r.Bucket, r.Key, r.Version)
	}
}

func (d *Daemon) evicted(m piececache.Meta) {
	if d.cluster != nil {
		d.cluster.Evicted(m)
	}
}

// pinPending pins the cached versions of queued write-backs after a
// restart, before anything can be evicted.
func (d *Daemon) pinPending() error {
	recs, err := d.queue.List()
	if err != nil {
		return fmt.Errorf("read write-back queue: %w", err)
	}
	for _, r := range recs {
		if err := d.cache.Pin(d.cacheKey(r), r.Version); err != nil {
			d.log.Error("pending write-back has no cached data", "bucket", r.Bucket, "key", r.Key, "version", r.Version, "err", err)
		}
	}
	if len(recs) > 0 {
		d.log.Info("resuming write-backs", "count", len(recs))
	}
	return nil
}

func (d *Daemon) listen(h http.Handler) error {
	addr := d.cfg.ObjectStorage.TCPListen.Addr()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("objectStorage.tcpListen: listen on %s: %w", addr, err)
	}
	d.ln = ln
	d.server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr returns the address the API listens on.
func (d *Daemon) Addr() string { return d.ln.Addr().String() }

// Run serves until ctx ends, then stops accepting requests, waits for
// those in flight and closes the queue and the cache.
func (d *Daemon) Run(ctx context.Context) error {
	d.queue.Start()
	clusterCtx, stopCluster := context.WithCancel(ctx)
	defer stopCluster()
	d.runCluster(clusterCtx)
	d.log.Info("dfdaemon started", "addr", d.Addr(), "backend", d.backend.Info().Name,
		"endpoint", d.backend.Info().Endpoint, "dataDir", d.cfg.DataDir, "pending", d.queue.Len())
	errc := make(chan error, 1)
	go func() { errc <- d.server.Serve(d.ln) }()

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), _shutdownTimeout)
		err = d.server.Shutdown(shutdownCtx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	stopCluster()
	if d.announceDone != nil {
		<-d.announceDone
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	d.log.Info("dfdaemon stopped")
	return err
}

// Close releases the queue, the cache and the listener.
func (d *Daemon) Close() error {
	var errs []error
	if d.ln != nil {
		d.ln.Close()
	}
	if d.uploadLn != nil {
		d.uploadLn.Close()
	}
	if d.scheduler != nil {
		errs = append(errs, d.scheduler.Close())
	}
	if d.manager != nil {
		errs = append(errs, d.manager.Close())
	}
	if d.queue != nil {
		errs = append(errs, d.queue.Close())
	}
	if d.cache != nil {
		errs = append(errs, d.cache.Close())
	}
	return errors.Join(errs...)
}
