package inspect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
)

func jobsOf(urls []string, variants ...probe.Variant) func(func(Job) bool) {
	return func(yield func(Job) bool) {
		for _, u := range urls {
			if !yield(Job{URL: u, Variants: variants}) {
				return
			}
		}
	}
}

// TestOrderedAndBounded: slow and fast routes mixed; output keeps input
// order while no more than Concurrency requests are in flight.
func TestOrderedAndBounded(t *testing.T) {
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		var i int
		fmt.Sscanf(r.URL.Path, "/r/%d", &i)
		time.Sleep(time.Duration(10-i%10) * 2 * time.Millisecond) // later routes answer sooner
		w.Header().Set("X-Cache", "MISS")
	}))
	defer srv.Close()
	var urls []string
	for i := range 40 {
		urls = append(urls, fmt.Sprintf("%s/r/%d", srv.URL, i))
	}
	var got []string
	err := Run(context.Background(), probe.New(probe.Options{}), jobsOf(urls, probe.Anonymous), Options{Concurrency: 4}, func(g Group) error {
		if g.Index != len(got) {
			t.Errorf("group index %d arrived at position %d", g.Index, len(got))
		}
		got = append(got, g.URL)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, urls) {
		t.Errorf("output order differs from input order")
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("peak in flight = %d, want at most 4", p)
	}
}

// TestPairAndRepeat: anonymous probes come first, repeats are numbered, and
// the pair analysis flags a logged-in page served from cache.
func TestPairAndRepeat(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		if n.Add(1) == 1 {
			w.Header().Set("X-Cache", "MISS")
		} else {
			w.Header().Set("X-Cache", "HIT")
			w.Header().Set("Age", "2")
		}
		if c, err := r.Cookie("sid"); err == nil {
			fmt.Fprintf(w, "hello %d", len(c.Value))
		}
	}))
	defer srv.Close()
	var groups []Group
	sess := &probe.Session{Cookie: "sid", Value: "abc"}
	err := Run(context.Background(), probe.New(probe.Options{}), jobsOf([]string{srv.URL + "/p"}, probe.Anonymous, probe.LoggedIn),
		Options{Repeat: 2, Session: sess}, func(g Group) error { groups = append(groups, g); return nil })
	if err != nil {
		t.Fatal(err)
	}
	ps := groups[0].Probes
	if len(ps) != 4 {
		t.Fatalf("got %d probes, want 4", len(ps))
	}
	want := []struct {
		v   probe.Variant
		seq int
		st  cachestatus.Status
	}{{probe.Anonymous, 1, cachestatus.MISS}, {probe.Anonymous, 2, cachestatus.HIT}, {probe.LoggedIn, 1, cachestatus.HIT}, {probe.LoggedIn, 2, cachestatus.HIT}}
	for i, w := range want {
		if ps[i].Variant != w.v || ps[i].Seq != w.seq || ps[i].Cache.Status != w.st {
			t.Errorf("probe %d = %s#%d %s, want %s#%d %s", i, ps[i].Variant, ps[i].Seq, ps[i].Cache.Status, w.v, w.seq, w.st)
		}
	}
	found := false
	for _, f := range ps[3].Findings {
		if f.ID == "logged-in-cached" {
			found = true
		}
	}
	if !found {
		t.Errorf("last logged-in probe lacks logged-in-cached: %+v", ps[3].Findings)
	}
}

// TestNoFindings: a caller that judges no findings gets none computed,
// not even the pair's.
func TestNoFindings(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Set-Cookie", "a=b")
	}))
	defer srv.Close()
	sess := &probe.Session{Cookie: "sid", Value: "abc"}
	job := Job{URL: srv.URL, Variants: []probe.Variant{probe.Anonymous, probe.LoggedIn}}
	with := One(context.Background(), probe.New(probe.Options{}), 0, job, Options{Session: sess})
	without := One(context.Background(), probe.New(probe.Options{}), 0, job, Options{Session: sess, NoFindings: true})
	if len(with.Probes[1].Findings) == 0 {
		t.Fatal("a cached logged-in response with Set-Cookie got no findings")
	}
	for _, p := range without.Probes {
		if p.Findings == nil || len(p.Findings) != 0 {
			t.Errorf("NoFindings: %s has findings %v, want an empty list", p.Variant, p.Findings)
		}
	}
}

func TestUntil(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" && n.Add(1) >= 3 {
			w.Header().Set("X-Cache", "HIT")
			return
		}
		w.Header().Set("X-Cache", "MISS")
	}))
	defer srv.Close()
	var groups []Group
	err := Run(context.Background(), probe.New(probe.Options{}), jobsOf([]string{srv.URL + "/warm", srv.URL + "/cold"}, probe.Anonymous),
		Options{Until: cachestatus.HIT, Wait: 1500 * time.Millisecond}, func(g Group) error { groups = append(groups, g); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if warm := groups[0]; len(warm.Unreached) != 0 || len(warm.Probes) != 3 {
		t.Errorf("warm: %d probes, unreached %v; want 3 and none", len(warm.Probes), warm.Unreached)
	}
	if cold := groups[1]; len(cold.Unreached) != 1 {
		t.Errorf("cold: unreached %v, want [anonymous]", cold.Unreached)
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	urls := make([]string, 100)
	for i := range urls {
		urls[i] = srv.URL
	}
	start := time.Now()
	err := Run(ctx, probe.New(probe.Options{Timeout: 10 * time.Second}), jobsOf(urls, probe.Anonymous), Options{}, func(Group) error { return nil })
	if err == nil {
		t.Error("want the context's error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after cancellation", d)
	}
}
