// Package providertest is the one conformance suite every purge provider
// runs, so "purged" means the same thing whichever CDN is behind it.
//
// A provider's test file builds a Harness and calls Run:
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, providertest.Harness{
//			Spec: mycdn.Spec,
//			New: func(t *testing.T, deps purge.Deps, f providertest.Faults) (purge.Provider, providertest.Backend) {
//				srv := myfake.NewServer(myfake.Options{Token: "t", Faults: f})
//				t.Cleanup(srv.Close)
//				p, err := mycdn.New(purge.Config{APIURL: srv.URL, Token: "t"}, mycdn.Settings{Account: "a"}, deps)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return p, srv // srv.Requests() reports what it received
//			},
//			Target:   func(k purge.Kind, i int) purge.Target { ... },
//			PurgeIDs: true,
//			Auth:     true,
//		})
//	}
//
// The fault cases purge a batch of one target, so one logical request
// meets the fault whether a provider sends a batch in one request or one
// request per target.
//
// New must point the provider at a fresh backend (an httptest server
// speaking the real API, or cache nodes) that misbehaves as the Faults say,
// and must pass deps through: the suite's client retries quickly so the
// suite stays fast, and counts attempts. The Backend reports every request
// it received as a cdnfake.Request, filling in at least Time, Kind, Items
// and Status; cdnfake has the fault injector, rate limit and recorder the
// Cloudflare and Fastly fakes use, ready for other backends. A backend that
// cannot express a fault (a cache node has no "success": false) calls
// t.Skip from New, naming the fault.
//
// Cases a provider lacks the capability for are skipped by name, the way
// rclone's suite skips optional features. A provider whose capabilities
// depend on its settings (Akamai purges everything only with cp_codes) is
// built by New with settings that allow all of its Spec's.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// Faults script a backend's misbehaviour; see cdnfake.Faults.
type Faults = cdnfake.Faults

// Request is one request a backend received; see cdnfake.Request.
type Request = cdnfake.Request

// Backend reports what a fake received.
type Backend interface {
	Requests() []Request
}

// Harness adapts one provider to the suite.
type Harness struct {
	// Spec is the provider's declaration, checked against the provider.
	Spec purge.Spec
	// New builds a provider using deps, pointed at a fresh backend that
	// misbehaves as f says. Close the backend with t.Cleanup.
	New func(t *testing.T, deps purge.Deps, f Faults) (purge.Provider, Backend)
	// Target returns the i-th distinct valid target of kind k for the
	// backend (URLs on its hosts, tags, prefixes...).
	Target func(k purge.Kind, i int) purge.Target
	// PurgeIDs is true when the API returns a purge id for every purge.
	PurgeIDs bool
	// Auth is true when the backend checks credentials, so 401 and 403
	// must surface as authentication errors (purge.IsAuthError).
	Auth bool
	// MaxBatch caps how many targets the batch-limit cases send, for
	// providers whose limit is large; 0 sends BatchLimit.
	MaxBatch int
	// NoSettings is true for a provider that has no keys of its own: the
	// shared keys are all it needs (Bunny).
	NoSettings bool
}

// Policy is the retry policy the suite's clients use: real retries with
// short waits, so Retry-After, not backoff, dominates timing.
func Policy() retry.Policy {
	return retry.Policy{MaxAttempts: 4, MinWait: 10 * time.Millisecond, MaxWait: 50 * time.Millisecond, MaxRetryAfter: 5 * time.Second, Deadline: 20 * time.Second}
}

// Deps returns provider dependencies with the suite's retry client.
func Deps() purge.Deps {
	return purge.Deps{HTTP: retry.NewClient(Policy(), nil)}
}

// Run runs every case against the harness.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Spec.Name == "" || h.New == nil || h.Target == nil {
		t.Fatal("providertest: Harness.Spec, Harness.New and Harness.Target are required")
	}
	s := &suite{h: h}
	t.Run("Spec", s.spec)
	t.Run("Capabilities", s.capabilities)
	t.Run("BatchLimits", s.batchLimits)
	t.Run("RetryAfterHonoured", s.retryAfter)
	t.Run("ServerErrorsRetried", s.serverErrors)
	t.Run("RateLimitOutlastsRetries", s.rateLimitExhausted)
	t.Run("ClientErrorsNotRetried", s.clientErrors)
	t.Run("RefusalIsFailure", s.refusal)
	t.Run("PartialFailure", s.partial)
	t.Run("Cancellation", s.cancellation)
}

type suite struct{ h Harness }

// success reports a 2xx answer: 200 for most purge APIs, 201 where a
// purge creates something (a CloudFront invalidation).
func success(status int) bool { return status >= 200 && status < 300 }

