package measure

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// TestMannWhitneyKnownValues checks p-values published for other
// implementations: the test vectors of benchstat's statistics package
// (github.com/aclements/go-moremath, checked there against R's
// wilcox.test) and the example of R's own wilcox.test documentation.
func TestMannWhitneyKnownValues(t *testing.T) {
	l1 := make([]float64, 500)
	for i := range l1 {
		l1[i] = float64(i * 2)
	}
	l2 := make([]float64, 600)
	for i := range l2 {
		l2[i] = float64(i*2 - 41)
	}
	l3 := append([]float64{}, l2...)
	copy(l3[:30], l1[:30])
	tests := []struct {
		name  string
		x, y  []float64
		u, p  float64
		exact bool
	}{
		{"small, no overlap", []float64{2, 1, 3, 5}, []float64{12, 11, 13, 15}, 0, 0.028571428571428577, true},
		{"small, no overlap, swapped", []float64{12, 11, 13, 15}, []float64{2, 1, 3, 5}, 0, 0.028571428571428577, true},
		{"small, interleaved", []float64{2, 1, 3, 5}, []float64{0, 4, 6, 7}, 5, 0.48571428571428577, true},
		{"identical samples", []float64{2, 1, 3, 5}, []float64{2, 1, 3, 5}, 8, 1, true},
		// R: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46);
		// y <- c(1.15, 0.88, 0.90, 0.74, 1.21); wilcox.test(x, y) gives W = 35,
		// p-value = 0.2544 (twice the one-sided 0.1272 of its example).
		{"R's wilcox.test example", []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}, []float64{1.15, 0.88, 0.90, 0.74, 1.21}, 15, 0.2544, true},
		{"large, normal approximation", l1, l2, 135250, 0.0049335360814172224, false},
		{"large with ties, tie correction", l1, l3, 134845, 0.0038703814239617884, false},
		{"large, same sample", l1, l1, 125000, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MannWhitney(tt.x, tt.y)
			p := got.P
			if tt.name == "R's wilcox.test example" {
				p = math.Round(p*1e4) / 1e4 // R prints four digits
			}
			if got.U != tt.u || !near(p, tt.p) || got.Exact != tt.exact {
				t.Errorf("MannWhitney = %+v, want U %v, P %v, exact %v", got, tt.u, tt.p, tt.exact)
			}
		})
	}
}

func TestMannWhitneyEdges(t *testing.T) {
	if got := MannWhitney(nil, []float64{1}); got.P != 1 {
		t.Errorf("empty sample: P = %v, want 1", got.P)
	}
	if got := MannWhitney([]float64{3, 3, 3}, []float64{3, 3}); got.P != 1 {
		t.Errorf("all values equal: P = %v, want 1", got.P)
	}
	// Every value of one sample below every value of the other, with 12 a
	// side (the regression test's sample size): far below 0.05.
	lo, hi := make([]float64, 12), make([]float64, 12)
	for i := range lo {
		lo[i], hi[i] = float64(i), float64(100+i)
	}
	if got := MannWhitney(lo, hi); !got.Exact || got.P > 1e-5 {
		t.Errorf("12 vs 12, fully separated: %+v, want an exact p below 1e-5", got)
	}
}

// TestMannWhitneyExactMatchesEnumeration checks the exact distribution,
// with and without ties, against counting every way to split the pooled
// values into the two samples.
func TestMannWhitneyExactMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		n1, n2 := 1+rng.IntN(7), 1+rng.IntN(7)
		levels := 3 + rng.IntN(12) // few levels: many ties
		if i%3 == 0 {
			levels = 1000
		}
		x, y := make([]float64, n1), make([]float64, n2)
		for j := range x {
			x[j] = float64(rng.IntN(levels))
		}
		for j := range y {
			y[j] = float64(rng.IntN(levels))
		}
		got := MannWhitney(x, y)
		if want := enumerateP(x, y); !near(got.P, want) {
			t.Fatalf("MannWhitney(%v, %v).P = %v, enumeration gives %v", x, y, got.P, want)
		}
	}
}

// enumerateP is the two-sided exact p-value by brute force: the share of
// the splits of the pooled values whose U lies at least as far from its
// mean as the observed one.
func enumerateP(x, y []float64) float64 {
	pooled := append(append([]float64{}, x...), y...)
	n1, n := len(x), len(x)+len(y)
	mean := float64(len(x)*len(y)) / 2
	obs := math.Abs(uStat(x, y) - mean)
	var all, tail int
	for mask := 0; mask < 1<<n; mask++ {
		var a, b []float64
		for i, v := range pooled {
			if mask&(1<<i) != 0 {
				a = append(a, v)
			} else {
				b = append(b, v)
			}
		}
		if len(a) != n1 {
			continue
		}
		all++
		if math.Abs(uStat(a, b)-mean) >= obs-1e-9 {
			tail++
		}
	}
	if obs == 0 {
		return 1
	}
	return float64(tail) / float64(all)
}

// uStat counts the pairs where x's value is the larger, ties as one half.
func uStat(x, y []float64) float64 {
	u := 0.0
	for _, a := range x {
		for _, b := range y {
			switch {
			case a > b:
				u++
			case a == b:
				u += 0.5
			}
		}
	}
	return u
}

// BenchmarkMannWhitneyExact50 is the largest exact case: 50 values a side.
func BenchmarkMannWhitneyExact50(b *testing.B) {
	x, y := make([]float64, 50), make([]float64, 50)
	for i := range x {
		x[i], y[i] = float64(2*i), float64(2*i+1)
	}
	for b.Loop() {
		MannWhitney(x, y)
	}
}
