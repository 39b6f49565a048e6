// Package servertiming reads the W3C Server-Timing response header: the
// metrics an origin and a CDN report about one request (database time,
// time at the edge, time waiting on the origin, the cache status), so a
// response's time can be split into network, edge, origin and database.
//
// The grammar is the W3C one:
//
//	Server-Timing        = #server-timing-metric
//	server-timing-metric = metric-name *( OWS ";" OWS server-timing-param )
//	server-timing-param  = server-timing-param-name OWS "=" OWS server-timing-param-value
//	metric-name, server-timing-param-name = token
//	server-timing-param-value = token / quoted-string
//
// Server-Timing is not an RFC 8941 structured field, although it looks like
// one: metric names may start with a digit, parameter names are
// case-insensitive, dur may carry any number of decimals, and the first of
// two parameters with the same name counts where a structured field keeps
// the last. So the field is read by this package's own parser; where the
// two grammars overlap the results are the same (the fuzz test holds the
// parser to github.com/dunglas/httpsfv there).
//
// Like a browser, a malformed metric does not spoil the others: it is left
// out and reported as a Problem, and the rest of the field is kept.
// Unquoted parameter values are read up to the next ";" or "," as browsers
// read them, so `desc=text/html` is taken as written.
package servertiming

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
)

// Limits that keep a hostile header from costing much: values longer than
// MaxFieldBytes are not read, and at most MaxMetrics metrics are kept.
const (
	MaxFieldBytes = 16 << 10
	MaxMetrics    = 64
)

// Metric is one server-timing-metric.
type Metric struct {
	// Name is the metric name as sent (names are case-sensitive).
	Name string
	// Dur is the duration in milliseconds; HasDur reports whether the
	// metric carried a valid one.
	Dur    float64
	HasDur bool
	// Desc is the description, unquoted; empty when none was sent.
	Desc string
}

// Problem is one metric left out (or one parameter ignored) because it
// breaks the grammar.
type Problem struct {
	// Metric is the metric's text as sent, trimmed and cut to 80 bytes.
	Metric string
	// Reason says what is wrong.
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("%q: %s", p.Metric, p.Reason)
}

// Parse reads every Server-Timing field line of a response (header lines
// and trailer lines alike), in order. It returns the well-formed metrics
// and a Problem for each malformed one.
func Parse(lines []string) ([]Metric, []Problem) {
	var (
		metrics  []Metric
		problems []Problem
	)
	for _, line := range lines {
		if len(line) > MaxFieldBytes {
			problems = append(problems, Problem{Metric: clip(line), Reason: fmt.Sprintf("field line of %d bytes exceeds %d; not read", len(line), MaxFieldBytes)})
			continue
		}
		for elem := range splitElements(line) {
			if len(metrics) == MaxMetrics {
				problems = append(problems, Problem{Metric: clip(elem), Reason: fmt.Sprintf("more than %d metrics; the rest are not read", MaxMetrics)})
				return metrics, problems
			}
			m, err := parseMetric(elem)
			if err != nil {
				problems = append(problems, Problem{Metric: clip(elem), Reason: err.Error()})
			}
			if m.Name != "" {
				metrics = append(metrics, m)
			}
		}
	}
	return metrics, problems
}

// splitElements yields the non-empty list elements of a field line,
// trimmed.
func splitElements(line string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for e := range splitOutsideQuotes(line, ',') {
			if e = trimOWS(e); e != "" && !yield(e) {
				return
			}
		}
	}
}

// splitOutsideQuotes yields the pieces of s between the separators that
// are not inside a quoted string. An unterminated quoted string runs to
// the end of s and stays in one piece, for the metric parser to report.
func splitOutsideQuotes(s string, sep byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		start, inQuote := 0, false
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case inQuote && c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == sep:
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(s[start:])
	}
}

// parseMetric reads one element: a metric name and its parameters. A
// grammar error leaves the metric out (a zero Metric); a dur that is not a
// usable number keeps the metric without a duration. Either way err says
// what is wrong.
func parseMetric(s string) (Metric, error) {
	var m Metric
	name, rest := scanToken(s)
	if name == "" {
		return Metric{}, errors.New("metric name missing or not a token")
	}
	m.Name = name
	var durErr error
	seen := 0 // bit 1: dur seen, bit 2: desc seen
	for {
		rest = trimOWS(rest)
		if rest == "" {
			return m, durErr
		}
		if rest[0] != ';' {
			return Metric{}, fmt.Errorf("unexpected %q after %s (expected ';' and a parameter)", rest[0], name)
		}
		pname, value, tail, err := parseParam(trimOWS(rest[1:]))
		if err != nil {
			return Metric{}, err
		}
		rest = tail
		switch {
		case strings.EqualFold(pname, "dur") && seen&1 == 0:
			seen |= 1
			m.Dur, m.HasDur, durErr = parseDur(value)
		case strings.EqualFold(pname, "desc") && seen&2 == 0:
			seen |= 2
			m.Desc = value
		}
		// Later repeats of dur or desc, and parameters this package does
		// not know, are ignored, as the specification asks.
	}
}

