package measure

import (
	"math"
	"slices"
)

// Stats summarize one metric's samples in milliseconds.
type Stats struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize computes the median, 95th percentile, minimum and maximum of
// values; the zero Stats for none.
func Summarize(values []float64) Stats {
	if len(values) == 0 {
		return Stats{}
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return Stats{
		N:      len(sorted),
		Median: round3(quantile(sorted, 0.5)),
		P95:    round3(quantile(sorted, 0.95)),
		Min:    sorted[0],
		Max:    sorted[len(sorted)-1],
	}
}

// Median is the median of values, 0 for none.
func Median(values []float64) float64 {
	return Summarize(values).Median
}

// quantile is the q-quantile of sorted values, interpolating linearly
// between the two nearest ranks (R's type 7, the usual default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// round3 rounds to a microsecond, the resolution of the samples, so that
// interpolated figures print without float noise.
func round3(v float64) float64 {
	return math.Round(v*1000) / 1000
}
