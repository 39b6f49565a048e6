// Package cloudfrontfake is an in-process Amazon CloudFront API for tests
// and benchmarks: the invalidation operations of API version 2020-05-31
// (CreateInvalidation, GetInvalidation, ListInvalidations) for one
// distribution, in CloudFront's REST-XML with its error shape and codes,
// every request's AWS Signature Version 4 checked against the one access
// key it knows. Invalidations stay InProgress for a configurable time and
// count against CloudFront's limits on work in progress (3,000 paths and
// 15 wildcard paths per distribution); a CallerReference sent again with
// the same paths returns the invalidation it created, with other paths
// InvalidationBatchAlreadyExists. Plus a CreateInvalidation rate limit
// answered the way CloudFront does (400 Throttling), scripted and random
// faults, and a record of every request.
//
// Statuses and codes are those of CloudFront's published model
// (testdata/cloudfront/cloudfront-invalidation-model.json) where it has
// them. The model lists neither Throttling nor
// InvalidationBatchAlreadyExists: Throttling is the 400 CloudFront answers
// in practice ("Rate exceeded"), and InvalidationBatchAlreadyExists is
// answered 409 like every *AlreadyExists error the model does list.
package cloudfrontfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cachectl/cachectl/internal/cdnfake"
)

// CloudFront's limits and the API version the fake speaks.
const (
	APIVersion = "2020-05-31"
	// Namespace is the XML namespace of every body.
	Namespace = "http://cloudfront.amazonaws.com/doc/" + APIVersion + "/"
	// MaxPaths is paths in one invalidation.
	MaxPaths = 3000
	// MaxPathsInProgress and MaxWildcardsInProgress bound the paths of
	// the invalidations in progress on one distribution.
	MaxPathsInProgress     = 3000
	MaxWildcardsInProgress = 15
	// MaxPathLength is the longest path CloudFront takes.
	MaxPathLength = 4000
	// Region is where CloudFront's API is signed for.
	Region = "us-east-1"
)

// Credentials are the access key the fake accepts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must come with every request
	// (X-Amz-Security-Token), as with temporary credentials.
	SessionToken string
}

// Options configure a fake. DistributionID and Credentials are required.
type Options struct {
	DistributionID string
	Credentials    Credentials
	// CompleteAfter is how long an invalidation stays InProgress.
	CompleteAfter time.Duration
	// Rate (CreateInvalidation requests per second) and Burst make a
	// token bucket; beyond it the fake answers 400 Throttling. 0 is
	// unlimited.
	Rate  float64
	Burst int
	// PathsInProgress and WildcardsInProgress lower CloudFront's limits
	// on work in progress (0 keeps 3,000 and 15).
	PathsInProgress, WildcardsInProgress int
	// Faults script failures; Refuse answers 400 InvalidArgument, and a
	// rejected value (a URL or a path) makes a batch holding its path
	// fail with InvalidArgument.
	Faults cdnfake.Faults
	// LoseAnswers answers the first LoseAnswers CreateInvalidation
	// requests that CloudFront carried out (a new invalidation, or the one
	// their CallerReference already made) with 500, as when an answer is
	// lost on its way back.
	LoseAnswers int
	// EchoCredentials quotes the request's Authorization and
	// X-Amz-Security-Token headers in error messages, as a misbehaving
	// gateway does.
	EchoCredentials bool
	// Keep bounds recorded requests (0 keeps all).
	Keep int
}

// Invalidation is one invalidation the fake holds.
type Invalidation struct {
	ID              string
	CallerReference string
	Paths           []string
	Created         time.Time
	// Completed is when it stops being InProgress.
	Completed time.Time
}

// Status is InProgress until Completed, then Completed.
func (inv Invalidation) Status(now time.Time) string {
	if now.Before(inv.Completed) {
		return "InProgress"
	}
	return "Completed"
}

// Fake is the API as an http.Handler.
type Fake struct {
	*cdnfake.API
	opts   Options
	inject *cdnfake.Injector
	lim    *cdnfake.Limiter

	mu      sync.Mutex
	invs    []*Invalidation // oldest first
	byRef   map[string]*Invalidation
	lost    int
	created int
}

// New returns a fake serving opts.
func New(opts Options) *Fake {
	if opts.PathsInProgress <= 0 {
		opts.PathsInProgress = MaxPathsInProgress
	}
	if opts.WildcardsInProgress <= 0 {
		opts.WildcardsInProgress = MaxWildcardsInProgress
	}
	f := &Fake{
		opts:   opts,
		API:    cdnfake.NewAPI(opts.Keep),
		inject: cdnfake.NewInjector(opts.Faults),
		lim:    cdnfake.NewLimiter(opts.Rate, opts.Burst),
		byRef:  map[string]*Invalidation{},
	}
	base := "/" + APIVersion + "/distribution/{id}/invalidation"
	f.Mux.HandleFunc("POST "+base, f.handle(f.create))
	f.Mux.HandleFunc("GET "+base, f.handle(f.list))
	f.Mux.HandleFunc("GET "+base+"/{inv}", f.handle(f.get))
	f.Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r)
		f.fail(x, apiError{http.StatusNotFound, "NotFound", "no operation at " + r.Method + " " + r.URL.Path})
	})
	return f
}

