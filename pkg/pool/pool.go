// Package pool runs work for a sequence of jobs on a bounded number of
// goroutines and hands the results back in input order, so output streams
// as soon as it is ready without growing with the input.
package pool

import (
	"context"
	"iter"
	"time"
)

// aheadFactor is how many times concurrency jobs may be started past the
// oldest one whose result has not been emitted yet.
const aheadFactor = 4

// Ordered runs work for every job with at most concurrency jobs in flight
// and calls emit with the results in input order, as soon as each result and
// all before it are ready. It stops early when ctx is cancelled or emit
// returns an error.
func Ordered[J, R any](ctx context.Context, jobs iter.Seq[J], concurrency int, work func(context.Context, int, J) R, emit func(R) error) error {
	return OrderedFlush(ctx, jobs, concurrency, work, emit, nil)
}

// OrderedFlush is Ordered that also calls flush (when not nil) whenever
// it is about to wait for the next result: an emit that buffers its output
// never holds any of it while the run waits, and writes what piled up at
// once. A flush error stops the run like an emit error. What the last
// emits buffered is the caller's to flush after it returns.
func OrderedFlush[J, R any](ctx context.Context, jobs iter.Seq[J], concurrency int, work func(context.Context, int, J) R, emit func(R) error, flush func() error) error {
	if concurrency <= 0 {
		concurrency = 8
	}
	if flush == nil {
		flush = func() error { return nil }
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Each job gets a one-slot channel, queued in input order; the consumer
	// waits on them in that order, so output is ordered while at most
	// aheadFactor×concurrency results are held. A slow job holds back
	// the output of the jobs after it, not their start, until that many
	// are queued behind it.
	order := make(chan chan R, aheadFactor*concurrency)
	go feed(ctx, jobs, concurrency, work, order)
	for {
		slot, ok, err := receive(ctx, order, flush)
		if err != nil {
			return err
		}
		if !ok {
			return ctx.Err()
		}
		r, _, err := receive(ctx, slot, flush)
		if err != nil {
			return err
		}
		if err := emit(r); err != nil {
			return err
		}
	}
}

// task is one job for a worker, with the slot its result goes to.
type task[J, R any] struct {
	i    int
	job  J
	slot chan R
}

// feed hands each job to a worker, at most concurrency at once, and queues
// each job's result slot on order in input order. Workers are started as
// jobs need them, up to concurrency, and serve job after job: a goroutine
// whose stack has grown to what work needs keeps it for the next job.
func feed[J, R any](ctx context.Context, jobs iter.Seq[J], concurrency int, work func(context.Context, int, J) R, order chan<- chan R) {
	defer close(order)
	tasks := make(chan task[J, R])
	defer close(tasks)
	workers, i := 0, 0
	for job := range jobs {
		t := task[J, R]{i: i, job: job, slot: make(chan R, 1)}
		i++
		select {
		case order <- t.slot:
		case <-ctx.Done():
			return
		}
		select {
		case tasks <- t:
			continue
		default:
		}
		if workers < concurrency {
			workers++
			go serve(ctx, work, t, tasks)
			continue
		}
		select {
		case tasks <- t:
		case <-ctx.Done():
			return
		}
	}
}

// serve runs work for first and then for every task on tasks until it is
// closed.
func serve[J, R any](ctx context.Context, work func(context.Context, int, J) R, first task[J, R], tasks <-chan task[J, R]) {
	for t, ok := first, true; ok; t, ok = <-tasks {
		t.slot <- work(ctx, t.i, t.job)
	}
}

// receive takes the next value from c, calling flush first when none is
// ready yet. ok is false when c is closed; err is the flush's error, or
// ctx's once it is done.
func receive[T any](ctx context.Context, c <-chan T, flush func() error) (v T, ok bool, err error) {
	select {
	case v, ok = <-c:
		return v, ok, nil
	default:
	}
	if err := flush(); err != nil {
		return v, false, err
	}
	select {
	case v, ok = <-c:
		return v, ok, nil
	case <-ctx.Done():
		return v, false, ctx.Err()
	}
}

// Sleep is the pause work takes between attempts: it waits for d and
// reports whether ctx is still live, returning false as soon as ctx is done,
// so a cancelled run does not sit out its waits.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
