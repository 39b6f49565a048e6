package measure

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// runOf builds a run whose samples have TTFBs around median with the
// given spread (uniform noise), and a db Server-Timing metric when db > 0.
func runOf(rng *rand.Rand, u string, st State, n int, median, spread, db float64) Run {
	r := Run{URL: u, Variant: probe.Anonymous, State: st}
	for range n {
		v := median + (rng.Float64()-0.5)*spread
		s := Sample{TTFBMs: v, TotalMs: v + 0.5, StatusCode: 200}
		if db > 0 {
			s.ServerTiming = servertiming.Set{"db": {Dur: ptr(db + (rng.Float64()-0.5)*spread/2)}}
		}
		r.Samples = append(r.Samples, s)
	}
	r.Summarize()
	return r
}

func doc(runs ...Run) *Document {
	return &Document{FormatVersion: FormatVersion, Samples: 20, Bust: "query", Runs: runs}
}

// verdicts maps "url state metric" to the verdict.
func verdicts(c *Comparison) map[string]Verdict {
	m := map[string]Verdict{}
	for _, r := range c.Results {
		m[r.URL+" "+string(r.State)+" "+r.Metric] = r.Verdict
	}
	return m
}

func TestCompareVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	old := doc(
		runOf(rng, "/fixed", Cold, 20, 40, 8, 30),    // a missing index...
		runOf(rng, "/fixed", Warm, 20, 0.5, 0.2, 0),  // ...is invisible on a hit
		runOf(rng, "/same", Cold, 20, 10, 4, 5),      // nothing changed
		runOf(rng, "/worse", Cold, 12, 4, 1, 1),      // becomes 10× slower
		runOf(rng, "/tiny", Cold, 20, 1, 0.1, 0),     // +50%, but 0.5 ms
		runOf(rng, "/slight", Cold, 20, 100, 0.5, 0), // +5%, 5 ms
	)
	rng = rand.New(rand.NewPCG(8, 12))
	new := doc(
		runOf(rng, "/fixed", Cold, 20, 6, 2, 0.4),
		runOf(rng, "/fixed", Warm, 20, 0.5, 0.2, 0),
		runOf(rng, "/same", Cold, 20, 10, 4, 5),
		runOf(rng, "/worse", Cold, 12, 40, 10, 30),
		runOf(rng, "/tiny", Cold, 20, 1.5, 0.1, 0),
		runOf(rng, "/slight", Cold, 20, 105, 0.5, 0),
	)
	c := Compare(old, new, DefaultCompareOptions)
	want := map[string]Verdict{
		"/fixed cold ttfb_ms": Improved, "/fixed cold total_ms": Improved, "/fixed cold server_timing.db": Improved,
		"/fixed warm ttfb_ms": Unchanged, "/fixed warm total_ms": Unchanged,
		"/same cold ttfb_ms": Unchanged, "/same cold total_ms": Unchanged, "/same cold server_timing.db": Unchanged,
		"/worse cold ttfb_ms": Regressed, "/worse cold total_ms": Regressed, "/worse cold server_timing.db": Regressed,
		"/tiny cold ttfb_ms": Unchanged, "/tiny cold total_ms": Unchanged,
		"/slight cold ttfb_ms": Unchanged, "/slight cold total_ms": Unchanged,
	}
	got := verdicts(c)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d: %v", len(got), len(want), got)
	}
	if c.Improved != 3 || c.Regressed != 3 || c.Unchanged != 9 || c.Missing != 0 {
		t.Errorf("counts %d improved, %d regressed, %d unchanged, %d missing", c.Improved, c.Regressed, c.Unchanged, c.Missing)
	}
	for _, r := range c.Results {
		if r.Metric == "ttfb_ms" && r.URL == "/tiny" && (r.PValue == nil || *r.PValue >= 0.05) {
			t.Errorf("/tiny: p = %v; the test is meant to be significant and the change too small", r.PValue)
		}
		if r.Metric == "ttfb_ms" && r.URL == "/worse" && (r.DeltaPct == nil || *r.DeltaPct < 500 || r.OldN != 12 || r.NewN != 12) {
			t.Errorf("/worse: %+v", r)
		}
	}
}

func TestCompareListsWhatDoesNotPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	onlyOld := runOf(rng, "/gone", Cold, 5, 10, 1, 0)
	coldOnly := runOf(rng, "/a", Cold, 5, 10, 1, 0)
	warmOnly := runOf(rng, "/a", Warm, 5, 1, 0.1, 0)
	empty := Run{URL: "/b", Variant: probe.Anonymous, State: Warm, Discarded: 40}
	full := runOf(rng, "/b", Warm, 5, 1, 0.1, 0)
	withDB := runOf(rng, "/c", Cold, 5, 10, 1, 3)
	withoutDB := runOf(rng, "/c", Cold, 5, 10, 1, 0)
	c := Compare(doc(onlyOld, coldOnly, empty, withDB), doc(warmOnly, full, withoutDB), DefaultCompareOptions)
	notes := map[string]string{}
	for _, r := range c.Results {
		if r.Verdict != Missing && r.URL != "/c" {
			t.Errorf("%s %s %s: %s, want missing", r.URL, r.State, r.Metric, r.Verdict)
		}
		if r.Verdict == Missing && (r.PValue != nil || r.DeltaPct != nil) {
			t.Errorf("missing result with a p-value or delta: %+v", r)
		}
		notes[r.URL+" "+string(r.State)+" "+r.Metric] = r.Note
	}
	for k, want := range map[string]string{
		"/gone cold ttfb_ms":       "run only in the old measurement",
		"/a cold ttfb_ms":          "run only in the old measurement",
		"/a warm ttfb_ms":          "run only in the new measurement",
		"/b warm ttfb_ms":          "no samples in the old measurement: 40 discarded",
		"/c cold server_timing.db": "metric only in the old measurement",
		"/c cold ttfb_ms":          "",
	} {
		if notes[k] != want {
			t.Errorf("%s: note %q, want %q", k, notes[k], want)
		}
	}
	// The warm run of /a comes last: only the new document has it.
	if last := c.Results[len(c.Results)-1]; last.URL != "/a" || last.State != Warm || last.Old != nil || last.New == nil {
		t.Errorf("last result = %+v, want /a warm with only a new median", last)
	}
}

func TestVerdictThresholds(t *testing.T) {
	o := DefaultCompareOptions
	tests := []struct {
		old, new, p float64
		want        Verdict
	}{
		{30, 3, 0.001, Improved},
		{3, 30, 0.001, Regressed},
		{30, 3, 0.05, Unchanged},     // p must be below alpha
		{100, 109, 0.001, Unchanged}, // 9%
		{100, 110, 0.001, Regressed}, // 10% and 10 ms
		{10, 11.9, 0.001, Unchanged}, // 19%, but 1.9 ms
		{10, 12, 0.001, Regressed},
		{0, 5, 0.001, Regressed}, // from nothing: only the ms bound applies
		{5, 5, 0.001, Unchanged},
	}
	for _, tt := range tests {
		if got := o.verdict(tt.old, tt.new, tt.p); got != tt.want {
			t.Errorf("verdict(%v → %v, p=%v) = %s, want %s", tt.old, tt.new, tt.p, got, tt.want)
		}
	}
}

func TestReadRefusesWhatCannotBeCompared(t *testing.T) {
	valid, err := json.Marshal(doc(Run{URL: "/a", Variant: probe.Anonymous, State: Cold, Samples: []Sample{{TTFBMs: 1}}}))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Read(strings.NewReader(string(valid))); err != nil || len(d.Runs) != 1 || d.Runs[0].Samples[0].TTFBMs != 1 {
		t.Fatalf("Read(valid) = %+v, %v", d, err)
	}
	tests := []struct{ name, input, want string }{
		{"not JSON", "URL  VARIANT  STATE\n", "not the JSON output of cachectl measure -o json"},
		{"inspect output", `{"probes": [], "summary": {}}`, "not the JSON output of cachectl measure -o json"},
		{"no runs", `{"format_version": 1}`, "expected an object with format_version and runs"},
		{"a newer format", `{"format_version": 2, "runs": []}`, "format version 2, this cachectl reads version 1"},
		{"runs not a list", `{"format_version": 1, "runs": {}}`, "cannot unmarshal object"},
		{"unknown state", `{"format_version": 1, "runs": [{"url": "/a", "variant": "anonymous", "state": "lukewarm"}]}`, `runs[0] has state "lukewarm"`},
		{"unknown variant", `{"format_version": 1, "runs": [{"url": "/a", "variant": "admin", "state": "cold"}]}`, `runs[0] has variant "admin"`},
		{"no url", `{"format_version": 1, "runs": [{"variant": "anonymous", "state": "cold"}]}`, "runs[0] has no url"},
		{"a run twice", `{"format_version": 1, "runs": [{"url": "/a", "variant": "anonymous", "state": "cold"}, {"url": "/a", "variant": "anonymous", "state": "cold"}]}`, "runs[0] and runs[1] are both /a (anonymous, cold)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.input))
			var nc *NotComparableError
			if !errors.As(err, &nc) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read: %v, want a NotComparableError mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 4, 2, 3})
	if s != (Stats{N: 5, Median: 3, P95: 4.8, Min: 1, Max: 5}) {
		t.Errorf("Summarize = %+v", s)
	}
	if s := Summarize([]float64{7}); s != (Stats{N: 1, Median: 7, P95: 7, Min: 7, Max: 7}) {
		t.Errorf("one value: %+v", s)
	}
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("none: %+v", s)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("Median = %v", m)
	}
}
