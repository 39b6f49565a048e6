package watch

import (
	"net/http"
	"reflect"
	"testing"
)

func TestServerTimings(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  map[string]float64
	}{
		{"none", nil, nil},
		{"W3C example", []string{`miss, db;dur=53, app;dur=47.2`}, map[string]float64{"db": 53, "app": 47.2}},
		{"description with a comma and a semicolon", []string{`cache;desc="Cache, Read; fast";dur=23.2, db;dur=1`}, map[string]float64{"cache": 23.2, "db": 1}},
		{"escaped quote in a description", []string{`edge;desc="a \"quoted\", word";dur=4`}, map[string]float64{"edge": 4}},
		{"several header lines", []string{`edge;dur=2`, `origin;dur=150`}, map[string]float64{"edge": 2, "origin": 150}},
		{"first of a repeated name", []string{`db;dur=5, db;dur=9`}, map[string]float64{"db": 5}},
		{"names are case-insensitive", []string{`DB;DUR=7`}, map[string]float64{"db": 7}},
		{"spaces around", []string{` total ; dur = 12.5 `}, map[string]float64{"total": 12.5}},
		{"quoted duration", []string{`app;dur="8"`}, map[string]float64{"app": 8}},
		{"no dur", []string{`cdn-cache;desc=HIT`}, nil},
		{"negative, NaN, infinite, huge or not a number", []string{`a;dur=-1, b;dur=NaN, c;dur=Inf, d;dur=1e300, e;dur=fast`}, nil},
		{"empty entries", []string{`,, ;dur=3,`}, nil},
		{"unterminated quote", []string{`a;desc="open, b;dur=3`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("Server-Timing", l)
			}
			if got := serverTimings(h); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("serverTimings(%q) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

// FuzzServerTimings: any header value parses without panicking into
// finite, non-negative durations under lower-case names.
func FuzzServerTimings(f *testing.F) {
	for _, s := range []string{`miss, db;dur=53, app;dur=47.2`, `cache;desc="Cache Read";dur=23.2`, `a;desc="\"`, `;;,,=`, `x;dur=1e308`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for name, ms := range serverTimings(http.Header{"Server-Timing": {v}}) {
			if name == "" || !(ms >= 0 && ms <= maxTimingMs) {
				t.Fatalf("serverTimings(%q): %q = %v", v, name, ms)
			}
		}
	})
}
