package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/dfcache/dfcache/api"
)

// rowHit measures row 3: a GET of an object cached on peer 1 from peer 1,
// against http.ServeFile serving the same bytes from a file on loopback.
// Both are read with the same plain http.Client and discarded, so the
// comparison is of the two servers.
func (b *bench) rowHit(ctx context.Context) (rowResult, error) {
	size := b.scale.hit
	key := b.newKey("hit")
	const seed = 3
	if err := b.putOrigin(ctx, key, size, seed); err != nil {
		return rowResult{}, err
	}
	defer b.remove(ctx, key)
	path := filepath.Join(b.opts.dir, "hit.bin")
	if err := writePatternFile(path, seed, size); err != nil {
		return rowResult{}, err
	}
	fileURL, stopFile, err := serveFile(path)
	if err != nil {
		return rowResult{}, err
	}
	defer stopFile()

	peerURL := b.objectURL(0, key)
	// The first GET fills peer 1's cache; the measured ones are hits.
	if _, err := b.timedGet(ctx, peerURL, size, ""); err != nil {
		return rowResult{}, err
	}
	peer, file := sample{unit: unitRate}, sample{unit: unitRate}
	for rep := range b.opts.reps {
		d, err := b.timedGet(ctx, peerURL, size, api.SourceLocal)
		if err != nil {
			return rowResult{}, err
		}
		peer.add(float64(size) / d.Seconds())
		if d, err = b.timedGet(ctx, fileURL, size, ""); err != nil {
			return rowResult{}, err
		}
		file.add(float64(size) / d.Seconds())
		b.progress("row 3, repetition %d: peer %s, http.ServeFile %s", rep+1, peer.format(peer.values[rep]), file.format(file.values[rep]))
	}
	reading := fmt.Sprintf("The peer serves a cached object at %s, %.2fx of http.ServeFile's %s from the same page cache. "+
		"Both read from the page cache; http.ServeFile sends the file with sendfile, the peer copies it through user space.",
		peer.format(peer.median()), ratio(peer, file), file.format(file.median()))
	return rowResult{
		num:     3,
		reading: reading,
		title:   fmt.Sprintf("Cache hit: GET of a cached %s object from the local peer", formatBytes(float64(size))),
		lines: []line{{
			metric: "GET throughput", ours: peer, baseLabel: "http.ServeFile, same bytes", base: file,
			target: "at least 0.9x of http.ServeFile", verdict: verdict(ratio(peer, file) >= 0.9),
		}},
	}, nil
}

// timedGet GETs url, reads size bytes and returns the time taken. When
// wantSource is set, the response's source header must carry it.
func (b *bench) timedGet(ctx context.Context, url string, size int64, wantSource string) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("build GET %s: %w", url, err)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	if got := resp.Header.Get(api.HeaderSource); wantSource != "" && got != wantSource {
		return 0, fmt.Errorf("GET %s: source %q, want %q: the object is not a cache hit", url, got, wantSource)
	}
	if err := expectBytes(resp.Body, size, url); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// serveFile serves path with http.ServeFile on a free loopback port and
// returns its URL and a function that stops the server.
func serveFile(path string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for http.ServeFile: %w", err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("http.ServeFile server: %v\n", err)
		}
	}()
	return "http://" + l.Addr().String() + "/hit.bin", func() { _ = srv.Close() }, nil
}

// objectURL returns the object API URL of key on the i-th peer. Keys of
// dfbench need no escaping.
func (b *bench) objectURL(i int, key string) string {
	return b.cl.peers[i].endpoint + "/buckets/" + _bucket + "/objects/" + key
}