// Server is a running fake.
type Server struct {
	*Fake
	*httptest.Server
}

// NewServer starts a fake on a loopback port. Close it when done.
func NewServer(opts Options) *Server {
	f := New(opts)
	return &Server{Fake: f, Server: httptest.NewServer(f)}
}

// Invalidations returns the invalidations created, oldest first.
func (f *Fake) Invalidations() []Invalidation {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Invalidation, len(f.invs))
	for i, inv := range f.invs {
		out[i] = *inv
		out[i].Paths = slices.Clone(inv.Paths)
	}
	return out
}

// Invalidate creates an invalidation the way another client of the
// distribution would, without a request.
func (f *Fake) Invalidate(ref string, paths []string) (Invalidation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ae := f.admit(ref, paths, time.Now())
	if ae != nil {
		return Invalidation{}, fmt.Errorf("%s: %s", ae.Code, ae.Message)
	}
	return *inv, nil
}

// exchange is one request being answered.
type exchange struct {
	w   http.ResponseWriter
	r   *http.Request
	rec cdnfake.Request
}

func (f *Fake) begin(w http.ResponseWriter, r *http.Request) *exchange {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	return &exchange{w: w, r: r, rec: cdnfake.Request{
		Seq:    f.Rec.Next(),
		Time:   time.Now(),
		Method: r.Method,
		Path:   r.URL.RequestURI(),
		Header: cdnfake.RedactHeader(r.Header, "Authorization", "X-Amz-Security-Token"),
		Body:   body,
	}}
}

// handle runs the checks every operation shares — hang, rate limit,
// scripted faults, the signature, the distribution — then op.
func (f *Fake) handle(op func(x *exchange)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x := f.begin(w, r)
		if f.inject.Hang() {
			cdnfake.HangUntilGone(r)
			x.rec.Fault = true
			f.fail(x, apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "client went away"})
			return
		}
		if r.Method == http.MethodPost {
			if ok, _ := f.lim.Allow(time.Now()); !ok {
				x.rec.Fault = true
				f.fail(x, apiError{http.StatusBadRequest, "Throttling", "Rate exceeded"})
				return
			}
		}
		if fault, ok := f.inject.Decide(x.rec.Seq); ok {
			x.rec.Fault = true
			f.fail(x, injected(w.Header(), fault))
			return
		}
		if ae := f.authenticate(r, x.rec.Body); ae != nil {
			f.fail(x, f.echo(*ae, r))
			return
		}
		if id := r.PathValue("id"); id != f.opts.DistributionID {
			f.fail(x, apiError{http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist."})
			return
		}
		op(x)
	}
}

// injected is the answer to a scripted or random fault.
func injected(h http.Header, fault cdnfake.Fault) apiError {
	if fault.Refuse {
		return apiError{http.StatusBadRequest, "InvalidArgument", "Your request contains one or more invalid invalidation paths. (injected)"}
	}
	if fault.Status == http.StatusTooManyRequests || (fault.Status == http.StatusServiceUnavailable && fault.RetryAfter > 0) {
		cdnfake.SetRetryAfter(h, fault.RetryAfter)
	}
	code := map[int]string{
		http.StatusBadRequest: "InvalidArgument", http.StatusUnauthorized: "InvalidClientTokenId",
		http.StatusForbidden: "AccessDenied", http.StatusNotFound: "NoSuchDistribution",
		http.StatusTooManyRequests: "Throttling", http.StatusServiceUnavailable: "ServiceUnavailable",
	}[fault.Status]
	if code == "" {
		code = "InternalFailure"
	}
	return apiError{fault.Status, code, http.StatusText(fault.Status) + " (injected)"}
}

// echo quotes the request's credentials in a refusal when told to.
func (f *Fake) echo(ae apiError, r *http.Request) apiError {
	if f.opts.EchoCredentials {
		ae.Message += fmt.Sprintf(" (Authorization: %s; X-Amz-Security-Token: %s)", r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"))
	}
	return ae
}

// apiError is an error answer.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (f *Fake) fail(x *exchange, ae apiError) {
	kind := "Sender"
	if ae.Status >= 500 {
		kind = "Receiver"
	}
	body := errorResponse{Xmlns: Namespace, RequestID: requestID(x.rec.Seq)}
	body.Error.Type, body.Error.Code, body.Error.Message = kind, ae.Code, ae.Message
	x.rec.Code = ae.Status
	f.reply(x, ae.Status, body)
}

func (f *Fake) reply(x *exchange, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte("<ErrorResponse/>")
	}
	b = append([]byte(xml.Header), b...)
	x.rec.Status, x.rec.Response = status, b
	f.Rec.Add(x.rec)
	h := x.w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-RequestId", requestID(x.rec.Seq))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b)
}

func requestID(seq int) string {
	return fmt.Sprintf("6b1c9e3a-%04x-4c2d-9f10-%012x", seq&0xffff, seq)
}

// kindOf names what a batch of paths purges: everything ("/*" alone), by
// prefix (wildcards), or URLs.
func kindOf(paths []string) string {
	switch {
	case len(paths) == 1 && paths[0] == "/*":
		return "everything"
	case slices.ContainsFunc(paths, func(p string) bool { return strings.HasSuffix(p, "*") }):
		return "prefix"
	}
	return "url"
}
