package retry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"

	"github.com/hashicorp/go-retryablehttp"
)

// AnswerFunc reports whether an answer the standard policy treats as final
// is worth another attempt, from its status, headers and the start of its
// body: a vendor's throttling answer that does not use 429 (CloudFront
// answers 400 with the error code Throttling).
type AnswerFunc func(status int, header http.Header, body []byte) bool

type retryIfKey struct{}

// WithRetryIf returns a context whose requests, sent through a client from
// NewClient, are also retried when retryable accepts the answer, with the
// same backoff and bounds as a 5xx. The answer handed back when retries
// run out keeps its whole body.
func WithRetryIf(ctx context.Context, retryable AnswerFunc) context.Context {
	return context.WithValue(ctx, retryIfKey{}, retryable)
}

// peekBytes is how much of an answer's body a retry decision may read.
const peekBytes = 64 << 10

// retryIf asks the request's AnswerFunc, if any, about resp. The body
// read to decide is put back in front of the rest.
func retryIf(ctx context.Context, resp *http.Response) bool {
	fn, _ := ctx.Value(retryIfKey{}).(AnswerFunc)
	if fn == nil || resp == nil {
		return false
	}
	var head []byte
	if resp.Body != nil {
		// A read error leaves what was read; the caller sees the error
		// when it reads on.
		head, _ = io.ReadAll(io.LimitReader(resp.Body, peekBytes))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return fn(resp.StatusCode, resp.Header, head)
}

// WithRootCAs returns a copy of c, a client from NewClient, that trusts
// only the certificate authorities in roots: a bundle named by a vendor's
// own setting (AWS_CA_BUNDLE), as a gateway that re-signs TLS needs. The
// retry policy, logging and limits stay those of c.
func WithRootCAs(c *http.Client, roots *x509.CertPool) (*http.Client, error) {
	errNotOurs := errors.New("retry: a client not built by retry.NewClient cannot take other CA roots")
	if c == nil || roots == nil {
		return nil, errors.New("retry: WithRootCAs needs a client and a pool of roots")
	}
	rt, ok := c.Transport.(*retryablehttp.RoundTripper)
	if !ok || rt.Client == nil || rt.Client.HTTPClient == nil {
		return nil, errNotOurs
	}
	ct, ok := rt.Client.HTTPClient.Transport.(*countingTransport)
	if !ok {
		return nil, errNotOurs
	}
	base, ok := ct.next.(*http.Transport)
	if !ok {
		return nil, errNotOurs
	}
	base = base.Clone()
	if base.TLSClientConfig == nil {
		base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	base.TLSClientConfig.RootCAs = roots
	inner := *rt.Client.HTTPClient
	inner.Transport = &countingTransport{next: base, log: ct.log, timeout: ct.timeout}
	old := rt.Client
	rc := &retryablehttp.Client{
		HTTPClient:   &inner,
		Logger:       old.Logger,
		RetryWaitMin: old.RetryWaitMin,
		RetryWaitMax: old.RetryWaitMax,
		RetryMax:     old.RetryMax,
		CheckRetry:   old.CheckRetry,
		Backoff:      old.Backoff,
		ErrorHandler: old.ErrorHandler,
	}
	out := rc.StandardClient()
	out.Timeout, out.CheckRedirect = c.Timeout, c.CheckRedirect
	return out, nil
}
