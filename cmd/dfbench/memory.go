package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// _memoryTarget is the peak RSS each process should stay under, in bytes.
const _memoryTarget = 64 << 20

// _memoryBaseDivisor sets the smaller object that row 6 compares with:
// the measured size divided by it. A ratio near 1 shows memory does not
// grow with the object size.
const _memoryBaseDivisor = 8

// transferPeaks is the peak RSS, in bytes, of the dfstore process and of
// each daemon (by name) during one transfer.
type transferPeaks struct {
	dfstore int64
	daemons map[string]int64
}

// rowMemory measures row 6: the peak RSS of dfstore and of the daemons
// during an upload to peer 1 and a download from peer 2, at the measured
// size and at 1/8 of it. Peer 2 reads from peer 1 or the seed peer.
func (b *bench) rowMemory(ctx context.Context) (rowResult, error) {
	size := b.scale.memory
	small := size / _memoryBaseDivisor
	// Daemons keep heap from earlier rows, so row 6 starts a new cluster.
	if err := b.restartCluster(ctx); err != nil {
		return rowResult{}, err
	}
	var bigUp, bigDown, smallUp, smallDown []transferPeaks
	for rep := range b.opts.reps {
		for _, run := range []struct {
			size     int64
			up, down *[]transferPeaks
		}{{small, &smallUp, &smallDown}, {size, &bigUp, &bigDown}} {
			up, down, err := b.memoryTransfers(ctx, run.size, uint64(60+rep))
			if err != nil {
				return rowResult{}, err
			}
			*run.up, *run.down = append(*run.up, up), append(*run.down, down)
		}
		b.progress("row 6, repetition %d: dfstore up %s, down %s; peer-1 %s; peer-2 %s", rep+1,
			formatBytes(float64(bigUp[rep].dfstore)), formatBytes(float64(bigDown[rep].dfstore)),
			formatBytes(float64(bigUp[rep].daemons["peer-1"])), formatBytes(float64(bigDown[rep].daemons["peer-2"])))
	}
	lines := memoryLines("PUT", bigUp, smallUp, small)
	lines = append(lines, memoryLines("GET", bigDown, smallDown, small)...)
	reading := fmt.Sprintf("Peak RSS does not grow with the object size when the ratios to the %s run stay near 1. "+
		"The cluster is restarted before this row, so earlier rows' heap does not count. "+
		"dfstore's figure comes through a helper process and is an upper bound: values near 9 MiB are the helper's own peak.",
		formatBytes(float64(small)))
	return rowResult{
		num:     6,
		reading: reading,
		title: fmt.Sprintf("Memory: peak RSS during a %s PUT to peer-1 and GET from peer-2 with dfstore cp",
			formatBytes(float64(size))),
		lines: lines,
	}, nil
}

// memoryLines turns the peaks of one direction into lines: dfstore, the
// peers in the path and the largest of the other daemons.
func memoryLines(op string, big, small []transferPeaks, smallSize int64) []line {
	base := fmt.Sprintf("same at %s", formatBytes(float64(smallSize)))
	pick := func(peaks []transferPeaks, get func(transferPeaks) int64) sample {
		s := sample{unit: unitBytes}
		for _, p := range peaks {
			s.add(float64(get(p)))
		}
		return s
	}
	mk := func(metric string, get func(transferPeaks) int64) line {
		ours := pick(big, get)
		met := len(ours.values) > 0 && maxOf(ours.values) < _memoryTarget
		return line{metric: op + ": " + metric, ours: ours, baseLabel: base, base: pick(small, get),
			target: "under 64 MiB", verdict: verdict(met)}
	}
	lines := []line{mk("dfstore cp", func(p transferPeaks) int64 { return p.dfstore })}
	for _, name := range []string{"peer-1", "peer-2", "seed-peer-1"} {
		lines = append(lines, mk("dfdaemon "+name, func(p transferPeaks) int64 { return p.daemons[name] }))
	}
	others := func(p transferPeaks) int64 {
		var m int64
		for name, v := range p.daemons {
			if name != "peer-1" && name != "peer-2" && name != "seed-peer-1" {
				m = max(m, v)
			}
		}
		return m
	}
	return append(lines, mk("largest other dfdaemon", others))
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	return m
}

// memoryTransfers uploads a file of size bytes to peer 1 with dfstore cp,
// waits for the write-back and replica push, then downloads it from peer 2,
// and returns the peaks of both steps. It removes the object and files.
func (b *bench) memoryTransfers(ctx context.Context, size int64, seed uint64) (up, down transferPeaks, err error) {
	src := filepath.Join(b.opts.dir, "memory-src.bin")
	dst := filepath.Join(b.opts.dir, "memory-dst.bin")
	defer os.Remove(src)
	defer os.Remove(dst)
	if err := writePatternFile(src, seed, size); err != nil {
		return up, down, err
	}
	key := b.newKey("memory")
	defer b.remove(ctx, key)
	url := "dfs://" + _bucket + "/" + key
	up, err = b.measurePeaks(ctx, func() (int64, error) {
		rss, err := b.dfstore(ctx, b.cl.peers[0].endpoint, "cp", "-q", src, url)
		if err == nil {
			err = b.waitBackground(ctx, key)
		}
		return rss, err
	})
	if err != nil {
		return up, down, err
	}
	down, err = b.measurePeaks(ctx, func() (int64, error) {
		return b.dfstore(ctx, b.cl.peers[1].endpoint, "cp", "-q", url, dst)
	})
	return up, down, err
}

// measurePeaks resets the peak RSS of every daemon, runs step (which
// returns the peak RSS of its dfstore process) and reads the peaks.
func (b *bench) measurePeaks(ctx context.Context, step func() (int64, error)) (transferPeaks, error) {
	daemons := b.cl.daemons()
	for _, d := range daemons {
		if err := resetPeakRSS(d.pid()); err != nil {
			return transferPeaks{}, err
		}
	}
	rss, err := step()
	if err != nil {
		return transferPeaks{}, err
	}
	peaks := transferPeaks{dfstore: rss, daemons: map[string]int64{}}
	for _, d := range daemons {
		if peaks.daemons[d.name], err = peakRSS(d.pid()); err != nil {
			return transferPeaks{}, err
		}
	}
	return peaks, nil
}

// dfstore runs bin/dfstore against endpoint with args, through the rusage
// helper, and returns its peak RSS in bytes.
func (b *bench) dfstore(ctx context.Context, endpoint string, args ...string) (int64, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(b.opts.binDir, "dfstore"), append([]string{"-e", endpoint}, args...)...)
	rss, out, err := runMeasured(cmd)
	if err != nil {
		return 0, fmt.Errorf("dfstore %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return rss, nil
}
