package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// unit selects how a sample's values are printed.
type unit int

const (
	unitBytes   unit = iota // bytes, printed in KiB, MiB or GiB
	unitCount               // plain count
	unitSeconds             // seconds
	unitRate                // bytes per second, printed in MiB/s
	unitOps                 // operations per second
	unitMillis              // milliseconds
)

// sample is the repeated measurement of one quantity.
type sample struct {
	unit   unit
	values []float64
}

func (s *sample) add(v float64) { s.values = append(s.values, v) }

// median returns the middle value, or the mean of the two middle ones; NaN
// when the sample is empty.
func (s sample) median() float64 {
	if len(s.values) == 0 {
		return math.NaN()
	}
	v := slices.Sorted(slices.Values(s.values))
	mid := len(v) / 2
	if len(v)%2 == 1 {
		return v[mid]
	}
	return (v[mid-1] + v[mid]) / 2
}

// String prints "median (min–max, n=N)".
func (s sample) String() string {
	if len(s.values) == 0 {
		return "not measured"
	}
	lo, hi := slices.Min(s.values), slices.Max(s.values)
	if lo == hi {
		return fmt.Sprintf("%s (all %d equal)", s.format(s.median()), len(s.values))
	}
	return fmt.Sprintf("%s (%s–%s)", s.format(s.median()), s.format(lo), s.format(hi))
}

func (s sample) format(v float64) string {
	switch s.unit {
	case unitBytes:
		return formatBytes(v)
	case unitSeconds:
		return fmt.Sprintf("%.2f s", v)
	case unitRate:
		return fmt.Sprintf("%.0f MiB/s", v/(1<<20))
	case unitOps:
		return fmt.Sprintf("%.0f ops/s", v)
	case unitMillis:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func formatBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", v)
	}
}

// ratio returns the ratio of the medians of a and b, NaN when b's is 0.
func ratio(a, b sample) float64 {
	mb := b.median()
	if mb == 0 {
		return math.NaN()
	}
	return a.median() / mb
}

// percentile returns the p-th percentile (0 < p <= 100) of durations by the
// nearest-rank method, in milliseconds.
func percentile(durations []time.Duration, p float64) float64 {
	if len(durations) == 0 {
		return math.NaN()
	}
	d := slices.Sorted(slices.Values(durations))
	rank := int(math.Ceil(p / 100 * float64(len(d))))
	rank = min(max(rank, 1), len(d))
	return float64(d[rank-1]) / float64(time.Millisecond)
}

// constSample returns a sample of n copies of v, for a fixed baseline.
func constSample(u unit, v float64, n int) sample {
	s := sample{unit: u}
	for range n {
		s.add(v)
	}
	return s
}
