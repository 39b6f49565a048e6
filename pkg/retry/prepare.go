package retry

import (
	"context"
	"net/http"
)

type prepareKey struct{}

// WithPrepare returns a context whose requests, sent through a client from
// NewClient, are handed to prepare before every attempt, the first and
// each retry, as a copy the attempt owns. A signature belongs there: it
// must carry a fresh timestamp and nonce each time, and a retry that
// re-sent the signed request would replay its nonce. An error from
// prepare ends the request without sending it and is not retried.
func WithPrepare(ctx context.Context, prepare func(*http.Request) error) context.Context {
	return context.WithValue(ctx, prepareKey{}, prepare)
}

func prepareFrom(ctx context.Context) func(*http.Request) error {
	p, _ := ctx.Value(prepareKey{}).(func(*http.Request) error)
	return p
}

// prepareError is a failure to prepare an attempt; nothing was sent.
type prepareError struct{ err error }

func (e *prepareError) Error() string { return "preparing the request: " + e.err.Error() }
func (e *prepareError) Unwrap() error { return e.err }
