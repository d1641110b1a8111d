package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// _slowOrigin is the rate limit of the origin in row 2, in bytes per second.
const _slowOrigin = 100 << 20

// rowOrigin measures row 1: the backend traffic of 8 peers reading one
// uncached object at once, against 8 clients reading S3 directly.
func (b *bench) rowOrigin(ctx context.Context) (rowResult, error) {
	size := b.scale.fanOut
	peerBytes, peerGets, peerHeads := sample{unit: unitBytes}, sample{unit: unitCount}, sample{unit: unitCount}
	directBytes, directGets, directHeads := sample{unit: unitBytes}, sample{unit: unitCount}, sample{unit: unitCount}
	exact := true
	for rep := range b.opts.reps {
		key := b.newKey("origin")
		if err := b.putOrigin(ctx, key, size, uint64(rep)); err != nil {
			return rowResult{}, err
		}
		b.proxy.reset()
		if _, err := b.fanOutPeers(ctx, key, size); err != nil {
			return rowResult{}, err
		}
		c := b.proxy.counts()
		peerBytes.add(float64(c.GetBytes))
		peerGets.add(float64(c.Gets))
		peerHeads.add(float64(c.Heads))
		exact = exact && c.GetBytes == size

		b.proxy.reset()
		if _, err := b.fanOutDirect(ctx, key, size, _clients); err != nil {
			return rowResult{}, err
		}
		c = b.proxy.counts()
		directBytes.add(float64(c.GetBytes))
		directGets.add(float64(c.Gets))
		directHeads.add(float64(c.Heads))
		b.progress("row 1, repetition %d: peers read %s from the origin, direct clients %s", rep+1,
			formatBytes(peerBytes.values[rep]), formatBytes(directBytes.values[rep]))
		b.remove(ctx, key)
	}
	base := fmt.Sprintf("%d direct SDK clients", _clients)
	reading := fmt.Sprintf("The peers read %s from the origin in %d GET and %d HEAD requests, where %d direct clients read %s: "+
		"the cache saves %.0f%% of the origin's bytes. Each peer sends its own HEAD, because objectStorage.metadataTTL "+
		"is 0 by default, so every GET checks the backend's version.",
		formatBytes(peerBytes.median()), int(peerGets.median()), int(peerHeads.median()), _clients,
		formatBytes(directBytes.median()), 100*(1-ratio(peerBytes, directBytes)))
	return rowResult{
		num:     1,
		reading: reading,
		title:   fmt.Sprintf("Origin reads: %d peers GET one uncached %s object at once", _peers, formatBytes(float64(size))),
		lines: []line{
			{metric: "backend bytes read", ours: peerBytes, baseLabel: base, base: directBytes,
				target: "exactly 1 object (" + formatBytes(float64(size)) + ")", verdict: verdict(exact)},
			{metric: "backend GET requests", ours: peerGets, baseLabel: base, base: directGets},
			{metric: "backend HEAD requests", ours: peerHeads, baseLabel: base, base: directHeads},
		},
	}, nil
}

// rowSlowOrigin measures row 2: the time until 8 peers have an uncached
// object behind an origin limited to _slowOrigin, against 8 direct clients
// and one client alone through the same limit.
func (b *bench) rowSlowOrigin(ctx context.Context) (rowResult, error) {
	size := b.scale.fanOut
	b.proxy.setRate(_slowOrigin)
	defer b.proxy.setRate(0)
	peers, direct, alone := sample{unit: unitSeconds}, sample{unit: unitSeconds}, sample{unit: unitSeconds}
	peerBytes := sample{unit: unitBytes}
	for rep := range b.opts.reps {
		key := b.newKey("slow")
		if err := b.putOrigin(ctx, key, size, uint64(rep)); err != nil {
			return rowResult{}, err
		}
		steps := []struct {
			s   *sample
			run func() (time.Duration, error)
		}{
			{&peers, func() (time.Duration, error) { return b.fanOutPeers(ctx, key, size) }},
			{&direct, func() (time.Duration, error) { return b.fanOutDirect(ctx, key, size, _clients) }},
			{&alone, func() (time.Duration, error) { return b.fanOutDirect(ctx, key, size, 1) }},
		}
		for i, st := range steps {
			b.proxy.reset()
			d, err := st.run()
			if err != nil {
				return rowResult{}, err
			}
			st.s.add(d.Seconds())
			if i == 0 {
				peerBytes.add(float64(b.proxy.counts().GetBytes))
			}
		}
		b.progress("row 2, repetition %d: peers %.2f s reading %s from the origin, %d direct %.2f s, one alone %.2f s", rep+1,
			peers.values[rep], formatBytes(peerBytes.values[rep]), _clients, direct.values[rep], alone.values[rep])
		b.remove(ctx, key)
	}
	metric := fmt.Sprintf("time until all %d have the object", _clients)
	reading := fmt.Sprintf("One client alone needs %.2f s, about the size over the origin's rate. %d direct clients share the origin "+
		"and need %.2f s. The %d peers need %.2f s, %.2fx the single client. "+
		"All peers share this one machine's cores, so the time beyond the origin's share is CPU spent passing pieces between them.",
		alone.median(), _clients, direct.median(), _peers, peers.median(), ratio(peers, alone))
	return rowResult{
		num:     2,
		reading: reading,
		title:   fmt.Sprintf("Fan-out of %s behind an origin limited to %d MiB/s", formatBytes(float64(size)), _slowOrigin>>20),
		lines: []line{
			{metric: metric, ours: peers, baseLabel: fmt.Sprintf("%d direct SDK clients", _clients), base: direct},
			{metric: metric, ours: peers, baseLabel: "1 direct SDK client alone", base: alone,
				target: "within 1.3x of 1 client alone", verdict: verdict(ratio(peers, alone) <= 1.3)},
			{metric: "backend bytes read by the peers", ours: peerBytes, baseLabel: "object size", base: constSample(unitBytes, float64(size), len(peerBytes.values))},
		},
	}, nil
}

// fanOutPeers makes the first _clients peers GET key at once, with plain
// HTTP GETs like the SDK baseline (no digest check in the client), and
// returns the time until the last one has read all size bytes.
func (b *bench) fanOutPeers(ctx context.Context, key string, size int64) (time.Duration, error) {
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for i := range _clients {
		g.Go(func() error {
			_, err := b.timedGet(gctx, b.objectURL(i, key), size, "")
			return err
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

// fanOutDirect makes n SDK clients GET key through the proxy at once and
// returns the time until the last one has read all size bytes.
func (b *bench) fanOutDirect(ctx context.Context, key string, size int64, n int) (time.Duration, error) {
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			out, err := b.s3Proxied.GetObject(gctx, &s3.GetObjectInput{Bucket: aws.String(_bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("get %s from S3, client %d: %w", key, i+1, err)
			}
			defer out.Body.Close()
			return expectBytes(out.Body, size, fmt.Sprintf("%s from S3, client %d", key, i+1))
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

// expectBytes reads r to the end and checks that it yielded size bytes.
func expectBytes(r io.Reader, size int64, what string) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if n != size {
		return fmt.Errorf("read %s: got %d bytes, want %d", what, n, size)
	}
	return nil
}