// parseParam reads `name OWS "=" OWS value` from the start of s and returns
// the rest after it.
func parseParam(s string) (name, value, rest string, err error) {
	name, s = scanToken(s)
	if name == "" {
		return "", "", "", errors.New("parameter name missing or not a token")
	}
	s = trimOWS(s)
	if s == "" || s[0] != '=' {
		return "", "", "", fmt.Errorf("parameter %s has no value (expected %s=VALUE)", name, name)
	}
	s = trimOWS(s[1:])
	if s != "" && s[0] == '"' {
		value, rest, err = scanQuoted(s)
		if err != nil {
			return "", "", "", fmt.Errorf("parameter %s: %w", name, err)
		}
		return name, value, rest, nil
	}
	end := 0
	for end < len(s) && s[end] != ';' && s[end] != ',' {
		c := s[end]
		if c == ' ' || c == '\t' {
			break
		}
		if c < 0x21 || c == 0x7f || c == '"' {
			return "", "", "", fmt.Errorf("parameter %s: character %q not allowed in an unquoted value", name, c)
		}
		end++
	}
	if end == 0 {
		return "", "", "", fmt.Errorf("parameter %s has an empty value", name)
	}
	value, rest = s[:end], s[end:]
	if r := trimOWS(rest); r != "" && r[0] != ';' {
		return "", "", "", fmt.Errorf("parameter %s: unquoted value %q followed by %q (quote values with spaces)", name, value, clip(r))
	}
	return name, value, rest, nil
}

// scanQuoted reads an RFC 9110 quoted-string at the start of s, undoing
// quoted-pairs, and returns its value and the rest after the closing quote.
// A value without quoted-pairs is a slice of s: no copy is made.
func scanQuoted(s string) (string, string, error) {
	var b []byte // the value so far, once a quoted-pair needs a copy
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			if b == nil {
				return s[1:i], s[i+1:], nil
			}
			return string(b), s[i+1:], nil
		case c == '\\':
			if i+1 == len(s) {
				return "", "", errors.New("unterminated quoted string")
			}
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[1:i]...)
			}
			i++
			if !qdtext(s[i]) && s[i] != '"' && s[i] != '\\' {
				return "", "", fmt.Errorf("character %q not allowed in a quoted string", s[i])
			}
			b = append(b, s[i])
		case !qdtext(c):
			return "", "", fmt.Errorf("character %q not allowed in a quoted string", c)
		case b != nil:
			b = append(b, c)
		}
	}
	return "", "", errors.New("unterminated quoted string")
}

// qdtext reports whether c may appear in a quoted string unescaped:
// HTAB, SP, visible ASCII but '"' and '\', and obs-text.
func qdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

// parseDur reads a duration in milliseconds as the HTML rules for
// floating-point numbers do (an optional sign, digits, an optional
// fraction and exponent), and refuses what is no duration: a negative,
// infinite or unparseable value.
func parseDur(v string) (float64, bool, error) {
	if !numeric(v) {
		return 0, false, fmt.Errorf("dur=%s is not a number", v)
	}
	d, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsInf(d, 0):
		return 0, false, fmt.Errorf("dur=%s is out of range", v)
	case d < 0:
		return 0, false, fmt.Errorf("dur=%s is negative", v)
	}
	return d, true, nil
}

// numeric reports whether v is a decimal number: [+-] digits [. digits]
// [e [+-] digits], with digits on at least one side of the point.
func numeric(v string) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	intDigits := digits(v[i:])
	i += intDigits
	fracDigits := 0
	if i < len(v) && v[i] == '.' {
		i++
		fracDigits = digits(v[i:])
		i += fracDigits
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		n := digits(v[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	return i == len(v)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// scanToken reads an RFC 9110 token at the start of s.
func scanToken(s string) (token, rest string) {
	n := 0
	for n < len(s) && tchar(s[n]) {
		n++
	}
	return s[:n], s[n:]
}

// tchar reports whether c may appear in a token.
func tchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

func clip(s string) string {
	const max = 80
	s = trimOWS(s)
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
