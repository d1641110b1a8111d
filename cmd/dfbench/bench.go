package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/client"
)

// Cluster shape and bucket of every run.
const (
	_peers      = 8
	_seedPeers  = 1
	_bucket     = "dfbench"
	_clients    = 8
	_smallConns = 32
)

// scale is the sizes and counts of one mode.
type scale struct {
	fanOut, hit, write, memory int64
	// smallOps is the operations per client and per repetition of row 5.
	smallOps int
}

var (
	_quickScale = scale{fanOut: 64 << 20, hit: 256 << 20, write: 256 << 20, memory: 512 << 20, smallOps: 25}
	_fullScale  = scale{fanOut: 256 << 20, hit: 1 << 30, write: 1 << 30, memory: 4 << 30, smallOps: 100}
)

// bench is the running environment: the S3 server, the proxy in front of
// it and the cluster whose backend is that proxy.
type bench struct {
	opts  options
	scale scale
	log   io.Writer

	s3proc *process
	proxy  *originProxy
	cl     *cluster

	// s3Setup reaches versitygw directly, for preparing objects; s3Proxied
	// goes through the proxy, like the cluster, for the baselines.
	s3Setup, s3Proxied *s3.Client
	hc                 *http.Client
	seq, restarts      int
}

// setUp starts versitygw, the proxy and the cluster under opts.dir. The
// caller must call tearDown, also on error.
func (b *bench) setUp(ctx context.Context) error {
	if err := os.MkdirAll(b.opts.dir, 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	proc, s3URL, err := startS3(ctx, filepath.Join(b.opts.dir, "s3"))
	if err != nil {
		return err
	}
	b.s3proc = proc
	if b.proxy, err = startProxy(s3URL); err != nil {
		return err
	}
	b.s3Setup = newS3Client(s3URL, _smallConns)
	b.s3Proxied = newS3Client(b.proxy.url, _smallConns)
	if err := createBucket(ctx, b.s3Setup, _bucket); err != nil {
		return err
	}
	b.hc = &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: _smallConns * 2,
	}}
	fmt.Fprintf(b.log, "starting manager, scheduler, %d peers and %d seed peer(s) in %s\n", _peers, _seedPeers, b.opts.dir)
	b.cl, err = startCluster(ctx, filepath.Join(b.opts.dir, "cluster-1"), b.opts.binDir, b.proxy.url, _peers, _seedPeers)
	return err
}

// restartCluster replaces the cluster with a new one in a new directory,
// on the same proxy and S3 server.
func (b *bench) restartCluster(ctx context.Context) error {
	b.cl.stop()
	b.restarts++
	dir := filepath.Join(b.opts.dir, fmt.Sprintf("cluster-%d", b.restarts+1))
	fmt.Fprintf(b.log, "restarting the cluster in %s\n", dir)
	var err error
	b.cl, err = startCluster(ctx, dir, b.opts.binDir, b.proxy.url, _peers, _seedPeers)
	return err
}

// tearDown stops, by pid, every process setUp started.
func (b *bench) tearDown() {
	if b.cl != nil {
		b.cl.stop()
	}
	if b.proxy != nil {
		_ = b.proxy.close()
	}
	if b.s3proc != nil {
		b.s3proc.stop(stopGrace)
	}
}

// newKey returns a key no earlier step of this run used.
func (b *bench) newKey(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s/%d-%d", prefix, time.Now().Unix(), b.seq)
}

// putOrigin stores size bytes of pattern seed as key directly on the S3
// server, so no peer has them cached.
func (b *bench) putOrigin(ctx context.Context, key string, size int64, seed uint64) error {
	up := manager.NewUploader(b.s3Setup, func(u *manager.Uploader) { u.PartSize = 16 << 20 })
	_, err := up.Upload(ctx, &s3.PutObjectInput{
		Bucket: aws.String(_bucket), Key: aws.String(key), Body: newPatternReader(seed, size),
	})
	if err != nil {
		return fmt.Errorf("put %s on the S3 server: %w", key, err)
	}
	return nil
}

// peerClient returns a client of the i-th peer.
func (b *bench) peerClient(i int) *client.Client {
	c, err := client.New(b.cl.peers[i].endpoint, client.WithHTTPClient(b.hc))
	if err != nil {
		panic(fmt.Sprintf("client of %s: %v", b.cl.peers[i].endpoint, err))
	}
	return c
}

// remove deletes key through peer 1, which drops it from the backend and
// every cache, so the run does not fill the disk.
func (b *bench) remove(ctx context.Context, key string) {
	if err := b.peerClient(0).RemoveObject(ctx, _bucket, key); err != nil {
		fmt.Fprintf(b.log, "warning: remove %s: %v\n", key, err)
	}
}

// progress prints one line about the run's progress.
func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, "  "+format+"\n", args...)
}
