package measure

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/servertiming"
)

// fakeCache answers probes like a cache in front of an origin: a URL it
// has not seen (or that was purged) is a MISS, a URL seen before a HIT;
// statuses, when set, replace that answer request by request.
type fakeCache struct {
	seen     map[string]bool
	requests []string
	statuses []cachestatus.Status // forced answers, in order, "" for none
	fail     map[int]string       // request number (from 0) → error
}

func (c *fakeCache) Probe(_ context.Context, u string, v probe.Variant, _ *probe.Session) probe.Result {
	n := len(c.requests)
	c.requests = append(c.requests, u)
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	st := cachestatus.MISS
	if c.seen[u] {
		st = cachestatus.HIT
	}
	c.seen[u] = true
	if n < len(c.statuses) && c.statuses[n] != "" {
		st = c.statuses[n]
	}
	r := probe.Result{URL: u, Variant: v, StatusCode: 200, Cache: cachestatus.Result{Status: st},
		Timing: probe.Timing{TTFB: float64(n + 1), Total: float64(n + 2)},
		ServerTiming: servertiming.Set{
			"db":     {Dur: ptr(float64(10 * (n + 1))), Part: servertiming.Database},
			"cfEdge": {Dur: ptr(1), Part: servertiming.Edge, CDN: "cloudflare"},
		},
	}
	if msg, ok := c.fail[n]; ok {
		r = probe.Result{URL: u, Variant: v, Error: msg}
	}
	return r
}

func (c *fakeCache) purge(_ context.Context, u string) error {
	delete(c.seen, u)
	return nil
}

