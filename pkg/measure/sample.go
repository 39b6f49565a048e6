package measure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/probe"
)

// Prober sends one request for a URL as a visitor (*probe.Prober).
type Prober interface {
	Probe(ctx context.Context, rawURL string, variant probe.Variant, sess *probe.Session) probe.Result
}

// Buster makes the next request for a URL a real miss at the cache.
type Buster interface {
	// Cold prepares one cold sample of u and returns the URL to request.
	Cold(ctx context.Context, u string) (string, error)
}

// QueryBuster makes a URL cold by adding a query parameter whose value
// was never used before, so the cache looks up a key it has never
// stored. Each cold sample leaves one more copy in the cache, which
// expires as any other. Safe for concurrent use.
type QueryBuster struct {
	param  string
	prefix string
	n      atomic.Uint64
}

// NewQueryBuster busts with the query parameter param; values start with
// a random prefix, so two runs never share one.
func NewQueryBuster(param string) *QueryBuster {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return &QueryBuster{param: param, prefix: hex.EncodeToString(b)}
}

// Cold returns u with the parameter added.
func (b *QueryBuster) Cold(_ context.Context, u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	q := b.param + "=" + b.prefix + "-" + strconv.FormatUint(b.n.Add(1), 10)
	if pu.RawQuery != "" {
		q = pu.RawQuery + "&" + q
	}
	pu.RawQuery = q
	return pu.String(), nil
}

// PurgeBuster makes a URL cold by purging it before each cold sample,
// for caches whose key ignores the query string.
type PurgeBuster struct {
	// Purge removes u from the cache; an error stops the measurement.
	Purge func(ctx context.Context, u string) error
}

// Cold purges u and returns it unchanged.
func (b PurgeBuster) Cold(ctx context.Context, u string) (string, error) {
	return u, b.Purge(ctx, u)
}

// Options shape a measurement.
type Options struct {
	// Samples is how many samples each run keeps (20 by default).
	Samples int
	// States are measured in order for each URL and variant.
	States []State
	// Variants are measured in order for each URL; Session is sent with
	// the logged-in one.
	Variants []probe.Variant
	Session  *probe.Session
	// Buster makes cold samples.
	Buster Buster
	// MaxAttempts bounds a run's requests, the warm run's priming request
	// not counted (2 × Samples by default): a route that never reaches
	// the state ends short instead of running forever.
	MaxAttempts int
}

// ErrorStatus is the DiscardedBy key of failed requests.
const ErrorStatus = "ERROR"

// Measure takes the runs of every URL, variant and state in turn, one
// request at a time so samples do not compete, and hands each finished
// run to emit. Cold samples are kept only when the cache fetched the page
// from the origin (MISS or EXPIRED), warm ones only when it served its
// copy (HIT); every other response is discarded and counted. A warm run
// starts with one priming request, not counted. It stops at the first
// error from the Buster, from emit, or of ctx.
func Measure(ctx context.Context, p Prober, urls []string, o Options, emit func(Run) error) error {
	if o.Samples <= 0 {
		o.Samples = 20
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 2 * o.Samples
	}
	for _, u := range urls {
		for _, v := range o.Variants {
			for _, st := range o.States {
				run, err := take(ctx, p, o, Key{URL: u, Variant: v, State: st})
				if err != nil {
					return err
				}
				if err := emit(run); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// take collects one run's samples.
func take(ctx context.Context, p Prober, o Options, k Key) (Run, error) {
	run := Run{URL: k.URL, Variant: k.Variant, State: k.State, Samples: make([]Sample, 0, o.Samples)}
	if k.State == Warm {
		p.Probe(ctx, k.URL, k.Variant, o.Session)
	}
	for attempt := 0; len(run.Samples) < o.Samples && attempt < o.MaxAttempts; attempt++ {
		target := k.URL
		if k.State == Cold {
			var err error
			if target, err = o.Buster.Cold(ctx, k.URL); err != nil {
				return run, err
			}
		}
		r := p.Probe(ctx, target, k.Variant, o.Session)
		if err := ctx.Err(); err != nil {
			return run, err
		}
		run.add(&r)
	}
	run.Summarize()
	return run, nil
}

// add keeps a response as a sample when it is in the run's state, and
// counts it as discarded otherwise.
func (run *Run) add(r *probe.Result) {
	if r.Error != "" || !inState(run.State, r.Cache.Status) {
		why := string(r.Cache.Status)
		if r.Error != "" {
			why, run.Error = ErrorStatus, r.Error
		}
		if run.DiscardedBy == nil {
			run.DiscardedBy = map[string]int{}
		}
		run.Discarded++
		run.DiscardedBy[why]++
		return
	}
	st := r.ServerTiming
	if run.State == Warm {
		st = st.OnlyFromCDN()
	}
	run.Samples = append(run.Samples, Sample{
		TTFBMs: r.Timing.TTFB, TotalMs: r.Timing.Total, StatusCode: r.StatusCode,
		CacheStatus: r.Cache.Status, ServerTiming: st,
	})
}

// inState reports whether a response's cache status is a sample of state:
// a cold sample came from the origin, a warm one from the cache's copy.
func inState(st State, s cachestatus.Status) bool {
	if st == Cold {
		return s == cachestatus.MISS || s == cachestatus.EXPIRED
	}
	return s == cachestatus.HIT
}
