// Package cluster connects a peer to the scheduler and to other peers: it
// implements objectservice.Cluster (where to read a version from, what to
// announce), the task index behind the upload server, the scheduler's
// control requests, and replica pushes to seed peers.
package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/backend"
	"github.com/dfcache/dfcache/daemon/objectservice"
	"github.com/dfcache/dfcache/peer/download"
	"github.com/dfcache/dfcache/peer/upload"
	"github.com/dfcache/dfcache/piececache"
	"github.com/dfcache/dfcache/rpc/schedulerpb"
	"github.com/dfcache/dfcache/scheduler/schedulerclient"
	"github.com/dfcache/dfcache/taskid"
)

// _announceTimeout bounds a report to the scheduler made on a request path.
const _announceTimeout = 3 * time.Second

// Config describes this peer to the cluster.
type Config struct {
	HostID      string
	Hostname    string
	AdvertiseIP string
	UploadPort  int
	ObjectPort  int
	Seed        bool
	BackendID   string
	PieceSize   int64
	Logger      *slog.Logger
}

// Cluster is this peer's view of the cluster. Call Attach before use.
type Cluster struct {
	cfg   Config
	sched *schedulerclient.Client
	dl    *download.Downloader
	cache *piececache.Cache
	log   *slog.Logger

	svc    *objectservice.Service
	upload *upload.Server
	// pushClient sends replicas to seed peers. One client for all pushes
	// reuses connections; a client per push left one idle connection per
	// replica open until its idle timeout.
	pushClient *http.Client

	mu sync.Mutex // guards tasks
	// tasks maps task ids this peer holds or is fetching to their cache
	// entries, for the upload server.
	tasks map[string]*taskRef
}

type taskRef struct {
	key     piececache.Key
	version string
	length  int64
	// w is the writer while the task is being fetched, nil once committed.
	w *piececache.Writer
}

// New returns a Cluster over the given scheduler client and cache.
func New(cfg Config, sched *schedulerclient.Client, cache *piececache.Cache) *Cluster {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Cluster{
		cfg:   cfg,
		sched: sched,
		dl:    download.New(download.Options{Logger: cfg.Logger}),
		cache: cache,
		log:   cfg.Logger,
		tasks: map[string]*taskRef{},
		pushClient: &http.Client{Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ResponseHeaderTimeout: 10 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   16,
		}},
	}
}

// Attach connects the object service, whose fills and write-backs the
// control requests drive, and returns the upload server to listen with.
func (c *Cluster) Attach(svc *objectservice.Service) *upload.Server {
	c.svc = svc
	c.upload = upload.New(c, c, c.log)
	return c.upload
}

// Host describes this peer for the scheduler's keepalive.
func (c *Cluster) Host() *schedulerpb.Host {
	h := &schedulerpb.Host{
		Id:         c.cfg.HostID,
		Hostname:   c.cfg.Hostname,
		Ip:         c.cfg.AdvertiseIP,
		UploadPort: int32(c.cfg.UploadPort),
		ObjectPort: int32(c.cfg.ObjectPort),
		Seed:       c.cfg.Seed,
	}
	if c.upload != nil {
		h.ActiveUploads = c.upload.ActiveUploads()
	}
	return h
}

// RunAnnounce announces this host and the tasks it holds until ctx ends,
// then sends the schedulers a leave request.
func (c *Cluster) RunAnnounce(ctx context.Context) {
	// The scheduler accepts tasks only from a registered host.
	if _, err := c.sched.AnnounceHost(ctx, c.Host()); err != nil {
		c.log.Warn("announce host to scheduler failed, retrying in the keepalive loop", "err", err)
	}
	c.announceCached(ctx)
	c.sched.RunAnnounce(ctx, c.Host)
}

// announceCached reports every cached version after a start, so the
// scheduler, whose state lives in memory, learns them again.
func (c *Cluster) announceCached(ctx context.Context) {
	var metas []piececache.Meta
	c.cache.Walk(func(m piececache.Meta) bool {
		metas = append(metas, m)
		return true
	})
	announced := 0
	for _, m := range metas {
		pending := m.Ephemeral || c.svc.IsPending(m.Key.Bucket, m.Key.Object, m.Version)
		c.index(m)
		if c.announce(ctx, c.taskOfMeta(m, pending, 0), true) {
			announced++
		}
	}
	if len(metas) > 0 {
		c.log.Info("announced cached objects", "cached", len(metas), "announced", announced)
	}
}

func (c *Cluster) taskOf(v objectservice.Version) *schedulerpb.Task {
	return &schedulerpb.Task{
		Id:               taskid.New(c.cfg.BackendID, v.Bucket, v.Key, v.Version),
		BackendId:        c.cfg.BackendID,
		Bucket:           v.Bucket,
		Key:              v.Key,
		Version:          v.Version,
		Length:           v.Info.Size,
		PieceSize:        c.cfg.PieceSize,
		Digest:           v.Info.Digest,
		Pending:          v.Pending,
		ContentType:      v.Info.ContentType,
		Etag:             v.Info.ETag,
		LastModifiedUnix: v.Info.LastModified.Unix(),
	}
}

func (c *Cluster) taskOfMeta(m piececache.Meta, pending bool, maxReplicas int) *schedulerpb.Task {
	t := c.taskOf(objectservice.Version{
		Bucket: m.Key.Bucket, Key: m.Key.Object, Version: m.Version, Pending: pending,
		Info: backend.ObjectInfo{Size: m.Length, Digest: m.Digest, ContentType: m.ContentType, ETag: m.ETag, LastModified: m.LastModified},
	})
	t.PieceSize = m.PieceSize
	t.MaxReplicas = int32(maxReplicas)
	t.CreatedUnixMs = m.CreatedAt.UnixMilli()
	return t
}

func versionOfTask(t *schedulerpb.Task) objectservice.Version {
	return objectservice.Version{
		Bucket: t.GetBucket(), Key: t.GetKey(), Version: t.GetVersion(), Pending: t.GetPending(),
		Info: backend.ObjectInfo{
			Key:          t.GetKey(),
			Size:         t.GetLength(),
			ETag:         t.GetEtag(),
			Digest:       t.GetDigest(),
			ContentType:  t.GetContentType(),
			LastModified: time.Unix(t.GetLastModifiedUnix(), 0).UTC(),
		},
	}
}

// announce reports a task to the scheduler and whether it was accepted.
func (c *Cluster) announce(ctx context.Context, t *schedulerpb.Task, complete bool) bool {
	ctx, cancel := context.WithTimeout(ctx, _announceTimeout)
	defer cancel()
	if err := c.sched.AnnounceTask(ctx, c.cfg.HostID, t, complete); err != nil {
		c.log.Warn("announce task to scheduler failed", "bucket", t.GetBucket(), "key", t.GetKey(), "err", err)
		return false
	}
	return true
}

// sourceOf names where the first parent's bytes come from.
func sourceOf(parents []*schedulerpb.Parent) string {
	if len(parents) > 0 && parents[0].GetHost().GetSeed() {
		return api.SourceSeedPeer
	}
	return api.SourcePeer
}

func (c *Cluster) String() string { return fmt.Sprintf("cluster host %s", c.cfg.HostID) }
