package servertiming

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dunglas/httpsfv"
)

// FuzzParse checks that no field value makes the parser panic or break
// its promises (token names, finite non-negative durations, at most one
// metric and one problem per list element, the same answer twice), and that
// where the value is also an RFC 8941 list the two grammars agree on, the
// parser reads what github.com/dunglas/httpsfv reads.
func FuzzParse(f *testing.F) {
	for _, v := range []string{
		`cfCacheStatus;desc="HIT", cfEdge;dur=14,cfOrigin;dur=0`,
		"cdn-cache; desc=MISS, edge; dur=15, origin; dur=230",
		`cdn-cache-hit,cdn-pop;desc="FRA56-P5",cdn-hit-layer;desc="REC",cdn-downstream-fbl;dur=2`,
		`db;dur=12.4;desc="3 queries", app;dur=31`,
		`db;desc="say \"hi\", then go";dur=2`,
		"db;DUR=3;dur=4;Desc=a;desc=b",
		"a;dur=.5, b;dur=5., c;dur=1e3",
		`db;desc="never closed, x;dur=2`,
		"db;dur=-1, e;dur=1e999, f;dur=NaN, g;dur",
		"db dur=1;;,",
		"\xff;dur=1, a;desc=\x00",
		"",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		got, problems := Parse([]string{value})
		elements := 0
		for range splitElements(value) {
			elements++
		}
		if len(got) > elements || len(problems) > elements {
			t.Errorf("%d metrics and %d problems from %d list elements", len(got), len(problems), elements)
		}
		for _, m := range got {
			if tok, rest := scanToken(m.Name); tok == "" || rest != "" {
				t.Errorf("metric name %q is not a token", m.Name)
			}
			if m.HasDur && (m.Dur < 0 || math.IsNaN(m.Dur) || math.IsInf(m.Dur, 0)) {
				t.Errorf("metric %s: dur %v", m.Name, m.Dur)
			}
			if !m.HasDur && m.Dur != 0 {
				t.Errorf("metric %s: dur %v without HasDur", m.Name, m.Dur)
			}
		}
		again, againProblems := Parse([]string{value})
		if !reflect.DeepEqual(again, got) || !reflect.DeepEqual(againProblems, problems) {
			t.Error("Parse is not deterministic")
		}
		if len(problems) == 0 {
			checkAgainstStructuredField(t, value, got)
		}
	})
}

// checkAgainstStructuredField compares a cleanly parsed value with the
// RFC 8941 reading of it, where the grammars agree: a list of token items
// whose parameters are tokens, strings or numbers, none given twice. It
// reports whether the value was in that common ground.
func checkAgainstStructuredField(t *testing.T, value string, got []Metric) bool {
	list, err := httpsfv.UnmarshalList([]string{value})
	if err != nil || repeatsParameter(value) {
		return false
	}
	want := make([]Metric, 0, len(list))
	for _, member := range list {
		item, ok := member.(httpsfv.Item)
		if !ok {
			return false
		}
		name, ok := item.Value.(httpsfv.Token)
		if !ok {
			return false
		}
		m := Metric{Name: string(name)}
		for _, k := range item.Params.Names() {
			v, _ := item.Params.Get(k)
			text, number, isNumber, ok := paramValue(v)
			switch {
			case !ok, k == "desc" && isNumber:
				// No Server-Timing form, or a number whose text the
				// structured field does not keep (desc=05).
				return false
			case k == "dur" && isNumber:
				m.Dur, m.HasDur = number, true
			case k == "dur":
				m.Dur, m.HasDur = mustFloat(t, text), true
			case k == "desc":
				m.Desc = text
			}
		}
		want = append(want, m)
	}
	if !sameMetrics(got, want) {
		t.Errorf("Parse(%q)\n got %+v\nRFC 8941 reads %+v", value, got, want)
	}
	return true
}

// TestAgreesWithStructuredField runs the fuzz target's comparison on
// values both grammars read, so the comparison is known to take place.
func TestAgreesWithStructuredField(t *testing.T) {
	for _, v := range []string{
		`db;dur=12.4;desc="3 queries", app;dur=31`,
		`cfCacheStatus;desc="HIT", cfEdge;dur=14,cfOrigin;dur=0`,
		`cdn-cache-hit,cdn-pop;desc="FRA56-P5",cdn-downstream-fbl;dur=2`,
		`db;desc="say \"hi\", then go";dur=2`,
		"type;desc=text/html;dur=0.125",
	} {
		got, problems := Parse([]string{v})
		if len(problems) > 0 {
			t.Fatalf("Parse(%q): %v", v, problems)
		}
		if !checkAgainstStructuredField(t, v, got) {
			t.Errorf("%q was not compared with its RFC 8941 reading", v)
		}
	}
}

// sameMetrics compares metrics, durations to a relative 1e-12: the
// structured-field parser computes decimals its own way.
func sameMetrics(a, b []Metric) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Desc != y.Desc || x.HasDur != y.HasDur || math.Abs(x.Dur-y.Dur) > 1e-12*math.Max(1, math.Abs(x.Dur)) {
			return false
		}
	}
	return true
}

func mustFloat(t *testing.T, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("dur=%q was parsed without a problem but is no number: %v", s, err)
	}
	return v
}

// paramValue is a structured-field parameter value as text or as a
// number; ok is false for the types Server-Timing has no form for
// (booleans, byte sequences, dates, display strings).
func paramValue(v any) (text string, number float64, isNumber, ok bool) {
	switch v := v.(type) {
	case httpsfv.Token:
		return string(v), 0, false, true
	case string:
		return v, 0, false, true
	case int64:
		return "", float64(v), true, true
	case float64:
		return "", v, true, true
	}
	return "", 0, false, false
}

// repeatsParameter reports whether some metric of value names a parameter
// twice (case-insensitively): RFC 8941 keeps the last, Server-Timing the
// first.
func repeatsParameter(value string) bool {
	for elem := range splitElements(value) {
		seen := map[string]bool{}
		first := true
		for part := range splitOutsideQuotes(elem, ';') {
			if first {
				first = false
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			name = strings.ToLower(trimOWS(name))
			if seen[name] {
				return true
			}
			seen[name] = true
		}
	}
	return false
}
