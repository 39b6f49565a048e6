package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/probe"
	"github.com/cachectl/cachectl/pkg/shard"
)

// site is a small caching origin on loopback: /articles/* are cacheable and
// report HIT from the second request on, /account is private, /broken
// changes its mind after two requests (an edge that needs a moment).
func site(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		n := seen[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/account":
			w.Header().Set("Cache-Control", "private, no-cache")
			w.Header().Set("X-Cache", "MISS")
		case r.URL.Path == "/broken":
			w.Header().Set("X-Cache", "MISS")
			if n > 2 {
				w.Header().Set("Cache-Control", "public, max-age=300")
			} else {
				w.Header().Set("Cache-Control", "public, max-age=5")
			}
		default:
			w.Header().Set("Cache-Control", "public, max-age=600")
			w.Header().Set("X-Cache", map[bool]string{true: "HIT", false: "MISS"}[n > 1])
		}
		fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testPlanner(t *testing.T, base string, n int) (*Planner, []string) {
	t.Helper()
	cfg := &config.Config{
		Environments: map[string]*config.Environment{"local": {Name: "local", BaseURL: base}},
		Routes: []config.Route{
			{Path: "/account", Owner: "identity", Rollback: "revert", Expect: config.Expectations{Anonymous: &config.Expectation{Private: ptr(true), Cache: []string{"MISS", "BYPASS"}}}},
			{Path: "/broken", Owner: "platform", Rollback: "purge /broken", Expect: config.Expectations{Anonymous: &config.Expectation{MinMaxAge: ptr(int64(60))}}},
		},
		Defaults: config.Defaults{Expect: config.Expectations{Anonymous: &config.Expectation{Status: ptr(200), Cache: []string{"HIT"}, MinMaxAge: ptr(int64(300))}}},
	}
	p, err := NewPlanner(cfg, cfg.Environments["local"])
	if err != nil {
		t.Fatal(err)
	}
	routes := []string{"/account", "/broken"}
	for i := range n {
		routes = append(routes, fmt.Sprintf("/articles/%d", i))
	}
	return p, routes
}

// runJSONL runs verify over routes (shard s) and returns its jsonl output
// and summary.
func runJSONL(t *testing.T, p *Planner, routes []string, s shard.Shard, opts Options) ([]byte, *Summary) {
	t.Helper()
	targets := func(yield func(Target) bool) {
		for r := range Select(slices.Values(routes), 0, 0, s) {
			tg, err := p.Target(r.Index, r.Route)
			if err != nil {
				t.Fatal(err)
			}
			if !yield(tg) {
				return
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	var sum Summary
	err := Run(t.Context(), probe.New(probe.Options{Timeout: 5 * time.Second}), targets, opts, func(res RouteResult) error {
		for _, r := range res.Records {
			sum.Add(r)
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	sum.Finish()
	return b.Bytes(), &sum
}

// normalized drops what legitimately differs between two runs: timings,
// the shard label and the test server's port.
func normalized(t *testing.T, recs []Record) []Record {
	t.Helper()
	out := slices.Clone(recs)
	for i := range out {
		out[i].Shard, out[i].Probe.TTFBMs, out[i].Probe.TotalMs = "", 0, 0
		out[i].URL = out[i].URL[strings.Index(out[i].URL[len("http://"):], "/")+len("http://"):]
	}
	return out
}

func readAll(t *testing.T, readers ...*Reader) []Record {
	t.Helper()
	var recs []Record
	if err := Merge(readers, func(r Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("Merge() error = %v", err)
	}
	return recs
}

func TestMergedShardsEqualSingleRun(t *testing.T) {
	// Each run gets a fresh site, so both see the cache cold.
	p, routes := testPlanner(t, site(t).URL, 60)
	single, singleSum := runJSONL(t, p, routes, shard.All, Options{Env: "local", Concurrency: 4, Warm: true})
	p, _ = testPlanner(t, site(t).URL, 60)
	var readers []*Reader
	total := 0
	for i := 1; i <= 4; i++ {
		s := shard.Shard{Index: i, Count: 4}
		out, sum := runJSONL(t, p, routes, s, Options{Env: "local", Concurrency: 4, Warm: true, Shard: s.String()})
		total += sum.Routes
		readers = append(readers, NewReader(fmt.Sprintf("shard-%d.jsonl", i), bytes.NewReader(out)))
	}
	if total != len(routes) {
		t.Fatalf("shards verified %d routes, want %d (each exactly once)", total, len(routes))
	}
	merged := readAll(t, readers...)
	want := readAll(t, NewReader("single.jsonl", bytes.NewReader(single)))
	if got, want := normalized(t, merged), normalized(t, want); !slices.EqualFunc(got, want, func(a, b Record) bool { return a == b }) {
		t.Fatalf("merged shards differ from the single run:\n got %d records\nwant %d records", len(got), len(want))
	}
	var mergedSum Summary
	for _, r := range merged {
		mergedSum.Add(r)
	}
	mergedSum.Finish()
	if mergedSum.Result() != singleSum.Result() || mergedSum.Checks != singleSum.Checks || mergedSum.Failed != singleSum.Failed ||
		mergedSum.Routes != singleSum.Routes || mergedSum.Probes != singleSum.Probes || mergedSum.HitRatio != singleSum.HitRatio {
		t.Errorf("merged summary %+v differs from single run %+v", mergedSum, *singleSum)
	}
	if singleSum.Result() != ChecksFailed || singleSum.Failed != 1 {
		t.Errorf("single run: result %v failed %d, want one failed check (/broken)", singleSum.Result(), singleSum.Failed)
	}
}

func TestRetryUntilPassRechecksFailures(t *testing.T) {
	p, routes := testPlanner(t, site(t).URL, 2)
	_, sum := runJSONL(t, p, routes, shard.All, Options{Env: "local", Warm: true, Retries: 3, Interval: time.Millisecond})
	if sum.Result() != AllPassed {
		t.Fatalf("with retries: failed %d, want all passed", sum.Failed)
	}
	p, _ = testPlanner(t, site(t).URL, 2)
	out, _ := runJSONL(t, p, []string{"/broken"}, shard.All, Options{Env: "local", Retries: 0})
	var rec Record
	if err := json.Unmarshal(bytes.TrimSpace(out), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Passed || rec.Attempts != 1 {
		t.Errorf("/broken without retries: passed=%v attempts=%d, want failed after 1", rec.Passed, rec.Attempts)
	}
}

func TestUnreachable(t *testing.T) {
	srv := site(t)
	base := srv.URL
	srv.Close()
	p, routes := testPlanner(t, base, 1)
	out, sum := runJSONL(t, p, routes[:1], shard.All, Options{Env: "local"})
	if sum.Result() != Unreachable || sum.Errors != 1 {
		t.Fatalf("result %v errors %d, want Unreachable with 1 error", sum.Result(), sum.Errors)
	}
	if !strings.Contains(string(out), `"check":"reachable","passed":false`) {
		t.Errorf("output lacks a failed reachable check: %s", out)
	}
}

func TestSelectSample(t *testing.T) {
	routes := make([]string, 1000)
	for i := range routes {
		routes[i] = fmt.Sprintf("/p/%d", i)
	}
	collect := func(n int, seed uint64, s shard.Shard) []Indexed {
		return slices.Collect(Select(slices.Values(routes), n, seed, s))
	}
	a, b := collect(50, 7, shard.All), collect(50, 7, shard.All)
	if len(a) != 50 || !slices.Equal(a, b) {
		t.Fatalf("sample of 50 with seed 7: %d routes, reproducible %v", len(a), slices.Equal(a, b))
	}
	if c := collect(50, 8, shard.All); slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same sample")
	}
	if !slices.IsSortedFunc(a, func(x, y Indexed) int { return x.Index - y.Index }) {
		t.Errorf("sample is not in input order")
	}
	var union []Indexed
	for i := 1; i <= 3; i++ {
		union = append(union, collect(50, 7, shard.Shard{Index: i, Count: 3})...)
	}
	slices.SortFunc(union, func(x, y Indexed) int { return x.Index - y.Index })
	if !slices.Equal(union, a) {
		t.Errorf("the shards of a sampled run do not split the same sample")
	}
	if got := collect(0, 0, shard.All); len(got) != len(routes) {
		t.Errorf("no sample: %d routes, want %d", len(got), len(routes))
	}
}

func TestReaderRejectsGarbage(t *testing.T) {
	r := NewReader("x.jsonl", strings.NewReader("{\"route\":\"/\",\"variant\":\"anonymous\",\"check\":\"status\"}\nnot json\n"))
	if _, err := r.Next(); err != nil {
		t.Fatalf("first line: %v", err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "x.jsonl:2") {
		t.Errorf("second line error = %v, want one naming x.jsonl:2", err)
	}
	r = NewReader("y.jsonl", strings.NewReader("\n\n"))
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("blank file: %v, want io.EOF", err)
	}
}
