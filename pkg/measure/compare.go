package measure

import (
	"fmt"
	"math"
	"slices"

	"github.com/cachectl/cachectl/pkg/probe"
)

// Verdict is compare's conclusion for one metric of one run.
type Verdict string

// Verdicts.
const (
	// Improved and Regressed need both a significant rank test and a
	// change at least as large as the minimum effects.
	Improved  Verdict = "improved"
	Regressed Verdict = "regressed"
	// Unchanged is everything else: no evidence of a difference, or one
	// too small to matter.
	Unchanged Verdict = "unchanged"
	// Missing is a run or metric found in one document only, or without
	// samples on one side: listed, not compared.
	Missing Verdict = "missing"
)

// CompareOptions are the thresholds of a verdict.
type CompareOptions struct {
	// Alpha is the p-value below which a difference counts (0.05).
	Alpha float64
	// MinDeltaPct and MinDeltaMs are the smallest changes of the median
	// that count, in percent of the old median and in milliseconds; a
	// change must reach both.
	MinDeltaPct float64
	MinDeltaMs  float64
}

// DefaultCompareOptions are compare's defaults.
var DefaultCompareOptions = CompareOptions{Alpha: 0.05, MinDeltaPct: 10, MinDeltaMs: 2}

// Result is one metric of one run compared.
type Result struct {
	URL     string        `json:"url"`
	Variant probe.Variant `json:"variant"`
	State   State         `json:"state"`
	Metric  string        `json:"metric"`
	// Old and New are the medians; nil on the side that has none.
	Old *float64 `json:"old"`
	New *float64 `json:"new"`
	// OldN and NewN are the sample counts.
	OldN int `json:"old_n"`
	NewN int `json:"new_n"`
	// DeltaPct is the change of the median in percent of the old one;
	// nil when there is nothing to compare or the old median is 0.
	DeltaPct *float64 `json:"delta_pct"`
	// PValue is the Mann-Whitney test's two-sided p-value.
	PValue  *float64 `json:"p_value"`
	Verdict Verdict  `json:"verdict"`
	// Note says why a result is missing.
	Note string `json:"note,omitempty"`
}

// Comparison is two measure documents compared.
type Comparison struct {
	Options CompareOptions
	Results []Result
	// Counts of results by verdict.
	Improved, Regressed, Unchanged, Missing int
}

// Compare pairs the runs of old and new by URL, variant and cache state —
// a cold run is only ever compared with a cold one — and compares every
// metric the pair has: TTFB, total, and each Server-Timing metric. Runs
// and metrics found on one side only are listed as Missing. Results
// follow old's run order, then the runs only new has.
func Compare(old, new *Document, o CompareOptions) *Comparison {
	c := &Comparison{Options: o}
	newRuns := map[Key]*Run{}
	for i := range new.Runs {
		newRuns[new.Runs[i].Key()] = &new.Runs[i]
	}
	paired := map[Key]bool{}
	for i := range old.Runs {
		or := &old.Runs[i]
		nr := newRuns[or.Key()]
		paired[or.Key()] = nr != nil
		c.run(or, nr)
	}
	for i := range new.Runs {
		if nr := &new.Runs[i]; !paired[nr.Key()] {
			c.run(nil, nr)
		}
	}
	return c
}

// run compares one pair; either side may be nil.
func (c *Comparison) run(or, nr *Run) {
	var metrics []string
	for _, r := range []*Run{or, nr} {
		if r == nil {
			continue
		}
		for _, m := range r.Metrics() {
			if !slices.Contains(metrics, m) {
				metrics = append(metrics, m)
			}
		}
	}
	for _, m := range metrics {
		c.add(c.metric(or, nr, m))
	}
}

func (c *Comparison) add(r Result) {
	c.Results = append(c.Results, r)
	switch r.Verdict {
	case Improved:
		c.Improved++
	case Regressed:
		c.Regressed++
	case Unchanged:
		c.Unchanged++
	default:
		c.Missing++
	}
}

// metric compares one metric of a pair of runs.
func (c *Comparison) metric(or, nr *Run, metric string) Result {
	ref := or
	if ref == nil {
		ref = nr
	}
	r := Result{URL: ref.URL, Variant: ref.Variant, State: ref.State, Metric: metric}
	var ov, nv []float64
	if or != nil {
		ov = or.Values(metric)
	}
	if nr != nil {
		nv = nr.Values(metric)
	}
	r.OldN, r.NewN = len(ov), len(nv)
	if len(ov) > 0 {
		r.Old = ptr(Median(ov))
	}
	if len(nv) > 0 {
		r.New = ptr(Median(nv))
	}
	if note := missingNote(or, nr, ov, nv); note != "" {
		r.Verdict, r.Note = Missing, note
		return r
	}
	if *r.Old != 0 {
		r.DeltaPct = ptr(round3((*r.New - *r.Old) / *r.Old * 100))
	}
	p := MannWhitney(ov, nv).P
	r.PValue = ptr(p)
	r.Verdict = c.Options.verdict(*r.Old, *r.New, p)
	return r
}

// missingNote says why a metric cannot be compared; "" when it can.
func missingNote(or, nr *Run, ov, nv []float64) string {
	switch {
	case or == nil:
		return "run only in the new measurement"
	case nr == nil:
		return "run only in the old measurement"
	case len(or.Samples) == 0:
		return fmt.Sprintf("no samples in the old measurement: %d discarded", or.Discarded)
	case len(nr.Samples) == 0:
		return fmt.Sprintf("no samples in the new measurement: %d discarded", nr.Discarded)
	case len(ov) == 0:
		return "metric only in the new measurement"
	case len(nv) == 0:
		return "metric only in the old measurement"
	}
	return ""
}

// verdict applies the thresholds to a change of the median from old to
// new with the rank test's p-value. Lower is better for every metric.
func (o CompareOptions) verdict(old, new, p float64) Verdict {
	delta := new - old
	big := math.Abs(delta) >= o.MinDeltaMs && (old == 0 || math.Abs(delta)/old*100 >= o.MinDeltaPct)
	switch {
	case p >= o.Alpha || !big || delta == 0:
		return Unchanged
	case delta < 0:
		return Improved
	}
	return Regressed
}

func ptr(v float64) *float64 { return &v }
