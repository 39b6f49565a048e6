package measure

import (
	"math"
	"slices"
)

// The sample sizes up to which MannWhitney computes the exact
// distribution of U, as benchstat does: without ties up to 50 values a
// side, with ties up to 9. Larger samples use the normal approximation.
const (
	exactLimit     = 50
	exactTiesLimit = 9
)

// UTest is the outcome of a two-sided Mann-Whitney U test.
type UTest struct {
	// U is the smaller of the two U statistics, ties counted as one half.
	U float64
	// P is the two-sided p-value: how likely a difference in ranks at
	// least this large is when both samples come from one distribution.
	P float64
	// Exact reports whether P comes from the exact distribution of U
	// rather than the normal approximation.
	Exact bool
}

// MannWhitney tests whether x and y come from the same distribution,
// against one tending to larger values than the other: the rank test
// benchstat uses. It makes no assumption about the shape of the
// distributions, which suits response times with their long tails.
//
// Small samples get the exact distribution of U (with ties, the exact
// distribution given the tie groups); larger ones the normal
// approximation with tie and continuity corrections. When every value is
// equal there is no evidence of a difference and P is 1. Either sample
// being empty also gives P = 1.
func MannWhitney(x, y []float64) UTest {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return UTest{P: 1}
	}
	groups := tieGroups(x, y)
	var r1 float64 // rank sum of x, tied values sharing their mean rank
	rank, ties := 0, false
	for _, g := range groups {
		r1 += float64(g.fromX) * (float64(rank) + float64(g.size+1)/2)
		rank += g.size
		ties = ties || g.size > 1
	}
	u1 := r1 - float64(n1*(n1+1))/2
	u := math.Min(u1, float64(n1*n2)-u1)
	switch {
	case len(groups) == 1:
		return UTest{U: u, P: 1, Exact: true}
	case !ties && n1 <= exactLimit && n2 <= exactLimit, ties && n1 <= exactTiesLimit && n2 <= exactTiesLimit:
		return UTest{U: u, P: exactP(groups, n1, n2, u1), Exact: true}
	}
	return UTest{U: u, P: normalP(groups, n1, n2, u)}
}

// tieGroup is a run of equal values in the pooled, sorted samples.
type tieGroup struct {
	size  int // values in the run
	fromX int // of which from the first sample
}

// tieGroups pools x and y, sorts them and returns the runs of equal values
// in order, counting how many of each come from x.
func tieGroups(x, y []float64) []tieGroup {
	type labelled struct {
		v     float64
		fromX bool
	}
	all := make([]labelled, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, labelled{v, true})
	}
	for _, v := range y {
		all = append(all, labelled{v, false})
	}
	slices.SortFunc(all, func(a, b labelled) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var groups []tieGroup
	for i, l := range all {
		if i == 0 || l.v != all[i-1].v {
			groups = append(groups, tieGroup{})
		}
		g := &groups[len(groups)-1]
		g.size++
		if l.fromX {
			g.fromX++
		}
	}
	return groups
}

// exactP is the two-sided p-value of U1 (the first sample's U) under the
// exact null distribution given the tie groups: the share of the ways to
// split the pooled values into samples of n1 and n2 whose U1 lies at least
// as far from its mean n1·n2/2 as the observed one. Without ties the
// distribution is symmetric and this is twice the lower tail, as in
// benchstat; with ties it need not be, and both tails are counted as they
// are.
//
// The distribution is counted over the groups in order: taking c of a
// group's t values into the first sample, b values of the second sample
// lying below the group, adds c·b + c·(t−c)/2 to U1, in C(t, c) ways.
// Twice U1 is an integer, which indexes the counts.
func exactP(groups []tieGroup, n1, n2 int, u1 float64) float64 {
	width := 2*n1*n2 + 1
	// ways[k*width+u2]: ways to have taken k values into the first sample
	// with twice U1 so far u2; next is the same after one more group.
	ways, next := make([]float64, (n1+1)*width), make([]float64, (n1+1)*width)
	ways[0] = 1
	seen := 0 // values in the groups so far
	for _, g := range groups {
		clear(next)
		for k := 0; k <= min(n1, seen); k++ {
			b := seen - k // second-sample values below this group
			for u2, w := range ways[k*width : (k+1)*width] {
				if w == 0 {
					continue
				}
				for c := 0; c <= g.size && k+c <= n1; c++ {
					if add := 2*c*b + c*(g.size-c); u2+add < width {
						next[(k+c)*width+u2+add] += w * binomial(g.size, c)
					}
				}
			}
		}
		ways, next = next, ways
		seen += g.size
	}
	obs := math.Abs(2*u1 - float64(n1*n2))
	var total, tail float64
	for u2, w := range ways[n1*width:] {
		total += w
		if math.Abs(float64(u2-n1*n2)) >= obs {
			tail += w
		}
	}
	return math.Min(1, tail/total)
}

// binomial is C(n, k) as a float64.
func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// normalP is the two-sided p-value of U under the normal approximation,
// with the tie correction of the variance and a continuity correction.
func normalP(groups []tieGroup, n1, n2 int, u float64) float64 {
	var t float64
	for _, g := range groups {
		s := float64(g.size)
		t += s*s*s - s
	}
	n := float64(n1 + n2)
	mean := float64(n1*n2) / 2
	sd := math.Sqrt(float64(n1*n2) * ((n + 1) - t/(n*(n-1))) / 12)
	if sd == 0 {
		return 1
	}
	d := u - mean
	switch {
	case d > 0:
		d -= 0.5
	case d < 0:
		d += 0.5
	}
	z := d / sd
	// Two tails of the standard normal beyond |z|.
	return math.Min(1, math.Erfc(math.Abs(z)/math.Sqrt2))
}