func has(p purge.Provider, c purge.Capability) bool {
	for _, have := range p.Capabilities() {
		if have == c {
			return true
		}
	}
	return false
}

func (s *suite) provider(t *testing.T, f Faults) (purge.Provider, Backend) {
	t.Helper()
	return s.h.New(t, Deps(), f)
}

func (s *suite) batch(kind purge.Kind, n int) purge.Batch {
	b := purge.Batch{Seq: 1, Kind: kind}
	if kind == purge.KindEverything {
		n = 1
	}
	for i := range n {
		b.Targets = append(b.Targets, s.h.Target(kind, i))
	}
	return b
}

// primaryKind is the kind the fault cases purge: URLs where supported.
func primaryKind(t *testing.T, p purge.Provider) purge.Kind {
	for _, c := range []struct {
		c purge.Capability
		k purge.Kind
	}{{purge.CapURL, purge.KindURL}, {purge.CapTag, purge.KindTag}, {purge.CapPrefix, purge.KindPrefix}, {purge.CapHost, purge.KindHost}} {
		if has(p, c.c) {
			return c.k
		}
	}
	t.Skip("provider supports no target kind that holds several targets")
	return ""
}

// softKind is the kind the soft case purges: the primary kind, or for a
// provider that soft-purges only some kinds (purge.Refuser), the first
// of them.
func softKind(t *testing.T, p purge.Provider) purge.Kind {
	r, ok := p.(purge.Refuser)
	if !ok {
		return primaryKind(t, p)
	}
	for _, k := range []purge.Kind{purge.KindURL, purge.KindTag, purge.KindPrefix, purge.KindHost} {
		if p.BatchLimit(k) > 0 && r.Refuse(k, true) == nil {
			return k
		}
	}
	t.Skip("provider soft-purges no kind that holds several targets")
	return ""
}

func checkAllPurged(t *testing.T, h Harness, b purge.Batch, res purge.BatchResult, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if got, want := len(res.Results), len(b.Targets); got != want {
		t.Fatalf("len(Results) = %d, want %d (one per target)", got, want)
	}
	for i, r := range res.Results {
		if got, want := r.Target.Value, b.Targets[i].Value; got != want {
			t.Errorf("Results[%d].Target = %q, want %q (batch order)", i, got, want)
		}
		if r.Err != nil {
			t.Errorf("Results[%d] (%s): %v", i, r.Target.Value, r.Err)
		}
		if h.PurgeIDs && r.PurgeID == "" {
			t.Errorf("Results[%d] (%s): no purge id", i, r.Target.Value)
		}
	}
	if res.Calls < 1 || res.Attempts < 1 {
		t.Errorf("Calls, Attempts = %d, %d, want at least 1 each", res.Calls, res.Attempts)
	}
}

// spec checks the provider's declaration: it names the provider, lists
// its capabilities, and its validation asks for every required key.
func (s *suite) spec(t *testing.T) {
	p, _ := s.provider(t, Faults{})
	spec := s.h.Spec
	if got, want := p.Name(), spec.Name; got != want {
		t.Errorf("provider Name() = %q, Spec.Name = %q", got, want)
	}
	// A provider configured for less than it can do (http-purge without
	// cdn.tags) declares less; never more than its Spec.
	for _, c := range p.Capabilities() {
		if !slices.Contains(spec.Capabilities, c) {
			t.Errorf("provider Capabilities() = %v has %q, which Spec.Capabilities = %v lacks", p.Capabilities(), c, spec.Capabilities)
		}
	}
	if got := len(spec.Keys()) == 0; got != s.h.NoSettings {
		t.Errorf("Spec.Keys() = %v, Harness.NoSettings = %v: a provider has settings of its own unless the harness says it has none", spec.Keys(), s.h.NoSettings)
	}
	problems := spec.Validate(purge.Common{Provider: spec.Name}, spec.NewSettings())
	for _, key := range spec.Required() {
		if !slices.ContainsFunc(problems, func(p purge.Problem) bool { return p.Key == key }) {
			t.Errorf("Spec.Validate of empty settings does not ask for required key %q (problems: %v)", key, problems)
		}
	}
	if spec.Secret.Kind == purge.SecretAPIToken && !slices.ContainsFunc(problems, func(p purge.Problem) bool { return p.Key == "api_token_env" }) {
		t.Errorf("Spec.Validate without a token does not ask for api_token_env (problems: %v)", problems)
	}
	if _, err := spec.Limits(purge.Config{}, spec.NewSettings()); err != nil {
		t.Errorf("Spec.Limits of the default settings: %v", err)
	}
}

// capabilityCase is a batch that exercises one capability: kind (the
// provider's primary kind when empty), n targets, setup applied.
type capabilityCase struct {
	cap   purge.Capability
	kind  purge.Kind
	n     int
	setup func(b *purge.Batch)
}

