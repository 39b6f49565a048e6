package purge

import (
	"errors"
	"fmt"
	"strings"
)

// APIError is a refusal or failure reported by a purge API (or a cache node
// answering a purge request). Providers wrap it in the errors they return,
// so callers classify failures with errors.As without parsing messages.
type APIError struct {
	// Provider is the registry name of the provider that got the answer.
	Provider string
	// Status is the HTTP status; 200 when the API said no inside a 200
	// (Cloudflare's "success": false); 0 when no API answered (credentials
	// an SDK could not find).
	Status int
	// Code is the vendor's error code (Cloudflare envelope code, e.g. 1082),
	// 0 when the API gives none.
	Code int
	// CodeName is the vendor's error code when it is a name (AWS:
	// "TooManyInvalidationsInProgress"); "" when it gives none.
	CodeName string
	// Message is the vendor's error text, several joined by "; ".
	Message string
	// Retryable is true when sending the same request later may succeed
	// (rate limited, server error).
	Retryable bool
	// Auth is true when the credentials were refused; retrying will not
	// help until the token or its permissions are fixed.
	Auth bool
	// AccessList marks an Auth refusal that comes from a list of allowed
	// addresses (a cache node's purge ACL), not from credentials: it is
	// said as "access denied".
	AccessList bool
	// Hint says what to do about it, for the person reading the error.
	Hint string
	// Server names the software that answered (a cache node's Server or
	// Via header: "varnish", "nginx", "squid", "trafficserver"), when the
	// provider reads it, so the hint can name that software's setting.
	Server string
}

// Error describes the failure and whether retrying can help.
func (e *APIError) Error() string {
	var b strings.Builder
	switch {
	case e.Auth && e.AccessList:
		b.WriteString("access denied")
	case e.Auth:
		b.WriteString("authentication failed")
	default:
		b.WriteString("API refused the request")
	}
	var detail []string
	if e.Status != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Code != 0 {
		detail = append(detail, fmt.Sprintf("code %d", e.Code))
	}
	if e.CodeName != "" {
		detail = append(detail, e.CodeName)
	}
	if len(detail) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(detail, ", "))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	switch {
	case e.Retryable:
		b.WriteString("; retrying later is safe")
	case e.Auth:
		// The hint already says retrying will not help.
	default:
		b.WriteString("; retrying the same request will not help")
	}
	return b.String()
}

// IsAuthError reports whether err is or wraps an APIError for refused
// credentials.
func IsAuthError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Auth
}

// ErrInvalidTarget marks a target the provider refused before sending
// anything (a malformed prefix, a URL the API cannot take). Providers put
// it, wrapped with the reason, in that target's TargetResult.Err.
var ErrInvalidTarget = errors.New("invalid purge target")

// ErrUnsupported marks a target kind or option the provider cannot purge.
var ErrUnsupported = errors.New("not supported by this provider")

// BodySnippet is an API answer shortened for an error message: white space
// collapsed, at most 200 bytes, so an HTML error page from a gateway stays
// readable on one line.
func BodySnippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		s = "empty answer"
	}
	return s
}
