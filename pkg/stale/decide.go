package stale

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
)

// fetched is one side's response, its body already read.
type fetched struct {
	status   int
	header   http.Header
	body     bodySum
	received time.Time
}

// verdict is the outcome of comparing the two sides.
type verdict struct {
	stale  bool
	reason Reason
	// storedAt is set when the edge's storage time decided.
	storedAt time.Time
}

// compared reports whether an edge response with this cache status is
// compared with the origin. HIT, STALE and UPDATING were served from the
// edge's stored copy; UNKNOWN might have been. The others were fetched from
// or confirmed with the origin for this very request.
func compared(s cachestatus.Status) bool {
	switch s {
	case cachestatus.HIT, cachestatus.STALE, cachestatus.UPDATING, cachestatus.UNKNOWN:
		return true
	}
	return false
}

// refused reports whether an origin status says the origin would not or
// could not answer (it may only take requests from the CDN, it is
// overloaded, it failed), which is no news about the page.
func refused(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// decide compares the edge copy with the origin's answer to a request
// carrying the edge copy's validators. The signals are tried in order: the
// 304, the status code, the redirect target, strong ETags, Last-Modified,
// the bodies, and, when the bodies cannot be compared, the edge's storage
// time against the origin's Last-Modified.
func decide(e, o fetched) verdict {
	if o.status == http.StatusNotModified {
		return verdict{reason: NotModified}
	}
	if e.status != o.status {
		return verdict{stale: true, reason: StatusDiffers}
	}
	if isRedirect(e.status) && e.header.Get("Location") != o.header.Get("Location") {
		return verdict{stale: true, reason: LocationDiffers}
	}
	et, eok := parseETag(e.header.Get("ETag"))
	ot, ook := parseETag(o.header.Get("ETag"))
	if eok && ook && !et.weak && !ot.weak {
		if et.opaque != ot.opaque {
			return verdict{stale: true, reason: ETagDiffers}
		}
		return verdict{reason: ETagMatches}
	}
	elm, eok := httpDate(e.header, "Last-Modified")
	olm, ook := httpDate(o.header, "Last-Modified")
	if eok && ook && olm.After(elm) {
		return verdict{stale: true, reason: LastModifiedNewer}
	}
	if e.body.sha256 != "" && o.body.sha256 != "" {
		if e.body.sha256 != o.body.sha256 {
			return verdict{stale: true, reason: BodyDiffers}
		}
		return verdict{reason: BodyMatches}
	}
	if !ook {
		return verdict{reason: NotComparable}
	}
	stored := storedAt(e)
	if olm.After(stored) {
		return verdict{stale: true, reason: StoredBeforeModified, storedAt: stored}
	}
	return verdict{reason: StoredAfterModified, storedAt: stored}
}

// storedAt estimates when the edge stored (or last revalidated) its copy:
// its Date minus its Age. Edges that rewrite Date on delivery (Cloudflare,
// Fastly) make this the storage time; an edge that passes the origin's Date
// on makes it earlier, so the estimate errs toward stale. Without a Date the
// time the response arrived stands in.
func storedAt(e fetched) time.Time {
	date, ok := httpDate(e.header, "Date")
	if !ok {
		date = e.received
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(e.header.Get("Age")), 10, 64); err == nil && age > 0 {
		// RFC 9111 §1.2.2: a larger delta-seconds is read as 2^31.
		date = date.Add(-time.Duration(min(age, 1<<31)) * time.Second)
	}
	return date
}

func httpDate(h http.Header, name string) (time.Time, bool) {
	v := h.Get(name)
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	return t, err == nil
}

func isRedirect(status int) bool {
	return status >= 300 && status < 400 && status != http.StatusNotModified
}
