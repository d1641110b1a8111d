package main

import (
	"math"
	"testing"
	"time"
)

func TestSampleMedianOddAndEven(t *testing.T) {
	odd := sample{values: []float64{5, 1, 3}}
	if got := odd.median(); got != 3 {
		t.Errorf("median of 5 1 3 = %v, want 3", got)
	}
	even := sample{values: []float64{4, 1, 3, 2}}
	if got := even.median(); got != 2.5 {
		t.Errorf("median of 4 1 3 2 = %v, want 2.5", got)
	}
	if got := (sample{}).median(); !math.IsNaN(got) {
		t.Errorf("median of no values = %v, want NaN", got)
	}
}

func TestSampleStringShowsSpread(t *testing.T) {
	s := sample{unit: unitBytes, values: []float64{64 << 20, 32 << 20, 128 << 20}}
	if got, want := s.String(), "64.0 MiB (32.0 MiB–128.0 MiB)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	same := sample{unit: unitCount, values: []float64{8, 8, 8}}
	if got, want := same.String(), "8 (all 3 equal)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestRatioOfMedians(t *testing.T) {
	a := sample{values: []float64{1, 2, 3}}
	b := sample{values: []float64{4, 8, 4}}
	if got := ratio(a, b); got != 0.5 {
		t.Errorf("ratio = %v, want 0.5", got)
	}
	if got := formatRatio(ratio(a, sample{values: []float64{0}})); got != "n/a" {
		t.Errorf("ratio to zero formats as %q, want n/a", got)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 50); got != 50 {
		t.Errorf("p50 = %v ms, want 50", got)
	}
	if got := percentile(d, 99); got != 99 {
		t.Errorf("p99 = %v ms, want 99", got)
	}
	if got := percentile(d[:1], 99); got != 100 {
		t.Errorf("p99 of one value = %v ms, want 100", got)
	}
}
