package cloudfront

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cachectl/cachectl/pkg/pool"
	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// Error codes the provider acts on.
const (
	codeTooMany    = "TooManyInvalidationsInProgress"
	codeThrottling = "Throttling"
	codeBadPath    = "InvalidArgument"
)

// authCodes are the answers that refuse the credentials themselves.
var authCodes = map[string]bool{
	"AccessDenied": true, "InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "ExpiredToken": true,
	"MissingAuthenticationToken": true, "IncompleteSignature": true, "UnrecognizedClientException": true,
	"RequestTimeTooSkewed": true,
}

// throttled is CloudFront's throttling answer, a 400 the retrying client
// would otherwise take as final.
func throttled(status int, _ http.Header, body []byte) bool {
	return status == http.StatusBadRequest && bytes.Contains(body, []byte("<Code>"+codeThrottling+"</Code>"))
}

// request prepares ctx for one logical request: attempts counted,
// throttling answers retried.
func request(ctx context.Context) (context.Context, *retry.Attempts) {
	return retry.WithAttempts(retry.WithRetryIf(ctx, throttled))
}

// invalidate sends the paths at idx (indexes into r.paths) as one
// invalidation once it fits beside those in progress, and again while
// CloudFront says the distribution is full, within wait_timeout. When
// CloudFront refuses a path and narrow is set, the paths are split to
// find it (split). It reports whether CloudFront accepted them; an error
// stops the batch.
func (p *Provider) invalidate(ctx context.Context, r *run, idx []int, narrow bool) (bool, error) {
	paths := make([]string, len(idx))
	for i, n := range idx {
		paths[i] = r.paths[n]
	}
	need, ref := loadOf(paths), callerReference(r.b.Run, paths)
	deadline := time.Now().Add(p.wait)
	var full *purge.APIError
	for {
		if err := p.room.waitFor(ctx, need, deadline, full != nil, &r.res.Calls); err != nil {
			if full != nil && errors.Is(err, errStillBusy) {
				return false, fmt.Errorf("cloudfront: purge batch %d: %w; %w", r.b.Seq, full, err)
			}
			return false, fmt.Errorf("cloudfront: purge batch %d: %w", r.b.Seq, err)
		}
		inv, ae, err := p.create(ctx, r, ref, paths)
		switch {
		case err != nil:
			return false, fmt.Errorf("cloudfront: purge batch %d: %w", r.b.Seq, err)
		case ae == nil:
			id := aws.ToString(inv.Id)
			p.room.started(id, aws.ToString(inv.Status), need)
			for _, n := range idx {
				for _, i := range r.owners[n] {
					r.res.Results[i].PurgeID, r.res.Results[i].Err = id, nil
				}
			}
			r.ok += len(idx)
			p.log.Debug("cloudfront: invalidation created", "batch", r.b.Seq, "id", id, "paths", len(paths), "caller_reference", ref)
			return true, nil
		case ae.CodeName == codeTooMany:
			full = ae
			continue
		case ae.Auth || ae.Retryable:
			return false, fmt.Errorf("cloudfront: purge batch %d: %w", r.b.Seq, ae)
		case narrow && len(idx) > 1 && ae.CodeName == codeBadPath:
			return false, p.split(ctx, r, idx)
		}
		werr := fmt.Errorf("cloudfront: purge batch %d: %w", r.b.Seq, ae)
		if r.firstAE == nil {
			r.firstAE = werr
		}
		for _, n := range idx {
			r.failPath(n, werr, true)
		}
		return false, nil
	}
}

// split narrows a refusal down to the path CloudFront will not take:
// each half is sent on its own, and when exactly one half is refused the
// search goes on in it. When both are refused the refusal is not about
// one path, and the search stops, so one bad path costs about
// 2·log2(n) requests and a refusal of everything three.
func (p *Provider) split(ctx context.Context, r *run, idx []int) error {
	p.log.Debug("cloudfront: splitting a refused invalidation", "batch", r.b.Seq, "paths", len(idx))
	halves := [][]int{idx[:len(idx)/2], idx[len(idx)/2:]}
	var refused [][]int
	for _, h := range halves {
		ok, err := p.invalidate(ctx, r, h, false)
		if err != nil {
			return err
		}
		if !ok {
			refused = append(refused, h)
		}
	}
	if len(refused) == 1 && len(refused[0]) > 1 {
		return p.split(ctx, r, refused[0])
	}
	return nil
}

