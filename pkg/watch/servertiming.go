package watch

import (
	"net/http"
	"strconv"
	"strings"
)

// serverTimings reads the durations of a response's Server-Timing header
// (W3C Server Timing: `db;dur=53, app;dur=47.2, cache;desc="Cache Read"`)
// in milliseconds, by metric name lower-cased. An entry without a valid dur
// is left out; of entries with the same name the first counts, as in
// browsers.
func serverTimings(h http.Header) map[string]float64 {
	var out map[string]float64
	for _, line := range h.Values("Server-Timing") {
		for _, entry := range splitOutsideQuotes(line, ',') {
			name, dur, ok := parseTimingEntry(entry)
			if !ok {
				continue
			}
			if out == nil {
				out = map[string]float64{}
			}
			if _, seen := out[name]; !seen {
				out[name] = dur
			}
		}
	}
	return out
}

// parseTimingEntry reads one `name;param=value;...` entry; ok is false when
// the name is empty or no dur parameter holds a finite, non-negative number.
func parseTimingEntry(entry string) (name string, durMs float64, ok bool) {
	parts := splitOutsideQuotes(entry, ';')
	name = strings.ToLower(strings.TrimSpace(parts[0]))
	if name == "" || strings.ContainsAny(name, " \t\"=") {
		return "", 0, false
	}
	for _, p := range parts[1:] {
		k, v, found := strings.Cut(p, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "dur") {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || !(d >= 0 && d <= maxTimingMs) { // also refuses NaN
			return "", 0, false
		}
		return name, d, true
	}
	return "", 0, false
}

// maxTimingMs bounds a believable duration (a day); larger values, NaN and
// infinities are refused rather than exported.
const maxTimingMs = 24 * 60 * 60 * 1000

// splitOutsideQuotes splits s at sep, except inside a quoted string
// (where a backslash escapes the next character).
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
