package servertiming

import (
	"net/http"
	"slices"
	"strings"
)

// Entry is what a response reported under one metric name.
type Entry struct {
	// Dur is the duration in milliseconds; nil when the metric carried none
	// (a cache status such as cdn-cache-hit, a description only).
	Dur *float64 `json:"dur,omitempty"`
	// Desc is the description.
	Desc string `json:"desc,omitempty"`
	// Count is how many metrics of this name the response carried, when
	// more than one: their durations are added up, the first description
	// is kept.
	Count int `json:"count,omitempty"`
	// Part is where the time was spent (Classify).
	Part Part `json:"part,omitempty"`
	// CDN is the CDN that adds this metric; empty for the origin's own.
	CDN string `json:"cdn,omitempty"`
}

// Set is a response's metrics by name: the shape cachectl's JSON output
// uses ("server_timing": {"db": {"dur": 12.4, "desc": "3 queries"}}).
type Set map[string]Entry

// NewSet collects metrics by name; nil when there are none.
func NewSet(ms []Metric) Set {
	if len(ms) == 0 {
		return nil
	}
	s := make(Set, len(ms))
	// Every duration lives in one array: one allocation, not one a metric.
	durs := make([]float64, 0, len(ms))
	for _, m := range ms {
		e, seen := s[m.Name]
		if !seen {
			k := Classify(m.Name)
			e = Entry{Desc: m.Desc, Part: k.Part, CDN: k.CDN}
		} else {
			e.Count = max(e.Count, 1) + 1
			if e.Desc == "" {
				e.Desc = m.Desc
			}
		}
		switch {
		case m.HasDur && e.Dur != nil:
			*e.Dur += m.Dur
		case m.HasDur:
			durs = append(durs, m.Dur)
			e.Dur = &durs[len(durs)-1]
		}
		s[m.Name] = e
	}
	return s
}

// FromHeader reads the Server-Timing lines of a response's header and
// trailer (either may be nil) into a Set, with the problems found.
func FromHeader(header, trailer http.Header) (Set, []Problem) {
	lines := header.Values("Server-Timing")
	if t := trailer.Values("Server-Timing"); len(t) > 0 {
		lines = append(slices.Clip(lines), t...)
	}
	if len(lines) == 0 {
		return nil, nil
	}
	ms, problems := Parse(lines)
	return NewSet(ms), problems
}

// Names returns the set's metric names, sorted.
func (s Set) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup finds a metric by name, exactly first, then ignoring case
// (configuration keys are case-insensitive).
func (s Set) Lookup(name string) (Entry, bool) {
	if e, ok := s[name]; ok {
		return e, true
	}
	for n, e := range s {
		if strings.EqualFold(n, name) {
			return e, true
		}
	}
	return Entry{}, false
}

// OnlyFromCDN keeps the metrics a CDN adds itself (FromCDN): on a cache
// hit the origin's metrics are the ones stored with the cached copy,
// replayed from the request that filled the cache, and say nothing about
// this request. A CDN's own metrics describe the request they came with. It returns nil when none is left.
func (s Set) OnlyFromCDN() Set {
	var out Set
	for n, e := range s {
		if e.CDN == "" {
			continue
		}
		if out == nil {
			out = Set{}
		}
		out[n] = e
	}
	return out
}
