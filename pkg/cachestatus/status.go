package cachestatus

import "strings"

// all lists the statuses in the order the README documents them.
var all = [...]Status{HIT, MISS, EXPIRED, STALE, UPDATING, REVALIDATED, BYPASS, DYNAMIC, UNKNOWN}

// All returns every normalized status, in documentation order. The caller
// owns the returned slice.
func All() []Status {
	out := make([]Status, len(all))
	copy(out, all[:])
	return out
}

// ParseStatus reads a status name as written in a config file or a flag
// (`cache: [hit, MISS]`). Only the nine normalized names are accepted, in
// any case; vendor words such as "TCP_HIT" are not statuses.
func ParseStatus(s string) (Status, bool) {
	s = strings.TrimSpace(s)
	for _, st := range all {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Valid reports whether s is one of the nine normalized statuses.
func (s Status) Valid() bool {
	for _, st := range all {
		if s == st {
			return true
		}
	}
	return false
}

// FromCache reports whether a response with this status was served out of a
// cache rather than produced by the origin for this request: HIT, STALE,
// UPDATING and REVALIDATED. A logged-in request that comes back with such a
// status may be showing someone else's page.
func (s Status) FromCache() bool {
	switch s {
	case HIT, STALE, UPDATING, REVALIDATED:
		return true
	}
	return false
}
