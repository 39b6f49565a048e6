package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cachectl/cachectl/pkg/config"
)

// Exit codes: the contract scripts rely on.
const (
	ExitOK          = 0
	ExitCheckFailed = 1
	ExitUsage       = 2
	ExitOperational = 3
	ExitInterrupted = 130
)

// ExitError carries an exit code with an optional message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageErrorf is a usage or configuration error: nothing was sent.
func usageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// usageError marks err as a usage or configuration error.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// operationalError marks err as an operational failure (network, API, auth).
func operationalError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitOperational, Err: err}
}

// checkFailed ends a run that completed with failed checks; its results are
// already printed, so the message is a one-line summary (or none).
func checkFailed(format string, args ...any) error {
	if format == "" {
		return &ExitError{Code: ExitCheckFailed}
	}
	return &ExitError{Code: ExitCheckFailed, Err: fmt.Errorf(format, args...)}
}

// exitCode picks the exit code for err. It is the only place that decides.
func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	var ve *config.ValidationError
	var fe *config.FileError
	switch {
	case ctx.Err() != nil:
		// Interrupted: whatever the command was doing (reading input,
		// probing, purging) stopped because of the signal.
		return ExitInterrupted
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ve), errors.As(err, &fe):
		return ExitUsage
	}
	return ExitOperational
}
