// Package pool runs work for a sequence of jobs on a bounded number of
// goroutines and hands the results back in input order, so output streams
// as soon as it is ready without growing with the input.
package pool

import (
	"context"
	"iter"
	"time"
)

// Ordered runs work for every job with at most concurrency jobs in flight
// and calls emit with the results in input order, as soon as each result and
// all before it are ready. It stops early when ctx is cancelled or emit
// returns an error.
func Ordered[J, R any](ctx context.Context, jobs iter.Seq[J], concurrency int, work func(context.Context, int, J) R, emit func(R) error) error {
	if concurrency <= 0 {
		concurrency = 8
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Each job gets a one-slot channel, queued in input order; the consumer
	// waits on them in that order, so output is ordered while at most
	// 2×concurrency results are held.
	order := make(chan chan R, concurrency)
	sem := make(chan struct{}, concurrency)
	go func() {
		defer close(order)
		i := 0
		for job := range jobs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			slot := make(chan R, 1)
			select {
			case order <- slot:
			case <-ctx.Done():
				return
			}
			go func(i int, job J) {
				defer func() { <-sem }()
				slot <- work(ctx, i, job)
			}(i, job)
			i++
		}
	}()
	for slot := range order {
		var r R
		select {
		case r = <-slot:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return ctx.Err()
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
