package purge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
)

// asyncProvider purges at once but completes each purge only when told,
// the way a CloudFront invalidation runs for minutes after it is accepted.
type asyncProvider struct {
	mu      sync.Mutex
	runs    []string
	waits   map[string]int
	done    map[string]chan struct{}
	failIDs map[string]error
}

func newAsyncProvider() *asyncProvider {
	return &asyncProvider{waits: map[string]int{}, done: map[string]chan struct{}{}, failIDs: map[string]error{}}
}

func (p *asyncProvider) Name() string                     { return "async" }
func (p *asyncProvider) Capabilities() []purge.Capability { return []purge.Capability{purge.CapURL} }
func (p *asyncProvider) BatchLimit(purge.Kind) int        { return 2 }

func (p *asyncProvider) Purge(_ context.Context, b purge.Batch) (purge.BatchResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs = append(p.runs, b.Run)
	id := fmt.Sprintf("I%d", b.Seq)
	p.done[id] = make(chan struct{})
	res := purge.BatchResult{Calls: 1, Attempts: 1}
	for _, t := range b.Targets {
		res.Results = append(res.Results, purge.TargetResult{Target: t, PurgeID: id})
	}
	return res, nil
}

func (p *asyncProvider) complete(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.done[id])
}

func (p *asyncProvider) WaitCompleted(ctx context.Context, id string) error {
	p.mu.Lock()
	p.waits[id]++
	done, err := p.done[id], p.failIDs[id]
	p.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *asyncProvider) PlanNote(batches iter.Seq[purge.Batch]) string {
	n := 0
	for range batches {
		n++
	}
	return fmt.Sprintf("async: %d operations\n", n)
}

// statusVerifier answers MISS for every URL and counts probes per URL.
type statusVerifier struct {
	mu     sync.Mutex
	probes map[string]time.Time
}

func (v *statusVerifier) Verify(_ context.Context, u string, _ map[string]string) (purge.VerifyResult, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.probes == nil {
		v.probes = map[string]time.Time{}
	}
	if _, ok := v.probes[u]; !ok {
		v.probes[u] = time.Now()
	}
	return purge.VerifyResult{StatusCode: 200, Cache: cachestatus.Result{Status: cachestatus.MISS, Source: "X-Cache"}}, nil
}

func TestVerifyWaitsForEachPurgeToComplete(t *testing.T) {
	p := newAsyncProvider()
	v := &statusVerifier{}
	out := &collector{}
	batches, err := purge.Plan(p, pageTargets(4), false)
	if err != nil {
		t.Fatal(err)
	}
	run := purge.NewRunInfo("production", "async", "")
	completedAt := map[string]time.Time{}
	go func() {
		time.Sleep(50 * time.Millisecond)
		completedAt["I1"] = time.Now()
		p.complete("I1")
		time.Sleep(50 * time.Millisecond)
		completedAt["I2"] = time.Now()
		p.complete("I2")
	}()
	sum, err := (&purge.Runner{Provider: p, Verifier: v, OnResult: out.add}).Run(t.Context(), run, batches)
	if err != nil || sum.Err() != nil {
		t.Fatalf("Run: %v, %v", err, sum.Err())
	}
	for _, r := range out.recs {
		if r.Verify == nil || !r.Verify.Passed {
			t.Errorf("%s: verify = %+v, want passed", r.Target, r.Verify)
		}
		probed := v.probes[r.Target]
		if done := completedAt[r.PurgeID]; probed.Before(done) {
			t.Errorf("%s was probed %v before its purge %s completed", r.Target, done.Sub(probed), r.PurgeID)
		}
	}
	for id, n := range p.waits {
		if n != 1 {
			t.Errorf("the provider was asked %d times to wait for %s, want once for all its URLs", n, id)
		}
	}
	for i, got := range p.runs {
		if got != run.ID {
			t.Errorf("batch %d carried run %q, want %q", i+1, got, run.ID)
		}
	}
}

func TestVerifyReportsAPurgeThatNeverCompleted(t *testing.T) {
	p := newAsyncProvider()
	p.failIDs["I1"] = errors.New("invalidation I1 still InProgress after 15m0s")
	out := &collector{}
	batches, err := purge.Plan(p, pageTargets(2), false)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&purge.Runner{Provider: p, Verifier: &statusVerifier{}, OnResult: out.add}).Run(t.Context(), purge.NewRunInfo("production", "async", ""), batches)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum.VerifyFailed, 2; got != want {
		t.Errorf("VerifyFailed = %d, want %d", got, want)
	}
	for _, r := range out.recs {
		if r.Verify == nil || r.Verify.Passed || !strings.Contains(r.Verify.Error, "not verified: invalidation I1 still InProgress") {
			t.Errorf("%s: verify = %+v, want the wait's failure", r.Target, r.Verify)
		}
	}
}

func TestDryRunPrintsTheProvidersPlanNote(t *testing.T) {
	p := newAsyncProvider()
	var buf bytes.Buffer
	batches, err := purge.Plan(p, pageTargets(3), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&purge.Runner{Provider: purge.DryRun(p, &buf)}).Run(t.Context(), purge.NewRunInfo("production", "async", ""), batches); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "async: 2 operations\n") || strings.Index(out, "batch 2") > strings.Index(out, "async: 2 operations") {
		t.Errorf("dry run output does not end with the plan's note after the batches:\n%s", out)
	}
	if len(p.runs) != 0 {
		t.Errorf("the dry run sent %d batches", len(p.runs))
	}
}