func capabilityCases() []capabilityCase {
	return []capabilityCase{
		{purge.CapURL, purge.KindURL, 3, nil},
		{purge.CapURLHeaders, purge.KindURL, 2, func(b *purge.Batch) {
			for i := range b.Targets {
				b.Targets[i].Headers = map[string]string{"CF-Device-Type": "mobile", "Accept-Language": "en"}
			}
		}},
		// Two variants of one URL: both purged, as one purge where the
		// provider is an EntryKeyer (checked in capabilities).
		{purge.CapURLAllVariants, purge.KindURL, 2, func(b *purge.Batch) {
			b.Targets[1] = b.Targets[0]
			b.Targets[0].Headers = map[string]string{"Accept-Language": "en"}
			b.Targets[1].Headers = map[string]string{"Accept-Language": "de"}
		}},
		{purge.CapTag, purge.KindTag, 3, nil},
		{purge.CapHost, purge.KindHost, 1, nil},
		{purge.CapPrefix, purge.KindPrefix, 2, nil},
		{purge.CapEverything, purge.KindEverything, 1, nil},
		{purge.CapSoft, "", 2, func(b *purge.Batch) { b.Soft = true }},
		{purge.CapDelete, "", 2, func(b *purge.Batch) { b.Delete = true }},
	}
}

func (s *suite) capabilities(t *testing.T) {
	for _, c := range capabilityCases() {
		t.Run(string(c.cap), func(t *testing.T) {
			p, be := s.provider(t, Faults{})
			if !has(p, c.cap) {
				t.Skipf("provider %s lacks capability %q", p.Name(), c.cap)
			}
			kind := c.kind
			if kind == "" {
				kind = softKind(t, p)
			}
			b := s.batch(kind, c.n)
			if c.setup != nil {
				c.setup(&b)
			}
			res, err := p.Purge(context.Background(), b)
			checkAllPurged(t, s.h, b, res, err)
			reqs := be.Requests()
			if len(reqs) == 0 {
				t.Fatal("backend received no request")
			}
			for _, r := range reqs {
				if !success(r.Status) {
					t.Errorf("request %d answered %d, want 2xx", r.Seq, r.Status)
				}
				if c.cap == purge.CapSoft && !r.Soft {
					t.Errorf("request %d was not a soft purge", r.Seq)
				}
				if c.cap == purge.CapDelete && !r.Delete {
					t.Errorf("request %d was not a deletion", r.Seq)
				}
			}
			if _, ok := p.(purge.EntryKeyer); ok && c.cap == purge.CapURLAllVariants && len(reqs) != 1 {
				t.Errorf("backend received %d requests for two variants of one URL, want 1", len(reqs))
			}
		})
	}
}

func (s *suite) batchLimits(t *testing.T) {
	for _, k := range []purge.Kind{purge.KindURL, purge.KindTag, purge.KindHost, purge.KindPrefix} {
		t.Run(string(k), func(t *testing.T) {
			p, be := s.provider(t, Faults{})
			limit := p.BatchLimit(k)
			if limit == 0 {
				t.Skipf("provider %s does not purge by %s", p.Name(), k)
			}
			n := limit
			if s.h.MaxBatch > 0 && n > s.h.MaxBatch {
				n = s.h.MaxBatch
			}
			b := s.batch(k, n)
			res, err := p.Purge(context.Background(), b)
			checkAllPurged(t, s.h, b, res, err)
			items := 0
			for _, r := range be.Requests() {
				if r.Items > limit {
					t.Errorf("request %d held %d targets, want at most the batch limit %d", r.Seq, r.Items, limit)
				}
				if success(r.Status) {
					items += r.Items
				}
			}
			if items < n {
				t.Errorf("backend purged %d targets, want %d", items, n)
			}
		})
	}
}

func (s *suite) retryAfter(t *testing.T) {
	p, be := s.provider(t, Faults{FailFirst: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	b := s.batch(primaryKind(t, p), 1)
	res, err := p.Purge(context.Background(), b)
	checkAllPurged(t, s.h, b, res, err)
	reqs := be.Requests()
	if len(reqs) < 2 {
		t.Fatalf("backend received %d requests, want a retry after the 429", len(reqs))
	}
	if got := reqs[1].Time.Sub(reqs[0].Time); got < 900*time.Millisecond {
		t.Errorf("retry came %v after the 429, want at least the 1s Retry-After", got)
	}
	if got, want := res.Attempts, 2; got != want {
		t.Errorf("Attempts = %d, want %d", got, want)
	}
}

func (s *suite) serverErrors(t *testing.T) {
	for _, status := range []int{500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			p, be := s.provider(t, Faults{FailFirst: 2, Status: status})
			b := s.batch(primaryKind(t, p), 1)
			res, err := p.Purge(context.Background(), b)
			checkAllPurged(t, s.h, b, res, err)
			if got, want := len(be.Requests()), 3; got != want {
				t.Errorf("backend received %d requests, want %d", got, want)
			}
			if got, want := res.Attempts, 3; got != want {
				t.Errorf("Attempts = %d, want %d", got, want)
			}
		})
	}
}

