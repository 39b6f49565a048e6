package purge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
)

// TestRunNotCached: a URL the node did not hold is reported not_cached,
// counted apart, verified like a purged one, and not resent by --resume.
func TestRunNotCached(t *testing.T) {
	n := newCacheNode(t)
	n.answer404 = true
	targets := pageTargets(2)
	n.warm(t, targets[0].Value)
	p := newHTTPPurge(t, 0, n)
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	var out collector
	j := openJournal(t)
	r := &purge.Runner{Provider: p, Journal: j, OnResult: out.add, Verifier: &nodeGetter{node: n.srv.URL},
		Verify: purge.VerifyOptions{Settle: time.Second, Interval: 10 * time.Millisecond}}
	run := purge.NewRunInfo("production", p.Name(), "")
	sum, err := r.Run(t.Context(), run, batches)
	if err != nil || sum.Err() != nil {
		t.Fatalf("Run() = %+v, %v, %v", sum, err, sum.Err())
	}
	if sum.Purged != 1 || sum.NotCached != 1 || sum.Failed != 0 {
		t.Errorf("summary = %+v, want 1 purged, 1 not cached", sum)
	}
	recs := out.byTarget()
	for u, want := range map[string]purge.State{targets[0].Value: purge.Purged, targets[1].Value: purge.NotCached} {
		rec := recs[u]
		if rec.State != want || rec.Verify == nil || !rec.Verify.Passed {
			t.Errorf("%s: record %+v, want %s and verified", u, rec, want)
		}
	}
	pending, _, _, err := purge.Pending(j.Path(), run.ID)
	if err != nil || len(pending) != 0 {
		t.Errorf("Pending() = %v, %v; want nothing left to resume", pending, err)
	}
}

// TestVerifyFlagsRedirectsAndUnproven: a purged redirect is flagged with
// its target; an answer without a cache status is unproven, not cached,
// and says how to turn a status header on.
func TestVerifyFlagsRedirectsAndUnproven(t *testing.T) {
	n := newCacheNode(t)
	n.redirect = "https://www.example.com/new-home"
	targets := pageTargets(1)
	r, batches, out := redirectingRun(t, n, targets)
	if _, err := r.Run(t.Context(), purge.NewRunInfo("production", "http-purge", ""), batches); err != nil {
		t.Fatal(err)
	}
	v := out.byTarget()[targets[0].Value].Verify
	want := "purged the cached redirect; its target https://www.example.com/new-home was not purged"
	if v == nil || !v.Passed || v.StatusCode != 301 || v.Location != "https://www.example.com/new-home" || v.Note != want {
		t.Fatalf("verify = %+v, want passed with the note %q", v, want)
	}

	n.noStatus = true
	*out = collector{}
	sum, err := r.Run(t.Context(), purge.NewRunInfo("production", "http-purge", ""), batches)
	if err != nil {
		t.Fatal(err)
	}
	v = out.byTarget()[targets[0].Value].Verify
	if v == nil || v.Passed || !v.Unproven || !strings.Contains(v.Error, "eviction cannot be proven") || !strings.Contains(v.Error, "--cache-header") {
		t.Errorf("verify = %+v, want unproven with how to name a status header", v)
	}
	if sum.VerifyFailed != 1 || sum.VerifyUnproven != 1 {
		t.Errorf("summary = %+v, want 1 verify failure, unproven", sum)
	}
	if err := sum.Err(); err == nil || !strings.Contains(err.Error(), "cannot be proven evicted") || strings.Contains(err.Error(), "still served") {
		t.Errorf("Summary.Err() = %v, want cannot be proven, not still served", err)
	}
}

// TestRedirectTargetsFollowed: with Runner.Redirects, the target of a
// purged redirect is purged after the run's batches, once, related to the
// URL that redirected; its own redirect is only noted.
func TestRedirectTargetsFollowed(t *testing.T) {
	n := newCacheNode(t)
	n.redirect = "https://www.example.com/p/9"
	targets := pageTargets(2)
	r, batches, out := redirectingRun(t, n, targets)
	r.Redirects = func(loc string) string { return loc }
	sum, err := r.Run(t.Context(), purge.NewRunInfo("production", "http-purge", ""), batches)
	if err != nil || sum.Err() != nil {
		t.Fatalf("Run() = %+v, %v, %v", sum, err, sum.Err())
	}
	recs := out.byTarget()
	followed := recs["https://www.example.com/p/9"]
	// Both pages redirect to /p/9; it follows whichever was verified first.
	first, second := targets[0].Value, targets[1].Value
	if followed.RelatedTo == second {
		first, second = second, first
	}
	if sum.Purged != 3 || followed.State != purge.Purged || followed.RelatedTo != first || followed.Batch != 2 {
		t.Fatalf("summary %+v, followed target %+v; want 3 purged, /p/9 in batch 2 related to a redirect", sum, followed)
	}
	if got := n.purgeCount("https://www.example.com/p/9"); got != 1 {
		t.Errorf("/p/9 purged %d times, want once", got)
	}
	if v := recs[first].Verify; v == nil || !strings.Contains(v.Note, "is purged after it (--related)") {
		t.Errorf("first redirect's note = %+v, want it to say its target follows", v)
	}
	if v := recs[second].Verify; v == nil || !strings.Contains(v.Note, "is purged in this run too") {
		t.Errorf("second redirect's note = %+v, want it to say its target is purged anyway", v)
	}
}

// redirectingRun is a verified purge of targets on node n, whose records
// out collects.
func redirectingRun(t *testing.T, n *cacheNode, targets []purge.Target) (*purge.Runner, []purge.Batch, *collector) {
	t.Helper()
	p := newHTTPPurge(t, 0, n)
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	out := &collector{}
	r := &purge.Runner{Provider: p, OnResult: out.add, Verifier: &nodeGetter{node: n.srv.URL},
		Verify: purge.VerifyOptions{Settle: 50 * time.Millisecond, Interval: 10 * time.Millisecond}}
	return r, batches, out
}
