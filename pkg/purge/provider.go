// Package purge removes cached objects through a CDN's API or from cache
// nodes directly: batching, throttling, retries, a journal and verification
// around providers that each speak one API.
package purge

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/cachectl/cachectl/pkg/secret"
)

// Kind is what a purge target names.
type Kind string

// Target kinds.
const (
	KindURL        Kind = "url"
	KindTag        Kind = "tag"
	KindPrefix     Kind = "prefix"
	KindHost       Kind = "host"
	KindEverything Kind = "everything"
)

// Capability is something a provider can purge.
type Capability string

// Capabilities a provider may declare.
const (
	CapURL        Capability = "url"         // purge by URL
	CapURLHeaders Capability = "url-headers" // purge by URL with cache-key headers (Cloudflare)
	CapTag        Capability = "tag"         // purge by tag / surrogate key
	CapPrefix     Capability = "prefix"      // purge by URL prefix
	CapHost       Capability = "host"        // purge by host name
	CapEverything Capability = "everything"  // purge the whole zone/service
	CapSoft       Capability = "soft"        // mark stale instead of evicting
	CapDelete     Capability = "delete"      // delete instead of invalidating (Akamai)
	// CapURLAllVariants: a URL purge removes every variant the cache
	// keeps of the URL (Fastly: Vary variants share the URL's entry), so a
	// URL with cache-key headers is purged by URL, without the headers.
	CapURLAllVariants Capability = "url-all-variants"
)

// Target is one thing to purge.
type Target struct {
	Kind Kind `json:"kind"`
	// Value is the normalized URL, tag, prefix or host; empty for KindEverything.
	Value string `json:"value"`
	// Headers are cache-key headers that select one variant of a URL: one
	// combination of an environment's cache_key.headers or --key-header.
	Headers map[string]string `json:"headers,omitempty"`
	// VariantOf is the URL this target was derived from (--variants: the
	// trailing-slash twin or the other scheme); empty for targets given.
	VariantOf string `json:"variant_of,omitempty"`
	// RelatedTo is the target given whose related rules pulled this one in
	// (--related); empty for targets given.
	RelatedTo string `json:"related_to,omitempty"`
	// Stale says why the edge's copy was found out of date (--stale): the
	// signal that decided, e.g. "etag differs".
	Stale string `json:"stale,omitempty"`
}

// Batch is one unit of work sent to a provider: targets of a single kind,
// never more than the provider's BatchLimit for that kind.
type Batch struct {
	// Seq numbers the batch within a run, from 1.
	Seq     int
	Kind    Kind
	Targets []Target
	// Soft asks for a soft purge (mark stale) where supported.
	Soft bool
	// Delete asks an API whose purges invalidate by default (Akamai) to
	// delete the objects instead: the next request goes to the origin
	// whatever it answers.
	Delete bool
	// Run is the id of the run the batch belongs to (RunInfo.ID), set by
	// the Runner. A resume keeps its run's id, so a provider can derive an
	// idempotency key from it and the batch's content: the same batch sent
	// again, by a retry or a resume, is then recognized by the API.
	Run string
}

// NewBatchResult returns a result with one entry per target, in order,
// none of them failed yet.
func NewBatchResult(targets []Target) BatchResult {
	res := BatchResult{Results: make([]TargetResult, len(targets))}
	for i, t := range targets {
		res.Results[i].Target = t
	}
	return res
}

// Fail marks every target of r failed with err and returns r and err: a
// provider refusing a whole batch returns res.Fail(err).
func (r BatchResult) Fail(err error) (BatchResult, error) {
	for i := range r.Results {
		r.Results[i].Err = err
	}
	return r, err
}

// TargetResult is a provider's verdict for one target of a batch.
type TargetResult struct {
	Target Target
	// PurgeID is the provider's id for the purge request, when it returns one.
	PurgeID string
	// Err is nil when the provider confirmed the purge.
	Err error
	// NotCached is set, with a nil Err, when the cache answered that it
	// held nothing under the target (a cache node's 404): the target is
	// reported not_cached instead of purged.
	NotCached bool
}

// BatchResult is the outcome of sending one batch.
type BatchResult struct {
	// Results has one entry per target of the batch, in batch order.
	Results []TargetResult
	// Calls is the number of API requests made (including retries and splits).
	Calls int
	// Attempts is the number of attempts of the last request (1 when no retry was needed).
	Attempts int
	// Estimate is how long after the answer the API expects the purge to
	// reach every cache (Akamai's estimatedSeconds); --verify waits that
	// long before its first probe. Zero when the API gives no estimate.
	Estimate time.Duration
	// Stale is true when the purge marked the objects stale rather than
	// evicting them (Akamai's invalidate): a cache may then serve them
	// revalidated with the origin, which --verify accepts as it does after
	// a soft purge.
	Stale bool
}

