package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dfcache/dfcache/api"
	"github.com/dfcache/dfcache/client"
)

// _backgroundTimeout bounds the wait for a peer's background work (a
// write-back or replica push) after a measured PUT.
const _backgroundTimeout = 10 * time.Minute

// rowWrite measures row 4: a PUT through the client library to peer 1 in
// WriteBack and in AsyncWriteBack mode, against manager.Uploader sending
// the same bytes to the S3 server through the same proxy.
func (b *bench) rowWrite(ctx context.Context) (rowResult, error) {
	size := b.scale.write
	writeBack, async, direct := sample{unit: unitSeconds}, sample{unit: unitSeconds}, sample{unit: unitSeconds}
	for rep := range b.opts.reps {
		seed := uint64(40 + rep)
		for _, m := range []struct {
			s    *sample
			mode api.Mode
		}{{&writeBack, api.WriteBack}, {&async, api.AsyncWriteBack}} {
			d, err := b.timedPeerPut(ctx, size, seed, m.mode)
			if err != nil {
				return rowResult{}, err
			}
			m.s.add(d.Seconds())
		}
		d, err := b.timedDirectPut(ctx, size, seed)
		if err != nil {
			return rowResult{}, err
		}
		direct.add(d.Seconds())
		b.progress("row 4, repetition %d: WriteBack %.2f s, AsyncWriteBack %.2f s, direct %.2f s", rep+1,
			writeBack.values[rep], async.values[rep], direct.values[rep])
	}
	base := "manager.Uploader to S3"
	reading := fmt.Sprintf("A WriteBack PUT takes %.2fx the direct upload's time and an AsyncWriteBack PUT %.2fx. "+
		"AsyncWriteBack answers once the object is in the cache and its write-back record is on disk. "+
		"The upload to S3 and the replica push to the seed peer follow, and dfbench waits for both before the next measurement.",
		ratio(writeBack, direct), ratio(async, direct))
	return rowResult{
		num:     4,
		reading: reading,
		title:   fmt.Sprintf("Writes: %s PUT through the client library", formatBytes(float64(size))),
		lines: []line{
			{metric: "WriteBack PUT time", ours: writeBack, baseLabel: base, base: direct,
				target: "within 1.1x of the direct PUT", verdict: verdict(ratio(writeBack, direct) <= 1.1)},
			{metric: "AsyncWriteBack PUT time", ours: async, baseLabel: base, base: direct},
		},
	}, nil
}

// timedPeerPut PUTs size pattern bytes to peer 1 in mode and returns the
// time until the peer responded. Before it returns, it waits until the
// object is on the S3 server and on a seed peer, so that background work
// does not overlap the next measurement, and then removes the object.
func (b *bench) timedPeerPut(ctx context.Context, size int64, seed uint64, mode api.Mode) (time.Duration, error) {
	key := b.newKey("write")
	start := time.Now()
	_, err := b.peerClient(0).PutObject(ctx, _bucket, key, newPatternReader(seed, size),
		client.PutObjectOptions{Mode: mode, Size: size})
	if err != nil {
		return 0, fmt.Errorf("put %s to peer 1 in mode %s: %w", key, mode, err)
	}
	d := time.Since(start)
	if err := b.waitBackground(ctx, key); err != nil {
		return 0, err
	}
	b.remove(ctx, key)
	return d, nil
}

// waitBackground waits until peer 1's write-back and replica push of key
// have ended.
func (b *bench) waitBackground(ctx context.Context, key string) error {
	if err := waitObject(ctx, b.s3Setup, _bucket, key, _backgroundTimeout); err != nil {
		return err
	}
	return waitLogLine(ctx, b.cl.peers[0].log, _backgroundTimeout, "replicas placed", "key="+key)
}

// timedDirectPut uploads size pattern bytes with manager.Uploader's
// defaults through the proxy and returns the time taken.
func (b *bench) timedDirectPut(ctx context.Context, size int64, seed uint64) (time.Duration, error) {
	key := b.newKey("direct")
	start := time.Now()
	_, err := manager.NewUploader(b.s3Proxied).Upload(ctx, &s3.PutObjectInput{
		Bucket: aws.String(_bucket), Key: aws.String(key), Body: newPatternReader(seed, size),
	})
	if err != nil {
		return 0, fmt.Errorf("put %s on the S3 server with manager.Uploader: %w", key, err)
	}
	d := time.Since(start)
	_, err = b.s3Setup.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(_bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("delete %s from the S3 server: %w", key, err)
	}
	return d, nil
}
