package main

import (
	"fmt"
	"math"
)

// line is one compared pair of samples in the table.
type line struct {
	metric string
	// ours is dfcache's sample; base is the baseline's sample, described
	// by baseLabel.
	ours      sample
	baseLabel string
	base      sample
	// target states the goal; verdict is "met", "missed" or empty when
	// the line has no target.
	target, verdict string
}

// rowResult is one numbered row of the table with its reading.
type rowResult struct {
	num     int
	title   string
	lines   []line
	reading string
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

func formatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}
