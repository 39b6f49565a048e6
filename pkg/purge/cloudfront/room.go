package cloudfront

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cachectl/cachectl/pkg/pool"
)

// CloudFront's limits on work in progress, per distribution.
const (
	// MaxPathsInProgress is plain paths in invalidations in progress.
	MaxPathsInProgress = 3000
	// MaxWildcardsInProgress is wildcard paths in invalidations in progress.
	MaxWildcardsInProgress = 15
)

// Invalidation statuses.
const (
	statusInProgress = "InProgress"
	statusCompleted  = "Completed"
)

// load is what invalidations hold against the limits on work in progress.
type load struct{ plain, wild int }

func (l load) add(o load) load { return load{l.plain + o.plain, l.wild + o.wild} }

func (l load) fits() bool { return l.plain <= MaxPathsInProgress && l.wild <= MaxWildcardsInProgress }

// loadOf counts paths the way CloudFront's limits do.
func loadOf(paths []string) load {
	var l load
	for _, p := range paths {
		if strings.HasSuffix(p, "*") {
			l.wild++
		} else {
			l.plain++
		}
	}
	return l
}

// room keeps track of the invalidations in progress on the distribution —
// this run's, and others' once CloudFront says it is full — so a batch is
// sent only when it fits under the limits, and knows which invalidations
// have completed.
type room struct {
	p *Provider

	mu        sync.Mutex
	busy      map[string]load // invalidations in progress, by id
	completed map[string]bool
}

func newRoom(p *Provider) *room {
	return &room{p: p, busy: map[string]load{}, completed: map[string]bool{}}
}

// started records an invalidation CloudFront accepted.
func (r *room) started(id, status string, l load) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if status == statusCompleted {
		r.completed[id] = true
		return
	}
	r.busy[id] = l
}

// inProgress sums the load of the invalidations in progress.
func (r *room) inProgress() load {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sum load
	for _, l := range r.busy {
		sum = sum.add(l)
	}
	return sum
}

// status asks CloudFront for an invalidation's status unless it is known
// to have completed, and records the answer. calls counts the requests.
func (r *room) status(ctx context.Context, id string, calls *int) (string, error) {
	r.mu.Lock()
	done := r.completed[id]
	r.mu.Unlock()
	if done {
		return statusCompleted, nil
	}
	actx, att := request(ctx)
	out, err := r.p.client.GetInvalidation(actx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(r.p.s.DistributionID), Id: aws.String(id)})
	*calls += att.Count()
	if err != nil {
		return "", r.p.failure(ctx, err, "invalidation "+id)
	}
	status := aws.ToString(out.Invalidation.Status)
	r.mu.Lock()
	defer r.mu.Unlock()
	if status == statusCompleted {
		r.completed[id] = true
		delete(r.busy, id)
	} else if _, ok := r.busy[id]; !ok {
		var paths []string
		if b := out.Invalidation.InvalidationBatch; b != nil && b.Paths != nil {
			paths = b.Paths.Items
		}
		r.busy[id] = loadOf(paths)
	}
	return status, nil
}

// refresh asks for the status of every invalidation in progress.
func (r *room) refresh(ctx context.Context, calls *int) error {
	r.mu.Lock()
	ids := make([]string, 0, len(r.busy))
	for id := range r.busy {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		if _, err := r.status(ctx, id, calls); err != nil {
			return err
		}
	}
	return nil
}

// discover learns about the invalidations in progress that others made:
// the newest page of the distribution's list, and the paths of each.
func (r *room) discover(ctx context.Context, calls *int) error {
	actx, att := request(ctx)
	out, err := r.p.client.ListInvalidations(actx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(r.p.s.DistributionID), MaxItems: aws.Int32(100)})
	*calls += att.Count()
	if err != nil {
		return r.p.failure(ctx, err, "list invalidations")
	}
	if out.InvalidationList == nil {
		return nil
	}
	for _, inv := range out.InvalidationList.Items {
		if aws.ToString(inv.Status) == statusCompleted {
			continue
		}
		if _, err := r.status(ctx, aws.ToString(inv.Id), calls); err != nil {
			return err
		}
	}
	return nil
}

// waitFor blocks until need fits beside the invalidations in progress,
// polling them with backoff (pollDelay), until deadline. full says CloudFront has
// just refused for lack of room: then it also learns what others have in
// progress, and waits at least once.
func (r *room) waitFor(ctx context.Context, need load, deadline time.Time, full bool, calls *int) error {
	if full {
		if err := r.discover(ctx, calls); err != nil {
			return err
		}
	}
	if !need.fits() {
		return fmt.Errorf("an invalidation of %d paths and %d wildcard paths exceeds what CloudFront allows in progress (%d and %d)", need.plain, need.wild, MaxPathsInProgress, MaxWildcardsInProgress)
	}
	start, asked := time.Now(), full
	for {
		busy := r.inProgress()
		if !full && busy.add(need).fits() {
			return nil
		}
		if !asked {
			// What is known may be stale: ask before waiting.
			asked = true
			if err := r.refresh(ctx, calls); err != nil {
				return err
			}
			continue
		}
		delay := r.p.pollDelay(time.Since(start))
		if !time.Now().Add(delay).Before(deadline) {
			return fmt.Errorf("distribution %s still has %d paths and %d wildcard paths in progress after %s (wait_timeout); CloudFront allows %d and %d: %w",
				r.p.s.DistributionID, busy.plain, busy.wild, r.p.wait, MaxPathsInProgress, MaxWildcardsInProgress, errStillBusy)
		}
		r.p.say("cloudfront: waiting for room on distribution %s: %d of %d paths and %d of %d wildcard paths in progress, the next invalidation needs %d and %d",
			r.p.s.DistributionID, busy.plain, MaxPathsInProgress, busy.wild, MaxWildcardsInProgress, need.plain, need.wild)
		if !pool.Sleep(ctx, delay) {
			return ctx.Err()
		}
		full = false
		if err := r.refresh(ctx, calls); err != nil {
			return err
		}
	}
}
