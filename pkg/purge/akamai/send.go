package akamai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/purge"
	"github.com/cachectl/cachectl/pkg/retry"
)

// run is the state of one Purge call.
type run struct {
	b        purge.Batch
	res      purge.BatchResult
	purged   int
	firstRef error
}

// Purge sends one batch: as many requests as its objects need at 50,000
// bytes each. It returns an error when the whole batch failed: refused
// credentials, the network, a cancelled context, a rate limit or server
// error that outlasted the retries, or an API refusal of every target.
// Results always holds one entry per target.
func (p *Provider) Purge(ctx context.Context, b purge.Batch) (purge.BatchResult, error) {
	if b.Kind == purge.KindEverything && len(b.Targets) == 0 {
		b.Targets = []purge.Target{{Kind: purge.KindEverything}}
	}
	r := &run{b: b, res: purge.NewBatchResult(b.Targets)}
	r.res.Stale = !b.Delete
	switch {
	case p.BatchLimit(b.Kind) == 0:
		return r.res.Fail(fmt.Errorf("akamai: purge by %s: %w; nothing was sent", b.Kind, purge.ErrUnsupported))
	case b.Soft:
		return r.res.Fail(fmt.Errorf("akamai: soft purge: %w (an invalidation marks objects stale; --delete evicts them); nothing was sent", purge.ErrUnsupported))
	case b.Kind == purge.KindEverything && len(p.s.CPCodes) == 0:
		return r.res.Fail(fmt.Errorf("akamai: purge everything: %w without cp_codes naming the site's CP codes; nothing was sent", purge.ErrUnsupported))
	}
	reqs, refused := p.plan(b)
	for i, err := range refused {
		r.res.Results[i].Err = err
	}
	for n, rq := range reqs {
		if err := p.send(ctx, r, rq); err != nil {
			// Targets not yet sent share the failure that stopped the batch.
			for _, later := range reqs[n:] {
				for _, i := range later.idx {
					if r.res.Results[i].PurgeID == "" && r.res.Results[i].Err == nil {
						r.res.Results[i].Err = err
					}
				}
			}
			return r.res, err
		}
	}
	if r.purged == 0 && r.firstRef != nil {
		return r.res, r.firstRef
	}
	return r.res, nil
}

// send sends one request. A refusal that names one of its objects (an
// "unauthorized arl") fails that target alone and the rest is sent
// again; other refusals fail the request's targets. The error it returns
// stops the whole batch.
func (p *Provider) send(ctx context.Context, r *run, rq request) error {
	for len(rq.idx) > 0 {
		ans, ae, err := p.do(ctx, r, rq)
		if err == nil && ae != nil && (ae.Auth || ae.Retryable) {
			err = ae
		}
		if err != nil {
			return fmt.Errorf("akamai: purge batch %d: %w", r.b.Seq, err)
		}
		if ae == nil {
			for _, i := range rq.idx {
				r.res.Results[i].PurgeID, r.res.Results[i].Err = ans.PurgeID, nil
			}
			r.purged += len(rq.idx)
			r.res.Estimate = max(r.res.Estimate, time.Duration(ans.EstimatedSeconds)*time.Second)
			return nil
		}
		werr := fmt.Errorf("akamai: purge batch %d: %w", r.b.Seq, ae)
		if r.firstRef == nil {
			r.firstRef = werr
		}
		k := rq.named(ae.Status, ans.Detail)
		if k < 0 {
			for _, i := range rq.idx {
				r.res.Results[i].Err = werr
			}
			return nil
		}
		r.res.Results[rq.idx[k]].Err = werr
		rq = newRequest(rq.typ, append(rq.objects[:k:k], rq.objects[k+1:]...), append(rq.idx[:k:k], rq.idx[k+1:]...))
	}
	return nil
}

// named is the index of the object a 403 refusal names in its detail
// ("unauthorized arl": the URL), or -1.
func (rq request) named(status int, detail string) int {
	if status != http.StatusForbidden {
		return -1
	}
	for k, o := range rq.objects {
		if fmt.Sprint(o) == strings.TrimSpace(detail) {
			return k
		}
	}
	return -1
}

// answer is the API's JSON answer: a purge accepted, or a problem
// (application/problem+json; the EdgeGrid gateway says status where
// Fast Purge says httpStatus).
type answer struct {
	HTTPStatus       int    `json:"httpStatus"`
	Status           int    `json:"status"`
	Title            string `json:"title"`
	Detail           string `json:"detail"`
	PurgeID          string `json:"purgeId"`
	SupportID        string `json:"supportId"`
	EstimatedSeconds int    `json:"estimatedSeconds"`
}

// do sends one request, signed afresh on every attempt, and returns the
// accepted answer, the API's refusal, or an error without an answer.
func (p *Provider) do(ctx context.Context, r *run, rq request) (answer, *purge.APIError, error) {
	actx, att := retry.WithAttempts(ctx)
	actx = retry.WithPrepare(actx, func(req *http.Request) error {
		p.signer.Sign(req, rq.body)
		return nil
	})
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.endpoint(r.b, rq.typ), bytes.NewReader(rq.body))
	if err != nil {
		return answer{}, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.hc.Do(req)
	attempts := max(att.Count(), 1)
	r.res.Calls += attempts
	r.res.Attempts = max(r.res.Attempts, attempts)
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, nil, ctx.Err()
		}
		return answer{}, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, nil, fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	var ans answer
	jsonErr := json.Unmarshal(raw, &ans)
	p.log.Debug("akamai: purge request", "batch", r.b.Seq, "kind", r.b.Kind, "objects", len(rq.idx), "bytes", len(rq.body), "status", resp.StatusCode, "attempts", attempts, "purge_id", ans.PurgeID)
	if resp.StatusCode == http.StatusCreated && jsonErr == nil && (ans.HTTPStatus == 0 || ans.HTTPStatus == http.StatusCreated) && ans.PurgeID != "" {
		return ans, nil, nil
	}
	return ans, p.apiError(resp.StatusCode, ans, jsonErr, raw, r.b.Kind, rq), nil
}

// apiError describes a refusal. A 401, or a 403 naming none of the
// request's objects, is the credentials'.
func (p *Provider) apiError(status int, ans answer, jsonErr error, raw []byte, kind purge.Kind, rq request) *purge.APIError {
	ae := &purge.APIError{Provider: Name, Status: status, Retryable: retry.RetryableStatus(status)}
	switch {
	case jsonErr == nil && (ans.Title != "" || ans.Detail != ""):
		ae.Message = strings.TrimSuffix(ans.Title+": "+ans.Detail, ": ")
		if ans.SupportID != "" {
			ae.Message += " (support id " + ans.SupportID + ")"
		}
	case status >= 200 && status < 300:
		ae.Message = "the API did not confirm the purge: " + purge.BodySnippet(raw)
	default:
		ae.Message = purge.BodySnippet(raw)
	}
	if status == http.StatusUnauthorized || (status == http.StatusForbidden && rq.named(status, ans.Detail) < 0) {
		ae.Auth, ae.Retryable = true, false
	}
	ae.Hint = Spec.Hint(ae, kind, p.cfg, &p.s)
	return ae
}
