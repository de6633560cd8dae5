package main

import (
	"slices"
	"time"
)

// Dist summarises latencies in milliseconds.
type Dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func distOf(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Dist{N: len(s), P50: pct(s, 50), P90: pct(s, 90), P99: pct(s, 99), Max: ms(s[len(s)-1])}
}

// pct is the nearest-rank percentile of sorted s.
func pct(s []time.Duration, p int) float64 {
	i := (p*len(s)+99)/100 - 1
	return ms(s[max(i, 0)])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