func measureAll(t *testing.T, p Prober, urls []string, o Options) []Run {
	t.Helper()
	var runs []Run
	if err := Measure(context.Background(), p, urls, o, func(r Run) error {
		runs = append(runs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestQueryBustedColdAndPrimedWarm(t *testing.T) {
	c := &fakeCache{}
	runs := measureAll(t, c, []string{"http://site.test/a?page=2"}, Options{
		Samples: 3, States: []State{Cold, Warm}, Variants: []probe.Variant{probe.Anonymous}, Buster: NewQueryBuster("cachectl-bust"),
	})
	if len(runs) != 2 {
		t.Fatalf("got %d runs, want cold and warm", len(runs))
	}
	cold, warm := runs[0], runs[1]
	if cold.State != Cold || len(cold.Samples) != 3 || cold.Discarded != 0 || cold.URL != "http://site.test/a?page=2" {
		t.Errorf("cold run = %+v", cold)
	}
	for i, u := range c.requests[:3] {
		pu, _ := url.Parse(u)
		if pu.Query().Get("page") != "2" || pu.Query().Get("cachectl-bust") == "" || strings.Contains(strings.Join(c.requests[:i], " "), u) {
			t.Errorf("cold request %d = %s, want the page's own query and a new cachectl-bust value", i, u)
		}
	}
	// The warm run primes the real URL, then samples it: 1 + 3 requests.
	if got := c.requests[3:]; len(got) != 4 || got[0] != "http://site.test/a?page=2" || got[3] != got[0] {
		t.Errorf("warm requests = %v, want the plain URL four times", got)
	}
	if warm.State != Warm || len(warm.Samples) != 3 || warm.Samples[0].CacheStatus != cachestatus.HIT {
		t.Errorf("warm run = %+v", warm)
	}
	// The priming request (the fifth) is not a sample: the first warm sample is the sixth.
	if warm.Samples[0].TTFBMs != 5 {
		t.Errorf("first warm sample's TTFB = %v, want 5 (the request after the priming one)", warm.Samples[0].TTFBMs)
	}
	if _, ok := cold.Samples[0].ServerTiming["db"]; !ok {
		t.Error("cold sample lost the origin's db metric")
	}
	if st := warm.Samples[0].ServerTiming; len(st) != 1 || st["cfEdge"].Dur == nil {
		t.Errorf("warm sample's Server-Timing = %v, want the CDN's cfEdge only (db is the cached copy's)", st)
	}
	if s := cold.Summary[TTFB]; s.N != 3 || s.Median != 2 || s.Min != 1 || s.Max != 3 {
		t.Errorf("cold TTFB summary = %+v", s)
	}
	if s := cold.Summary["server_timing.db"]; s.Median != 20 {
		t.Errorf("cold db summary = %+v", s)
	}
}

func TestDiscardedSamplesAreCountedNeverKept(t *testing.T) {
	c := &fakeCache{
		// cold: 3 asked; the 2nd answer is a HIT and the 4th fails.
		statuses: []cachestatus.Status{"", cachestatus.HIT, "", "", ""},
		fail:     map[int]string{3: "connection refused"},
	}
	runs := measureAll(t, c, []string{"http://site.test/a"}, Options{
		Samples: 3, States: []State{Cold}, Variants: []probe.Variant{probe.Anonymous}, Buster: PurgeBuster{Purge: c.purge},
	})
	r := runs[0]
	if len(r.Samples) != 3 || r.Discarded != 2 || !reflect.DeepEqual(r.DiscardedBy, map[string]int{"HIT": 1, ErrorStatus: 1}) || r.Error != "connection refused" {
		t.Errorf("run = %+v, want 3 samples, 2 discarded (a HIT and an error)", r)
	}
	for _, s := range r.Samples {
		if s.CacheStatus != cachestatus.MISS {
			t.Errorf("kept a %s sample in a cold run", s.CacheStatus)
		}
	}
	if len(c.requests) != 5 {
		t.Errorf("%d requests, want 5", len(c.requests))
	}
}

func TestRouteThatNeverReachesTheStateEndsShort(t *testing.T) {
	// Every answer a MISS: the warm run never gets a HIT.
	never := make([]cachestatus.Status, 100)
	for i := range never {
		never[i] = cachestatus.MISS
	}
	c := &fakeCache{statuses: never}
	runs := measureAll(t, c, []string{"http://site.test/health"}, Options{
		Samples: 4, States: []State{Warm}, Variants: []probe.Variant{probe.Anonymous}, Buster: NewQueryBuster("b"),
	})
	if r := runs[0]; len(r.Samples) != 0 || r.Discarded != 8 || r.DiscardedBy["MISS"] != 8 || len(r.Summary) != 0 {
		t.Errorf("run = %+v, want no sample and 8 (2 × 4) discarded", r)
	}
	if len(c.requests) != 9 {
		t.Errorf("%d requests, want the priming one and 8", len(c.requests))
	}
}

func TestMeasureStops(t *testing.T) {
	c := &fakeCache{}
	o := Options{Samples: 2, States: []State{Cold, Warm}, Variants: []probe.Variant{probe.Anonymous, probe.LoggedIn}}
	purgeErr := errors.New("http-purge: node refused")
	o.Buster = PurgeBuster{Purge: func(context.Context, string) error { return purgeErr }}
	if err := Measure(context.Background(), c, []string{"http://site.test/a"}, o, func(Run) error { return nil }); !errors.Is(err, purgeErr) {
		t.Errorf("a failed purge: err = %v, want it returned", err)
	}
	o.Buster = NewQueryBuster("b")
	emitErr := errors.New("stdout closed")
	if err := Measure(context.Background(), c, []string{"http://site.test/a"}, o, func(Run) error { return emitErr }); !errors.Is(err, emitErr) {
		t.Errorf("a failed emit: err = %v, want it returned", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Measure(ctx, c, []string{"http://site.test/a"}, o, func(Run) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestVariantsAndStatesInOrder(t *testing.T) {
	c := &fakeCache{}
	runs := measureAll(t, c, []string{"http://site.test/a", "http://site.test/b"}, Options{
		Samples: 1, States: []State{Cold, Warm}, Variants: []probe.Variant{probe.Anonymous, probe.LoggedIn}, Buster: NewQueryBuster("b"),
	})
	var got []string
	for _, r := range runs {
		got = append(got, r.Key().String())
	}
	want := []string{
		"http://site.test/a (anonymous, cold)", "http://site.test/a (anonymous, warm)",
		"http://site.test/a (logged_in, cold)", "http://site.test/a (logged_in, warm)",
		"http://site.test/b (anonymous, cold)", "http://site.test/b (anonymous, warm)",
		"http://site.test/b (logged_in, cold)", "http://site.test/b (logged_in, warm)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("runs in order %v, want %v", got, want)
	}
}
