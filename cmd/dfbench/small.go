package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// _smallSize is the object size of row 5.
const _smallSize = 4 << 10

// opStats is the outcome of one timed batch of small operations.
type opStats struct {
	opsPerSecond float64
	p50, p99     float64 // milliseconds
}

// smallSamples collects the opStats of several batches.
type smallSamples struct{ ops, p50, p99 sample }

func newSmallSamples() smallSamples {
	return smallSamples{ops: sample{unit: unitOps}, p50: sample{unit: unitMillis}, p99: sample{unit: unitMillis}}
}

func (s *smallSamples) add(st opStats) {
	s.ops.add(st.opsPerSecond)
	s.p50.add(st.p50)
	s.p99.add(st.p99)
}

// rowSmall measures row 5: 4 KiB PUTs (AsyncWriteBack) and cache-hit GETs
// by _smallConns concurrent clients on peer 1, against the same
// operations on the S3 server through the proxy.
func (b *bench) rowSmall(ctx context.Context) (rowResult, error) {
	body := bytes.Repeat([]byte("dfbench."), _smallSize/8)
	peerPut, peerGet, s3Put, s3Get := newSmallSamples(), newSmallSamples(), newSmallSamples(), newSmallSamples()
	for rep := range b.opts.reps {
		prefix := b.newKey("small")
		st, err := b.runOps(ctx, func(ctx context.Context, key string) error {
			_, err := b.peerClient(0).PutObject(ctx, _bucket, key, bytes.NewReader(body),
				client.PutObjectOptions{Mode: api.AsyncWriteBack, Size: _smallSize})
			return err
		}, prefix+"/peer")
		if err != nil {
			return rowResult{}, err
		}
		peerPut.add(st)
		if err := b.waitWriteBacks(ctx, prefix+"/peer/"); err != nil {
			return rowResult{}, err
		}
		if st, err = b.runOps(ctx, b.peerGetOp, prefix+"/peer"); err != nil {
			return rowResult{}, err
		}
		peerGet.add(st)
		if st, err = b.runOps(ctx, func(ctx context.Context, key string) error {
			_, err := b.s3Proxied.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(_bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
			return err
		}, prefix+"/s3"); err != nil {
			return rowResult{}, err
		}
		s3Put.add(st)
		if st, err = b.runOps(ctx, b.s3GetOp, prefix+"/s3"); err != nil {
			return rowResult{}, err
		}
		s3Get.add(st)
		b.progress("row 5, repetition %d: PUT %.0f vs %.0f ops/s, GET %.0f vs %.0f ops/s", rep+1,
			peerPut.ops.values[rep], s3Put.ops.values[rep], peerGet.ops.values[rep], s3Get.ops.values[rep])
	}
	reading := fmt.Sprintf("Through peer 1, 4 KiB PUTs reach %.2fx and cache-hit GETs %.2fx of the S3 server's own rate. "+
		"The write-backs and replica pushes of the PUTs run while later PUTs are measured, and dfbench lets them finish before the GETs. "+
		"Each GET asks the backend for the object's version (HEAD), because objectStorage.metadataTTL is 0 by default.",
		ratio(peerPut.ops, s3Put.ops), ratio(peerGet.ops, s3Get.ops))
	return rowResult{
		num:     5,
		reading: reading,
		title:   fmt.Sprintf("Small objects: 4 KiB, %d concurrent clients, %d operations each", _smallConns, b.scale.smallOps),
		lines:   smallLines(peerPut, s3Put, "PUT (AsyncWriteBack)", "PutObject on S3"),
	}.with(smallLines(peerGet, s3Get, "GET (cache hit)", "GetObject on S3")), nil
}

func (r rowResult) with(more []line) rowResult {
	r.lines = append(r.lines, more...)
	return r
}

func smallLines(ours, base smallSamples, what, baseLabel string) []line {
	return []line{
		{metric: what + " throughput", ours: ours.ops, baseLabel: baseLabel, base: base.ops,
			target: "at least the S3 server's ops/s", verdict: verdict(ratio(ours.ops, base.ops) >= 1)},
		{metric: what + " p50 latency", ours: ours.p50, baseLabel: baseLabel, base: base.p50},
		{metric: what + " p99 latency", ours: ours.p99, baseLabel: baseLabel, base: base.p99},
	}
}

func (b *bench) peerGetOp(ctx context.Context, key string) error {
	obj, err := b.peerClient(0).GetObject(ctx, _bucket, key, client.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	if obj.Source != api.SourceLocal {
		return fmt.Errorf("get %s: source %q, want %q: not a cache hit", key, obj.Source, api.SourceLocal)
	}
	return expectBytes(obj, _smallSize, key)
}

func (b *bench) s3GetOp(ctx context.Context, key string) error {
	out, err := b.s3Proxied.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(_bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	return expectBytes(out.Body, _smallSize, key)
}

// runOps runs op on keys PREFIX/W/I from _smallConns workers W, each doing
// scale.smallOps operations I in turn, and returns the rate and latencies.
func (b *bench) runOps(ctx context.Context, op func(context.Context, string) error, prefix string) (opStats, error) {
	var mu sync.Mutex
	var latencies []time.Duration
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for w := range _smallConns {
		g.Go(func() error {
			mine := make([]time.Duration, 0, b.scale.smallOps)
			for i := range b.scale.smallOps {
				key := fmt.Sprintf("%s/%d/%d", prefix, w, i)
				t := time.Now()
				if err := op(gctx, key); err != nil {
					return fmt.Errorf("operation on %s: %w", key, err)
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return opStats{}, err
	}
	elapsed := time.Since(start)
	return opStats{
		opsPerSecond: float64(len(latencies)) / elapsed.Seconds(),
		p50:          percentile(latencies, 50),
		p99:          percentile(latencies, 99),
	}, nil
}

// waitWriteBacks waits until every object PUT under prefix is on the S3
// server and peer 1 logged its replica placement, so that background work
// does not overlap the next measurement.
func (b *bench) waitWriteBacks(ctx context.Context, prefix string) error {
	want := _smallConns * b.scale.smallOps
	ctx, cancel := context.WithTimeout(ctx, _backgroundTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := countObjects(ctx, b.s3Setup, _bucket, prefix)
		if err == nil && n >= want && countLogLines(b.cl.peers[0].log, "replicas placed", "key="+prefix) >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("write-backs under %s did not end within %s: %d of %d objects on S3 (%v)", prefix, _backgroundTimeout, n, want, err)
		case <-tick.C:
		}
	}
}