func (s *suite) rateLimitExhausted(t *testing.T) {
	p, be := s.provider(t, Faults{FailFirst: 1000, Status: http.StatusTooManyRequests})
	b := s.batch(primaryKind(t, p), 1)
	res, err := p.Purge(context.Background(), b)
	if err == nil {
		t.Fatal("Purge succeeded against a backend that always answers 429")
	}
	var ae *purge.APIError
	if !errors.As(err, &ae) || !ae.Retryable || ae.Status != http.StatusTooManyRequests {
		t.Errorf("error = %v, want a retryable *purge.APIError with status 429", err)
	}
	if got, want := len(be.Requests()), Policy().MaxAttempts; got != want {
		t.Errorf("backend received %d requests, want %d (the retry policy's attempts)", got, want)
	}
	for i, r := range res.Results {
		if r.Err == nil {
			t.Errorf("Results[%d] has no error", i)
		}
	}
}

func (s *suite) clientErrors(t *testing.T) {
	statuses := []int{http.StatusBadRequest}
	if s.h.Auth {
		statuses = append(statuses, http.StatusUnauthorized, http.StatusForbidden)
	}
	for _, status := range statuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			p, be := s.provider(t, Faults{FailFirst: 1, Status: status})
			b := s.batch(primaryKind(t, p), 1)
			res, err := p.Purge(context.Background(), b)
			if got, want := len(be.Requests()), 1; got != want {
				t.Errorf("backend received %d requests, want %d (no retry on %d)", got, want, status)
			}
			if err == nil {
				t.Fatalf("Purge succeeded although the backend answered %d", status)
			}
			var ae *purge.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want it to wrap *purge.APIError", err)
			}
			if got, want := ae.Status, status; got != want {
				t.Errorf("APIError.Status = %d, want %d", got, want)
			}
			if ae.Retryable {
				t.Errorf("APIError.Retryable = true for %d", status)
			}
			wantAuth := status == http.StatusUnauthorized || status == http.StatusForbidden
			if got := purge.IsAuthError(err); got != wantAuth {
				t.Errorf("IsAuthError = %v, want %v", got, wantAuth)
			}
			for i, r := range res.Results {
				if r.Err == nil {
					t.Errorf("Results[%d] has no error", i)
				}
			}
		})
	}
}

func (s *suite) refusal(t *testing.T) {
	p, be := s.provider(t, Faults{FailFirst: 1, Refuse: true})
	b := s.batch(primaryKind(t, p), 1)
	res, err := p.Purge(context.Background(), b)
	if got, want := len(be.Requests()), 1; got != want {
		t.Errorf("backend received %d requests, want %d", got, want)
	}
	for i, r := range res.Results {
		if r.Err == nil {
			t.Errorf("Results[%d] reported purged although the API refused", i)
		}
	}
	if err == nil {
		t.Error("Purge returned no error although every target was refused")
	}
}

func (s *suite) partial(t *testing.T) {
	kind := purge.KindURL
	bad := s.h.Target(kind, 1)
	p, _ := s.provider(t, Faults{Reject: []string{bad.Value}})
	if !has(p, purge.CapURL) {
		t.Skipf("provider %s lacks capability %q", p.Name(), purge.CapURL)
	}
	b := s.batch(kind, 3)
	res, err := p.Purge(context.Background(), b)
	if err != nil {
		t.Fatalf("Purge: %v, want per-target results", err)
	}
	if got, want := len(res.Results), 3; got != want {
		t.Fatalf("len(Results) = %d, want %d", got, want)
	}
	for i, r := range res.Results {
		if got, want := r.Err != nil, i == 1; got != want {
			t.Errorf("Results[%d] (%s) failed = %v, want %v (err: %v)", i, r.Target.Value, got, want, r.Err)
		}
	}
}

func (s *suite) cancellation(t *testing.T) {
	p, _ := s.provider(t, Faults{Hang: true})
	b := s.batch(primaryKind(t, p), 2)
	ctx, cancel := context.WithCancel(context.Background())
	const after = 100 * time.Millisecond
	time.AfterFunc(after, cancel)
	start := time.Now()
	_, err := p.Purge(ctx, b)
	if got := time.Since(start) - after; got > 250*time.Millisecond {
		t.Errorf("Purge returned %v after cancellation, want promptly", got)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled", err)
	}
}
