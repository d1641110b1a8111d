// Package metrics defines the Prometheus metrics of a peer and a backend
// wrapper that counts requests to the object store by operation.
package metrics

import (
	"context"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dfcache/dfcache/backend"
)

// Metrics are the counters of one daemon, registered on their own registry
// so several daemons can live in one test process.
type Metrics struct {
	Registry *prometheus.Registry
	// BytesServed counts object bytes sent to clients, by source (local,
	// peer, seed-peer, backend).
	BytesServed *prometheus.CounterVec
	// BackendRequests counts requests to the object store, by operation.
	BackendRequests *prometheus.CounterVec
	// BackendErrors counts failed requests to the object store, by operation.
	BackendErrors *prometheus.CounterVec
	// BytesReceived counts object bytes received from clients in PUTs.
	BytesReceived prometheus.Counter
}

// New creates and registers the metrics. pending reports the number of
// queued write-backs when the gauge is scraped.
func New(pending func() float64) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		BytesServed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dfdaemon_object_bytes_served_total",
			Help: "Object bytes sent to clients, by where they came from.",
		}, []string{"source"}),
		BackendRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dfdaemon_backend_requests_total",
			Help: "Requests sent to the backend object store, by operation.",
		}, []string{"operation"}),
		BackendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dfdaemon_backend_errors_total",
			Help: "Backend requests that failed, by operation.",
		}, []string{"operation"}),
		BytesReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dfdaemon_object_bytes_received_total",
			Help: "Object bytes received from clients in uploads.",
		}),
	}
	m.Registry.MustRegister(m.BytesServed, m.BackendRequests, m.BackendErrors, m.BytesReceived,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if pending != nil {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dfdaemon_writeback_pending",
			Help: "AsyncWriteBack uploads waiting for the backend.",
		}, pending))
	}
	return m
}

// InstrumentBackend returns b with every call counted in m.
func (m *Metrics) InstrumentBackend(b backend.Backend) backend.Backend {
	return &countingBackend{next: b, m: m}
}

type countingBackend struct {
	next backend.Backend
	m    *Metrics
}

func (c *countingBackend) count(op string, err error) {
	c.m.BackendRequests.WithLabelValues(op).Inc()
	if err != nil {
		c.m.BackendErrors.WithLabelValues(op).Inc()
	}
}

func (c *countingBackend) Info() backend.Info { return c.next.Info() }

func (c *countingBackend) CreateBucket(ctx context.Context, bucket string) error {
	err := c.next.CreateBucket(ctx, bucket)
	c.count("create_bucket", err)
	return err
}

func (c *countingBackend) HeadBucket(ctx context.Context, bucket string) error {
	err := c.next.HeadBucket(ctx, bucket)
	c.count("head_bucket", err)
	return err
}

func (c *countingBackend) HeadObject(ctx context.Context, bucket, key string) (backend.ObjectInfo, error) {
	info, err := c.next.HeadObject(ctx, bucket, key)
	c.count("head", err)
	return info, err
}

func (c *countingBackend) GetObject(ctx context.Context, bucket, key string, rng *backend.Range) (io.ReadCloser, backend.ObjectInfo, error) {
	rc, info, err := c.next.GetObject(ctx, bucket, key, rng)
	c.count("get", err)
	return rc, info, err
}

func (c *countingBackend) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts backend.PutOptions) (backend.ObjectInfo, error) {
	info, err := c.next.PutObject(ctx, bucket, key, r, size, opts)
	c.count("put", err)
	return info, err
}

func (c *countingBackend) DeleteObject(ctx context.Context, bucket, key string) error {
	err := c.next.DeleteObject(ctx, bucket, key)
	c.count("delete", err)
	return err
}

func (c *countingBackend) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) (backend.ObjectInfo, error) {
	info, err := c.next.CopyObject(ctx, bucket, srcKey, dstKey)
	c.count("copy", err)
	return info, err
}

func (c *countingBackend) ListObjects(ctx context.Context, bucket string, opts backend.ListOptions) (backend.ListResult, error) {
	res, err := c.next.ListObjects(ctx, bucket, opts)
	c.count("list", err)
	return res, err
}

// CheckKey forwards to the wrapped backend's key check.
func (c *countingBackend) CheckKey(bucket, key string) error {
	return backend.CheckKey(c.next, bucket, key)
}