// Provider speaks one purge API. Implementations are safe for concurrent use.
//
// Purge sends one batch. It returns an error only for a failure of the whole
// batch (network failure after retries, authentication, a refused request);
// per-target failures go in BatchResult.Results. Errors wrap *APIError where
// the API answered. Purge must return promptly when ctx is cancelled.
type Provider interface {
	// Name is the provider's registry name, its Spec's Name.
	Name() string
	// Capabilities lists what the provider can purge.
	Capabilities() []Capability
	// BatchLimit is the largest number of targets of kind k one batch may
	// hold. A provider may lower it during a run, when the API refuses a
	// request as too large; the batches not yet sent are then cut again.
	BatchLimit(k Kind) int
	// Purge sends one batch.
	Purge(ctx context.Context, b Batch) (BatchResult, error)
}

// Config is the part of a provider's configuration every provider shares,
// resolved for one run; the provider's own keys are its settings (Spec).
type Config struct {
	// Provider is the provider's name (cdn.provider).
	Provider string
	// Environment is the environment name, for messages.
	Environment string
	// APIURL overrides the API base URL.
	APIURL string
	// Token is the API token; TokenEnv names where it came from, for messages.
	Token    secret.Value
	TokenEnv string
	// Rate is requests per second and Burst the bucket size; 0 keeps the
	// API's published limits.
	Rate  float64
	Burst int
}

// Deps are what a provider is given besides its config.
type Deps struct {
	// HTTP is the client every request goes through; it already retries (package retry).
	HTTP   *http.Client
	Logger *slog.Logger
	// LookupEnv reads the environment cachectl was started with, for a
	// provider whose credentials come from its SDK's default chain
	// (SecretAWS); nil reads nothing. Providers never read the process
	// environment themselves.
	LookupEnv func(name string) (string, bool)
	// Secrets registers the credentials a provider resolves itself, so
	// output, logs and the journal never show them; nil registers nothing.
	Secrets *secret.Scrubber
	// Progress receives a line about each long wait on the CDN (an
	// invalidation to complete, room under its limits on work in
	// progress), for the person watching stderr; nil drops them.
	Progress func(msg string)
	// Header holds the request headers a provider that addresses cache
	// entries with requests of its own (http-purge) sends with each: the
	// User-Agent, Accept and Accept-Encoding cachectl's probes send, so a
	// purge names the variant visitors and --verify get. A target's
	// cache-key headers replace them.
	Header map[string]string
}

// Refuser is implemented by providers that can purge a kind of target, or
// soft-purge it, only when configured for it (http-purge: tags with
// cdn.tags, prefixes with cdn.prefix). Refuse says why kind k (soft or
// not) cannot be purged, naming the key to set; nil when it can. Plan asks
// before anything is sent.
type Refuser interface {
	Refuse(k Kind, soft bool) error
}

// EntryKeyer is implemented by providers for which one purge request
// covers several targets: Fastly purges a host and path, whatever the
// scheme or cache-key headers of the URL. Targets with the same EntryKey
// are one purge: Plan keeps them in one batch, and the provider sends one
// request for them and reports every one of them.
type EntryKeyer interface {
	EntryKey(t Target) string
}

// RequestDescription is one HTTP request a provider would send, as the
// dry run prints it. Secrets in headers are shown as REDACTED.
type RequestDescription struct {
	Method string
	URL    string
	// Header holds the request headers that matter to the purge (Host,
	// Authorization as REDACTED, Surrogate-Key, Fastly-Soft-Purge, ...).
	Header map[string]string
	// Body is the request body; empty when there is none.
	Body string
}

// Completer is implemented by providers whose purges take effect some time
// after the API accepted them (a CloudFront invalidation runs for minutes).
// With --verify, the Runner waits for a URL's purge to complete before it
// probes the URL.
type Completer interface {
	// WaitCompleted blocks until the purge the API named id has completed,
	// ctx is done, or the provider's bound on waiting has passed; the
	// error says which.
	WaitCompleted(ctx context.Context, id string) error
}

// PlanNoter is implemented by providers with something to say about a
// whole plan besides its requests: how many API operations it takes, what
// it costs. A dry run prints the note after the batches.
type PlanNoter interface {
	// PlanNote describes batches as a whole, in a few lines; "" says
	// nothing. A plan can be large: batches are read once, in order.
	PlanNote(batches iter.Seq[Batch]) string
}

// Describer is implemented by providers that can say exactly which requests
// a batch would send, so a dry run shows real endpoints and bodies.
// Describe must not send anything.
type Describer interface {
	// Describe returns the requests b would send and, for each target the
	// provider would refuse without sending (a malformed URL or key), why:
	// refused[i] belongs to b.Targets[i] and is nil for a target that
	// would be sent. refused may be nil when every target would be sent.
	Describe(b Batch) (reqs []RequestDescription, refused []error)
}
