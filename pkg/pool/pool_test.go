package pool

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func count(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// TestOrderedKeepsOrderWithinBound: later jobs finish first, yet results
// arrive in input order and no more than concurrency jobs run at once.
func TestOrderedKeepsOrderWithinBound(t *testing.T) {
	var inFlight, peak atomic.Int64
	var got []int
	err := Ordered(context.Background(), count(30), 3, func(_ context.Context, i, job int) int {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		if i != job {
			t.Errorf("work got index %d for job %d", i, job)
		}
		time.Sleep(time.Duration(10-job%10) * time.Millisecond)
		return job * 10
	}, func(r int) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 30)
	for i := range want {
		want[i] = i * 10
	}
	if !slices.Equal(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("peak in flight = %d, want at most 3", p)
	}
}

func TestOrderedStopsOnEmitError(t *testing.T) {
	stop := errors.New("stop")
	var started atomic.Int64
	err := Ordered(context.Background(), count(1000), 2, func(_ context.Context, _, job int) int {
		started.Add(1)
		return job
	}, func(r int) error {
		if r == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want %v", err, stop)
	}
	if n := started.Load(); n >= 1000 {
		t.Errorf("%d jobs started, want the run to stop early", n)
	}
}

func TestOrderedStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	err := Ordered(ctx, count(100), 4, func(ctx context.Context, _, job int) int {
		if job == 2 {
			cancel()
		}
		Sleep(ctx, 5*time.Second)
		return job
	}, func(int) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want %v", err, context.Canceled)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after cancellation", d)
	}
}

// TestOrderedSlowJobDoesNotHoldBackStarts: while the first job waits, the
// jobs after it keep starting and finishing, up to aheadFactor×concurrency
// past it; their results then come out in order behind it.
func TestOrderedSlowJobDoesNotHoldBackStarts(t *testing.T) {
	const concurrency = 2
	ahead := aheadFactor * concurrency
	jobs := ahead + 4
	release := make(chan struct{})
	finished := make(chan int, jobs)
	done := make(chan error)
	var got []int
	go func() {
		done <- Ordered(context.Background(), count(jobs), concurrency, func(_ context.Context, _, job int) int {
			if job == 0 {
				<-release
			}
			finished <- job
			return job
		}, func(r int) error {
			got = append(got, r)
			return nil
		})
	}()
	for range ahead - 1 {
		if job := <-finished; job == 0 || job > ahead {
			t.Errorf("job %d finished while job 0 waits, want only jobs 1 to %d", job, ahead)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, slices.Collect(count(jobs))) {
		t.Errorf("results = %v, want every job in order", got)
	}
}

// TestOrderedFlushBeforeWaiting: each job runs only once a flush lets it,
// so the run finishes only if flush is called whenever the consumer is
// about to wait; what was emitted is flushed in order, and what the last
// emits buffered is left to the caller.
func TestOrderedFlushBeforeWaiting(t *testing.T) {
	const jobs = 20
	gates := make([]chan struct{}, jobs)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	opened := 0
	var pending, flushed []int
	err := OrderedFlush(context.Background(), count(jobs), 4, func(_ context.Context, _, job int) int {
		<-gates[job]
		return job
	}, func(r int) error {
		pending = append(pending, r)
		return nil
	}, func() error {
		flushed, pending = append(flushed, pending...), nil
		if opened < jobs {
			close(gates[opened])
			opened++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := append(flushed, pending...); !slices.Equal(got, slices.Collect(count(jobs))) {
		t.Errorf("flushed %v then left %v, want every job in order", flushed, pending)
	}
}

// TestOrderedFlushErrorStops: the jobs never finish on their own, so the
// consumer waits, flushes first, and the flush's error ends the run.
func TestOrderedFlushErrorStops(t *testing.T) {
	stop := errors.New("stop")
	err := OrderedFlush(context.Background(), count(10), 2, func(ctx context.Context, _, job int) int {
		<-ctx.Done()
		return job
	}, func(int) error { return nil }, func() error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want %v", err, stop)
	}
}

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep on a live context = false, want true")
	}
	if !Sleep(context.Background(), 0) {
		t.Error("Sleep(0) on a live context = false, want true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Minute) {
		t.Error("Sleep on a cancelled context = true, want false")
	}
	if Sleep(ctx, 0) {
		t.Error("Sleep(0) on a cancelled context = true, want false")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Sleep on a cancelled context took %s", d)
	}
}
