package cachestatus

import "strings"

// Apache Traffic Server writes its cache result into the Via header it adds
// to responses when proxy.config.http.insert_response_via_str is 1 or more:
//
//	Via: http/1.1 edge1 (ApacheTrafficServer/9.2.5 [cMsSfW])
//	Via: http/1.1 edge1[0A0B0C0D] (ApacheTrafficServer/9.2.5 [uScHs f p eN:t cCHi p s ])
//
// The codes inside the brackets come in pairs, a lower-case letter naming
// the field and the character after it its value (a space when the step
// did not happen); a colon starts the detailed codes, which repeat what the
// short ones say. The fields read here (traffic_via(1), the Via header
// decoder shipped with Traffic Server):
//
//	c  cache lookup   H fresh hit, R fresh RAM hit, W read-while-write hit
//	                  (served from a copy still being written), M miss,
//	                  A in cache but not acceptable (a miss), S in cache
//	                  but stale, space: no lookup performed
//	s  origin server  S served, N not modified (304), E error, space: not contacted
//
// A stale copy (c S) is EXPIRED when the origin sent a new one, REVALIDATED
// when it answered 304, and STALE when the origin failed and the stale copy
// was served.

// trafficServerProduct is the product token Traffic Server puts in Via.
const trafficServerProduct = "ApacheTrafficServer"

// parseTrafficServerVia reads every Via entry as a layer, origin side
// first: a Traffic Server entry with codes gets their status, any other
// entry (another proxy, or Traffic Server without codes) is UNKNOWN, so a
// Via whose client-facing hop says nothing gives way to the next header.
// It fails when no entry is Traffic Server's.
func parseTrafficServerVia(v string) ([]Layer, bool) {
	if len(v) > maxValueLen || !containsFold(v, trafficServerProduct) {
		return nil, false
	}
	return eachLayer(v, viaLayer)
}

// viaLayer reads one Via entry: "protocol received-by (comment)".
func viaLayer(entry string) Layer {
	l := Layer{Status: UNKNOWN, Raw: entry}
	fields := strings.Fields(entry)
	if len(fields) >= 2 {
		l.Name = strings.TrimRight(fields[1], "(")
		if i := strings.IndexByte(l.Name, '['); i > 0 {
			l.Name = l.Name[:i] // the host's id, e.g. edge1[0A0B0C0D]
		}
	}
	comment, ok := viaComment(entry)
	if !ok || !containsFold(comment, trafficServerProduct) {
		return l
	}
	open := strings.IndexByte(comment, '[')
	if open < 0 {
		return l
	}
	end := strings.IndexByte(comment[open:], ']')
	if end < 0 {
		return l
	}
	l.Status = trafficServerCodes(comment[open+1 : open+end])
	return l
}

// viaComment is the parenthesised comment of a Via entry.
func viaComment(entry string) (string, bool) {
	open := strings.IndexByte(entry, '(')
	if open < 0 {
		return "", false
	}
	end := strings.LastIndexByte(entry, ')')
	if end < open {
		return entry[open+1:], true
	}
	return entry[open+1 : end], true
}

// trafficServerCodes turns the short codes between the brackets into a
// status; UNKNOWN when they hold no cache lookup field.
func trafficServerCodes(codes string) Status {
	if short, _, ok := strings.Cut(codes, ":"); ok {
		codes = short
	}
	var lookup, server byte
	seen := false
	for i := 0; i+1 < len(codes); i += 2 {
		switch codes[i] {
		case 'c':
			lookup, seen = codes[i+1], true
		case 's':
			server = codes[i+1]
		}
	}
	if !seen {
		return UNKNOWN
	}
	switch lookup {
	case 'H', 'R', 'W':
		return HIT
	case 'M', 'A':
		return MISS
	case 'S':
		switch server {
		case 'N':
			return REVALIDATED
		case 'E':
			return STALE
		}
		return EXPIRED
	case ' ':
		return BYPASS
	}
	return UNKNOWN
}
