package purge_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/golden"
	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
	"golang.org/x/time/rate"
)

func TestPlanSplitsByBatchLimit(t *testing.T) {
	p := newHTTPPurge(t, 30, newCacheNode(t))
	batches, err := purge.Plan(p, pageTargets(95), false)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	seen := map[string]bool{}
	for i, b := range batches {
		if b.Seq != i+1 || b.Kind != purge.KindURL {
			t.Errorf("batch %d: Seq %d kind %s, want Seq %d kind url", i, b.Seq, b.Kind, i+1)
		}
		sizes = append(sizes, len(b.Targets))
		for _, tg := range b.Targets {
			seen[tg.Value] = true
		}
	}
	if got, want := sizes, []int{30, 30, 30, 5}; !equalInts(got, want) {
		t.Fatalf("batch sizes = %v, want %v", got, want)
	}
	if len(seen) != 95 {
		t.Fatalf("batches hold %d distinct targets, want 95", len(seen))
	}
}

// urlOnly purges plain URLs only: neither with cache-key headers nor by a
// URL purge that covers every variant.
type urlOnly struct{ purge.Provider }

func (urlOnly) Name() string                     { return "url-only" }
func (urlOnly) Capabilities() []purge.Capability { return []purge.Capability{purge.CapURL} }

func TestPlanRefusesMissingCapability(t *testing.T) {
	p := newHTTPPurge(t, 0, newCacheNode(t))
	tests := []struct {
		name     string
		targets  []purge.Target
		soft     bool
		want     string
		provider purge.Provider
	}{
		{name: "tag", targets: []purge.Target{{Kind: purge.KindTag, Value: "blog"}}, want: `purge: http-purge cannot purge by tag until environments.production.cdn.tags is set: xkey (Varnish with the xkey module of varnish-modules) or the request header your cache reads tags from; nothing was sent`},
		{name: "everything", targets: []purge.Target{{Kind: purge.KindEverything}}, want: `purge: provider "http-purge" cannot purge everything (supports: url, url-headers)`},
		{name: "prefix after urls", targets: append(pageTargets(2), purge.Target{Kind: purge.KindPrefix, Value: "www.example.com/blog/"}), want: `purge: http-purge cannot purge by prefix until environments.production.cdn.prefix is set to ban (a Varnish BAN, with the VCL in configs/varnish-xkey.vcl); nothing was sent`},
		{name: "url headers", targets: []purge.Target{{Kind: purge.KindURL, Value: "https://www.example.com/", Headers: map[string]string{"CF-Device-Type": "mobile"}}}, provider: urlOnly{p},
			want: `purge: provider "url-only" cannot purge by URL with cache-key headers (--key-header, cache_key.headers) (supports: url)`},
		{name: "soft", targets: pageTargets(1), soft: true, want: `purge: http-purge soft-purges only tags, with environments.production.cdn.tags: xkey; purge urls without --soft; nothing was sent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var provider purge.Provider = p
			if tt.provider != nil {
				provider = tt.provider
			}
			_, err := purge.Plan(provider, tt.targets, tt.soft)
			var ie *purge.InputError
			if err == nil || err.Error() != tt.want || !errors.As(err, &ie) {
				t.Fatalf("Plan() error = %v, want InputError %q", err, tt.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// collector gathers the records a run reports.
type collector struct {
	mu   sync.Mutex
	recs []purge.Record
}

func (c *collector) add(r purge.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
}

func (c *collector) byTarget() map[string]purge.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]purge.Record{}
	for _, r := range c.recs {
		out[r.Target] = r
	}
	return out
}

func openJournal(t *testing.T) *purge.Journal {
	t.Helper()
	j, err := purge.OpenJournal(filepath.Join(t.TempDir(), "state", "cachectl", "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func TestRunPurgesEveryNodeAndJournalsBeforeReporting(t *testing.T) {
	a, b := newCacheNode(t), newCacheNode(t)
	p := newHTTPPurge(t, 30, a, b)
	targets := pageTargets(95)
	for _, tg := range targets {
		a.warm(t, tg.Value)
		b.warm(t, tg.Value)
	}
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	var out collector
	var progress []int
	r := &purge.Runner{
		Provider: p,
		Journal:  j,
		Owner: func(u string) string {
			if strings.HasSuffix(u, "/p/1") {
				return "web-team"
			}
			return ""
		},
		OnResult: func(rec purge.Record) {
			// The batch must already be on disk when its records are reported.
			l, err := purge.ReadJournal(j.Path())
			if err != nil {
				t.Error(err)
				return
			}
			found := false
			for _, e := range l.Entries {
				found = found || (e.Type == purge.EntryBatch && e.Batch.Seq == rec.Batch)
			}
			if !found {
				t.Errorf("record for %s reported before batch %d was journaled", rec.Target, rec.Batch)
			}
			out.add(rec)
		},
		Progress: func(done, total int) { progress = append(progress, done) },
	}
	run := purge.NewRunInfo("production", p.Name(), "article fix")
	sum, err := r.Run(t.Context(), run, batches)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum, (purge.Summary{RunID: run.ID, Environment: "production", Provider: "http-purge", Purged: 95, APICalls: 190, ElapsedMS: sum.ElapsedMS}); !reflect.DeepEqual(got, want) {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
	if err := sum.Err(); err != nil {
		t.Fatalf("Summary.Err() = %v, want nil", err)
	}
	recs := out.byTarget()
	if len(recs) != 95 || len(progress) != 95 || progress[94] != 95 {
		t.Fatalf("got %d records and progress %v, want 95 of each ending at 95", len(recs), progress)
	}
	for _, tg := range targets {
		rec := recs[tg.Value]
		if rec.State != purge.Purged || rec.Attempts != 1 || rec.Error != "" {
			t.Errorf("record %+v, want purged in 1 attempt", rec)
		}
		if a.purgeCount(tg.Value) != 1 || b.purgeCount(tg.Value) != 1 {
			t.Errorf("%s purged %d and %d times on the two nodes, want once each", tg.Value, a.purgeCount(tg.Value), b.purgeCount(tg.Value))
		}
	}
	if got := recs["https://www.example.com/p/1"].Owner; got != "web-team" {
		t.Errorf("owner of /p/1 = %q, want web-team", got)
	}
	if got, want := recs["https://www.example.com/p/95"].Batch, 4; got != want {
		t.Errorf("batch of /p/95 = %d, want %d", got, want)
	}
	runs := mustRead(t, j.Path()).Runs(0)
	if len(runs) != 1 || runs[0].Status != "complete" || runs[0].Purged != 95 || runs[0].Reason != "article fix" {
		t.Fatalf("Runs() = %+v, want one complete run with 95 purged", runs)
	}
}

func mustRead(t *testing.T, path string) *purge.Log {
	t.Helper()
	l, err := purge.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRunReportsRefusingNode(t *testing.T) {
	good, bad := newCacheNode(t), newCacheNode(t)
	bad.refuse["/p/2"] = true
	p := newHTTPPurge(t, 0, good, bad)
	batches, err := purge.Plan(p, pageTargets(3), false)
	if err != nil {
		t.Fatal(err)
	}
	var out collector
	r := &purge.Runner{Provider: p, Journal: openJournal(t), OnResult: out.add}
	sum, err := r.Run(t.Context(), purge.NewRunInfo("production", p.Name(), ""), batches)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Purged != 2 || sum.Failed != 1 {
		t.Fatalf("summary = %+v, want 2 purged 1 failed", sum)
	}
	if !errors.Is(sum.Err(), purge.ErrNotPurged) || !strings.Contains(sum.Err().Error(), "run "+sum.RunID) {
		t.Fatalf("Summary.Err() = %v, want ErrNotPurged naming the run", sum.Err())
	}
	rec := out.byTarget()["https://www.example.com/p/2"]
	badHost := strings.TrimPrefix(bad.srv.URL, "http://")
	if rec.State != purge.Failed || !strings.Contains(rec.Error, "node "+badHost+" refused PURGE") || !strings.Contains(rec.Error, "HTTP 405") {
		t.Fatalf("record = %+v, want failed naming node %s and HTTP 405", rec, badHost)
	}
	pending, _, _, err := purge.Pending(r.Journal.Path(), sum.RunID)
	if err != nil || len(pending) != 1 || pending[0].Value != "https://www.example.com/p/2" {
		t.Fatalf("Pending() = %v, %v; want only /p/2", pending, err)
	}
}

func TestInterruptThenResumePurgesEachTargetOnce(t *testing.T) {
	node := newCacheNode(t)
	p := newHTTPPurge(t, 30, node)
	targets := pageTargets(95)
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var first collector
	r := &purge.Runner{Provider: p, Journal: j, OnResult: func(rec purge.Record) {
		first.add(rec)
		if rec.Batch == 2 && rec.State == purge.Purged {
			cancel() // Ctrl-C while batch 2 is being reported
		}
	}}
	run := purge.NewRunInfo("production", p.Name(), "")
	sum, err := r.Run(ctx, run, batches)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() error = %v, want context.Canceled", err)
	}
	if sum.Purged != 60 || sum.Skipped != 35 {
		t.Fatalf("interrupted summary = %+v, want 60 purged, 35 skipped", sum)
	}
	runs := mustRead(t, j.Path()).Runs(0)
	if len(runs) != 1 || runs[0].Status != "interrupted" || runs[0].Pending != 35 {
		t.Fatalf("Runs() = %+v, want one interrupted run with 35 pending", runs)
	}

	pending, info, warnings, err := purge.Pending(j.Path(), run.ID)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Pending() error %v, warnings %v", err, warnings)
	}
	if len(pending) != 35 || pending[0].Value != "https://www.example.com/p/61" {
		t.Fatalf("Pending() = %d targets starting %v, want 35 from /p/61", len(pending), pending[0])
	}
	if !info.Resume || info.ID != run.ID || info.Environment != "production" {
		t.Fatalf("Pending() run info = %+v, want a resume of %s", info, run.ID)
	}
	rb, err := purge.Plan(p, pending, info.Soft)
	if err != nil {
		t.Fatal(err)
	}
	sum2, err := (&purge.Runner{Provider: p, Journal: j}).Run(t.Context(), info, rb)
	if err != nil || sum2.Purged != 35 || sum2.RunID != run.ID {
		t.Fatalf("resume: %+v, %v; want 35 purged under %s", sum2, err, run.ID)
	}
	for _, tg := range targets {
		if got := node.purgeCount(tg.Value); got != 1 {
			t.Errorf("%s purged %d times across run and resume, want 1", tg.Value, got)
		}
	}
	again, _, _, err := purge.Pending(j.Path(), run.ID)
	if err != nil || len(again) != 0 {
		t.Fatalf("Pending() after resume = %d targets, %v; want none", len(again), err)
	}
	runs = mustRead(t, j.Path()).Runs(0)
	if len(runs) != 1 || runs[0].Status != "complete" || runs[0].Resumes != 1 || runs[0].Purged != 95 {
		t.Fatalf("Runs() after resume = %+v, want one complete run, 1 resume, 95 purged", runs)
	}
}

func TestInterruptDuringRequestLeavesTargetPending(t *testing.T) {
	node := newCacheNode(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	node.onPurge = func(string) { cancel() }
	p := newHTTPPurge(t, 0, node)
	batches, err := purge.Plan(p, pageTargets(1), false)
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t)
	run := purge.NewRunInfo("production", p.Name(), "")
	if _, err := (&purge.Runner{Provider: p, Journal: j}).Run(ctx, run, batches); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() error = %v, want context.Canceled", err)
	}
	pending, _, _, err := purge.Pending(j.Path(), run.ID)
	if err != nil || len(pending) != 1 {
		t.Fatalf("Pending() = %v, %v; want the unconfirmed target", pending, err)
	}
}

func TestRunThrottlesRequests(t *testing.T) {
	node := newCacheNode(t)
	p := newHTTPPurge(t, 1, node)
	batches, err := purge.Plan(p, pageTargets(5), false)
	if err != nil {
		t.Fatal(err)
	}
	// 20 requests a second with a bucket of 1: four waits of 50ms.
	r := &purge.Runner{Provider: p, Limits: &purge.Limits{Requests: rate.NewLimiter(20, 1)}}
	start := time.Now()
	if _, err := r.Run(t.Context(), purge.NewRunInfo("production", p.Name(), ""), batches); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Since(start), 190*time.Millisecond; got < want {
		t.Fatalf("5 batches at 20/s burst 1 took %v, want at least %v", got, want)
	}

	// A cancelled wait returns at once and sends nothing more.
	slow := &purge.Runner{Provider: p, Limits: &purge.Limits{Requests: rate.NewLimiter(rate.Every(time.Hour), 1)}}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	before := node.totalPurges()
	sum, err := slow.Run(ctx, purge.NewRunInfo("production", p.Name(), ""), batches)
	if !errors.Is(err, context.DeadlineExceeded) || sum.Purged != 1 || sum.Skipped != 4 || node.totalPurges()-before != 1 {
		t.Fatalf("Run() under a slow limit = %+v, %v; want 1 purged, 4 skipped, DeadlineExceeded", sum, err)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(n *cacheNode)
		opts       purge.VerifyOptions
		wantStatus cachestatus.Status
		wantPassed bool
		wantError  string
		wantWarm   bool
		// wantErr is what Summary.Err wraps when the check fails.
		wantErr error
	}{
		{name: "evicted", wantStatus: cachestatus.MISS, wantPassed: true},
		{name: "evicted and warmed", opts: purge.VerifyOptions{Warm: true}, wantStatus: cachestatus.MISS, wantPassed: true, wantWarm: true},
		{name: "node ignores purge", setup: func(n *cacheNode) { n.keep = true }, wantStatus: cachestatus.HIT, wantError: "still served from cache (HIT from X-Cache)", wantErr: purge.ErrStillCached},
		{name: "no cache header", setup: func(n *cacheNode) { n.noStatus = true }, wantStatus: cachestatus.UNKNOWN, wantError: "eviction cannot be proven", wantErr: purge.ErrUnproven},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := newCacheNode(t)
			if tt.setup != nil {
				tt.setup(node)
			}
			p := newHTTPPurge(t, 0, node)
			targets := pageTargets(3)
			for _, tg := range targets {
				node.warm(t, tg.Value)
			}
			batches, err := purge.Plan(p, targets, false)
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Settle, opts.Interval, opts.WarmTimeout = 300*time.Millisecond, 20*time.Millisecond, 2*time.Second
			var out collector
			r := &purge.Runner{Provider: p, Verifier: &nodeGetter{node: node.srv.URL}, Verify: opts, OnResult: out.add}
			sum, err := r.Run(t.Context(), purge.NewRunInfo("production", p.Name(), ""), batches)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range out.byTarget() {
				v := rec.Verify
				if v == nil {
					t.Fatalf("record %+v has no verify result", rec)
				}
				if v.Cache.Status != tt.wantStatus || v.Passed != tt.wantPassed || !strings.Contains(v.Error, tt.wantError) {
					t.Errorf("verify = %+v, want status %s passed %v error containing %q", v, tt.wantStatus, tt.wantPassed, tt.wantError)
				}
				if (v.WarmMS != nil) != tt.wantWarm {
					t.Errorf("warm_ms = %v, want set %v", v.WarmMS, tt.wantWarm)
				}
			}
			wantFailed := 0
			if !tt.wantPassed {
				wantFailed = 3
			}
			if sum.Purged != 3 || sum.VerifyFailed != wantFailed {
				t.Fatalf("summary = %+v, want 3 purged, %d verify failures", sum, wantFailed)
			}
			if wantFailed > 0 && !errors.Is(sum.Err(), tt.wantErr) {
				t.Fatalf("Summary.Err() = %v, want %v", sum.Err(), tt.wantErr)
			}
		})
	}
}

func TestDryRunGolden(t *testing.T) {
	node := newCacheNode(t)
	p := newHTTPPurge(t, 2, node)
	targets := purge.Expand([]purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/blog/post-1"},
		{Kind: purge.KindURL, Value: "https://www.example.com/search?q=cache"},
	}, true)
	var buf bytes.Buffer
	dry := purge.DryRun(p, &buf)
	batches, err := purge.Plan(dry, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	var out collector
	run := purge.NewRunInfo("production", p.Name(), "")
	run.DryRun = true
	j := openJournal(t)
	sum, err := (&purge.Runner{Provider: dry, Journal: j, OnResult: out.add}).Run(t.Context(), run, batches)
	if err != nil {
		t.Fatal(err)
	}
	if node.totalPurges() != 0 || sum.Planned != len(targets) || sum.APICalls != 0 {
		t.Fatalf("dry run sent %d purges, summary %+v; want none sent, %d planned", node.totalPurges(), sum, len(targets))
	}
	for _, rec := range out.byTarget() {
		if rec.State != purge.Planned {
			t.Errorf("record %+v, want planned", rec)
		}
	}
	got := strings.ReplaceAll(buf.String(), strings.TrimPrefix(node.srv.URL, "http://"), "NODE")
	golden.Check(t, "dryrun", []byte(got))

	// Without a Describer the dry run lists the targets.
	buf.Reset()
	plain := purge.DryRun(struct{ purge.Provider }{p}, &buf)
	if _, err := (&purge.Runner{Provider: plain}).Run(t.Context(), run, batches[:1]); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "dryrun-plain", buf.Bytes())

	if _, _, _, err := purge.Pending(j.Path(), run.ID); err == nil || !strings.Contains(err.Error(), "dry run") {
		t.Fatalf("Pending() of a dry run error = %v, want one saying it was a dry run", err)
	}
}

func TestRunRefusesDryRunWithoutWrapper(t *testing.T) {
	p := newHTTPPurge(t, 0, newCacheNode(t))
	run := purge.NewRunInfo("production", p.Name(), "")
	run.DryRun = true
	if _, err := (&purge.Runner{Provider: p}).Run(t.Context(), run, nil); err == nil {
		t.Fatal("Run() of a dry run with a live provider succeeded, want an error")
	}
}

// TestDryRunRecordsRefusedTargets: a target the provider would refuse stays
// planned (nothing is sent either way) and its record says why.
func TestDryRunRecordsRefusedTargets(t *testing.T) {
	node := newCacheNode(t)
	p := newHTTPPurge(t, 0, node)
	b := purge.Batch{Seq: 1, Kind: purge.KindURL, Targets: []purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/a"},
		{Kind: purge.KindURL, Value: "/no-host"},
	}}
	var buf bytes.Buffer
	var out collector
	run := purge.NewRunInfo("production", p.Name(), "")
	run.DryRun = true
	sum, err := (&purge.Runner{Provider: purge.DryRun(p, &buf), OnResult: out.add}).Run(t.Context(), run, []purge.Batch{b})
	if err != nil || sum.Err() != nil || sum.Planned != 2 {
		t.Fatalf("Run() = %+v, %v; want 2 planned and no error", sum, err)
	}
	recs := out.byTarget()
	if rec := recs["/no-host"]; rec.State != purge.Planned || !strings.Contains(rec.Error, "not an absolute URL") {
		t.Errorf("refused target's record = %+v, want planned with the reason", rec)
	}
	if rec := recs["https://www.example.com/a"]; rec.Error != "" {
		t.Errorf("valid target's record = %+v, want no error", rec)
	}
	if !strings.Contains(buf.String(), "would be refused: http-purge: \"/no-host\" is not an absolute URL") {
		t.Errorf("dry run output does not name the refusal:\n%s", buf.String())
	}
	if node.totalPurges() != 0 {
		t.Errorf("dry run sent %d purges", node.totalPurges())
	}
}

// TestEverythingWarningDoesNotRepeatTheRun: the warning comes through the
// run's logger, which already names the environment and provider.
func TestEverythingWarningDoesNotRepeatTheRun(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil)).With("env", "production", "provider", "http-purge")
	p := newHTTPPurge(t, 0, newCacheNode(t))
	run := purge.NewRunInfo("production", p.Name(), "")
	run.DryRun = true
	everything := purge.Batch{Seq: 1, Kind: purge.KindEverything, Targets: []purge.Target{{Kind: purge.KindEverything}}}
	if _, err := (&purge.Runner{Provider: purge.DryRun(struct{ purge.Provider }{p}, io.Discard), Logger: logger}).Run(t.Context(), run, []purge.Batch{everything}); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "purging everything") {
			continue
		}
		if strings.Count(line, `"env"`) != 1 || strings.Count(line, `"provider"`) != 1 || strings.Contains(line, `"environment"`) {
			t.Errorf("warning repeats the run's attributes: %s", line)
		}
		return
	}
	t.Errorf("no purging-everything warning in:\n%s", logs.String())
}
