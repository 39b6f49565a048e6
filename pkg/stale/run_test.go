package stale

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func seq(urls []string) func(func(string) bool) {
	return slices.Values(urls)
}

// TestRunKeepsOrderWithinBound: later URLs answer sooner, yet results come
// in input order with no more than Concurrency URLs in flight; edge and
// origin alike are asked.
func TestRunKeepsOrderWithinBound(t *testing.T) {
	var inFlight, peak atomic.Int64
	handler := func(origin bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var i int
			fmt.Sscanf(r.URL.Path, "/r/%d", &i)
			if !origin {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Duration(10-i%10) * 2 * time.Millisecond)
				w.Header().Set("X-Cache", "HIT")
			}
			body := fmt.Sprintf("page %d", i)
			if origin && i%3 == 0 {
				body += " edited"
			}
			fmt.Fprint(w, body)
		}
	}
	edge := httptest.NewServer(handler(false))
	defer edge.Close()
	origin := httptest.NewServer(handler(true))
	defer origin.Close()

	var urls []string
	for i := range 30 {
		urls = append(urls, fmt.Sprintf("%s/r/%d", edge.URL, i))
	}
	c, err := New(Options{Origin: origin.URL, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []Result
	if err := c.Run(t.Context(), seq(urls), func(r Result) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(urls) {
		t.Fatalf("%d results, want %d", len(got), len(urls))
	}
	for i, r := range got {
		if r.URL != urls[i] {
			t.Errorf("result %d is %s, want %s", i, r.URL, urls[i])
		}
		if want := i%3 == 0; r.Stale != want || r.Error != "" {
			t.Errorf("%s: stale = %v (%s %s), want %v", r.URL, r.Stale, r.Reason, r.Error, want)
		}
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("peak edge requests in flight = %d, want at most 4", p)
	}
}

func TestRunStopsOnEmitError(t *testing.T) {
	edge := newServer(t, page{header: hdr("X-Cache", "MISS")}, false)
	c, err := New(Options{Origin: edge.srv.URL, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	urls := slices.Repeat([]string{edge.srv.URL}, 500)
	stop := errors.New("stop")
	n := 0
	err = c.Run(t.Context(), seq(urls), func(Result) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want %v", err, stop)
	}
	if got := len(edge.requests()); got >= len(urls) {
		t.Errorf("%d edge requests, want the run to stop early", got)
	}
}

// TestLimiterPacesEveryRequest: with one request allowed, the origin request
// of the first URL waits for the limiter and fails when the run ends first.
func TestLimiterPacesEveryRequest(t *testing.T) {
	edge := newServer(t, page{header: hit(), body: "x"}, false)
	origin := newServer(t, page{body: "x"}, true)
	c, err := New(Options{Origin: origin.srv.URL, Limiter: rate.NewLimiter(rate.Every(time.Hour), 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	r := c.Check(ctx, edge.srv.URL)
	if !strings.HasPrefix(r.Error, "origin: waiting for the rate limit") || len(origin.requests()) != 0 {
		t.Errorf("result = %+v with %d origin requests, want the origin request held back", r, len(origin.requests()))
	}
}

// TestResultJSON pins the field names scripts rely on.
func TestResultJSON(t *testing.T) {
	edge := newServer(t, page{header: hit("ETag", `"v1"`, "Last-Modified", older), body: "old"}, false)
	origin := newServer(t, page{header: hdr("ETag", `"v2"`, "Last-Modified", newer), body: "new"}, true)
	c, err := New(Options{Origin: origin.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c.Check(t.Context(), edge.srv.URL+"/a"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	e, _ := got["edge"].(map[string]any)
	o, _ := got["origin"].(map[string]any)
	cache, _ := e["cache"].(map[string]any)
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"url", got["url"], edge.srv.URL + "/a"},
		{"stale", got["stale"], true},
		{"reason", got["reason"], "etag differs"},
		{"edge.status_code", e["status_code"], 200.0},
		{"edge.cache.status", cache["status"], "HIT"},
		{"edge.etag", e["etag"], `"v1"`},
		{"edge.last_modified", e["last_modified"], older},
		{"edge.age_s", e["age_s"], 30.0},
		{"origin.status_code", o["status_code"], 200.0},
		{"origin.etag", o["etag"], `"v2"`},
		{"origin.last_modified", o["last_modified"], newer},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v in %s", ck.name, ck.got, ck.want, b)
		}
	}
	for _, side := range []map[string]any{e, o} {
		if s, _ := side["body_sha256"].(string); len(s) != 64 {
			t.Errorf("body_sha256 = %q, want a hex sha256 in %s", s, b)
		}
	}
	if _, ok := got["error"]; ok {
		t.Errorf("error present in %s", b)
	}
}