// create sends one CreateInvalidation. It returns the invalidation, or
// the API's refusal, or an error when no answer came (network,
// cancellation, credentials that could not be found).
func (p *Provider) create(ctx context.Context, r *run, ref string, paths []string) (*types.Invalidation, *purge.APIError, error) {
	actx, att := request(ctx)
	out, err := p.client.CreateInvalidation(actx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(p.s.DistributionID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	r.res.Calls += att.Count()
	r.res.Attempts = max(att.Count(), 1)
	if err == nil {
		if out.Invalidation == nil || aws.ToString(out.Invalidation.Id) == "" {
			status := 0
			if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
				status = raw.StatusCode
			}
			return nil, nil, fmt.Errorf("no invalidation in the answer (HTTP %d, not readable as CloudFront's answer; sending the batch again is safe)", status)
		}
		return out.Invalidation, nil, nil
	}
	ae, err := p.classify(ctx, err, r.b.Kind)
	return nil, ae, err
}

// classify turns the SDK's error into the API's refusal, or an error when
// no answer came.
func (p *Provider) classify(ctx context.Context, err error, kind purge.Kind) (*purge.APIError, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(err, errNoCredentials) {
		ae := &purge.APIError{Provider: Name, Auth: true, Message: err.Error()}
		ae.Hint = fmt.Sprintf("nothing was sent; cachectl looked in %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after aws sso login for an SSO profile)", p.cfg.TokenEnv)
		return ae, nil
	}
	// The SDK wraps a request that got no answer (network, TLS) in a
	// response error of status 0.
	var re *smithyhttp.ResponseError
	var unsent *smithyhttp.RequestSendError
	if !errors.As(err, &re) || errors.As(err, &unsent) || re.HTTPStatusCode() == 0 {
		return nil, err
	}
	status := re.HTTPStatusCode()
	var api smithy.APIError
	isAPI := errors.As(err, &api)
	if status < 300 {
		// A success the SDK could not read (cut off, too large, not
		// CloudFront's): nothing says whether the invalidation was made,
		// and sending it again is safe (CallerReference).
		return nil, fmt.Errorf("%w (HTTP %d, not readable as CloudFront's answer; sending the batch again is safe)", deepest(err), status)
	}
	ae := &purge.APIError{Provider: Name, Status: status, Retryable: retry.RetryableStatus(status)}
	// The SDK names an error body it cannot read UnknownError.
	if isAPI && api.ErrorCode() != "" && api.ErrorCode() != "UnknownError" {
		ae.CodeName, ae.Message = api.ErrorCode(), api.ErrorMessage()
	} else {
		ae.Message = "not CloudFront's error answer"
	}
	switch {
	case authCodes[ae.CodeName] || status == http.StatusUnauthorized || status == http.StatusForbidden:
		ae.Auth, ae.Retryable = true, false
	case ae.CodeName == codeTooMany || ae.CodeName == codeThrottling:
		ae.Retryable = true
	}
	ae.Hint = Spec.Hint(ae, kind, p.cfg, &p.s)
	return ae, nil
}

// deepest is the innermost error below the SDK's wrapping ("operation
// error CloudFront: ..., https response error ..."), what actually went
// wrong.
func deepest(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		var re *smithyhttp.ResponseError
		var op *smithy.OperationError
		if !errors.As(err, &re) && !errors.As(err, &op) {
			return err
		}
		err = next
	}
}

// failure describes a failed status or list request, op naming it.
func (p *Provider) failure(ctx context.Context, err error, op string) error {
	ae, err := p.classify(ctx, err, "")
	if ae != nil {
		return fmt.Errorf("%s: %w", op, ae)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// WaitCompleted asks CloudFront about invalidation id, with backoff
// (pollDelay), until it has completed or wait_timeout passes, saying on
// the progress line how long it has waited.
func (p *Provider) WaitCompleted(ctx context.Context, id string) error {
	start := time.Now()
	calls := 0
	for {
		status, err := p.room.status(ctx, id, &calls)
		if err != nil {
			return fmt.Errorf("cloudfront: %w", err)
		}
		waited := time.Since(start)
		delay := p.pollDelay(waited)
		if status == statusCompleted {
			if waited > p.poll {
				p.say("cloudfront: invalidation %s completed after %s", id, waited.Round(time.Second))
			}
			return nil
		}
		if waited+delay > p.wait {
			return fmt.Errorf("cloudfront: invalidation %s still %s after %s (wait_timeout); the purge may not have reached every edge yet", id, status, waited.Round(time.Second))
		}
		p.say("cloudfront: invalidation %s is %s after %s; asking again in %s (for at most %s)", id, status, waited.Round(time.Second), delay, p.wait)
		if !pool.Sleep(ctx, delay) {
			return ctx.Err()
		}
	}
}
