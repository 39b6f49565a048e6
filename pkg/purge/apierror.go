package purge

import (
	"errors"
	"strconv"
)

// isAuthError reports whether err is the provider refusing our credentials,
// which no other batch will get past either.
func isAuthError(err error) bool { return IsAuthError(err) }

// errorCode is the code an API answered with, for the journal: the
// vendor's code (a number or a name) when it gave one, else the HTTP status; "" when no API
// answered (network failure, interruption).
func errorCode(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) {
		return ""
	}
	if ae.Code != 0 {
		return strconv.Itoa(ae.Code)
	}
	if ae.CodeName != "" {
		return ae.CodeName
	}
	if ae.Status != 0 {
		return "http-" + strconv.Itoa(ae.Status)
	}
	return ""
}
