package cachestatus

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCacheStatus(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []Layer
	}{
		{
			name:  "netlify durable hit, edge miss",
			value: `"Netlify Durable"; hit, "Netlify Edge"; fwd=miss`,
			want: []Layer{
				{Name: "Netlify Durable", Status: HIT, Raw: `"Netlify Durable"; hit`, Detail: map[string]string{"hit": "true"}},
				{Name: "Netlify Edge", Status: MISS, Raw: `"Netlify Edge"; fwd=miss`, Detail: map[string]string{"fwd": "miss"}},
			},
		},
		{
			name:  "squid 6 hit with ttl",
			value: "proxy.example.net;hit;ttl=3540",
			want: []Layer{
				{Name: "proxy.example.net", Status: HIT, Raw: "proxy.example.net;hit;ttl=3540", Detail: map[string]string{"hit": "true", "ttl": "3540"}},
			},
		},
		{
			name:  "souin miss stored with key and detail",
			value: `Souin; fwd=uri-miss; stored; key=GET-https-example.com-/a; detail=DEFAULT`,
			want: []Layer{
				{Name: "Souin", Status: MISS, Raw: `Souin; fwd=uri-miss; stored; key=GET-https-example.com-/a; detail=DEFAULT`, Detail: map[string]string{
					"fwd": "uri-miss", "stored": "true", "key": "GET-https-example.com-/a", "detail": "DEFAULT",
				}},
			},
		},
		{
			name:  "caddy detail as string",
			value: `Souin; fwd=bypass; detail="CANNOT-HANDLE-NO-STORE, private"`,
			want: []Layer{
				{Name: "Souin", Status: BYPASS, Raw: `Souin; fwd=bypass; detail="CANNOT-HANDLE-NO-STORE, private"`, Detail: map[string]string{"fwd": "bypass", "detail": "CANNOT-HANDLE-NO-STORE, private"}},
			},
		},
		{
			name:  "hit with negative ttl is stale",
			value: "ExampleCache; hit; ttl=-412",
			want: []Layer{
				{Name: "ExampleCache", Status: STALE, Raw: "ExampleCache; hit; ttl=-412", Detail: map[string]string{"hit": "true", "ttl": "-412"}},
			},
		},
		{
			name:  "hit with zero ttl is still fresh",
			value: "c; hit; ttl=0",
			want:  []Layer{{Name: "c", Status: HIT, Raw: "c; hit; ttl=0", Detail: map[string]string{"hit": "true", "ttl": "0"}}},
		},
		{
			name:  "fwd=stale with 304 is revalidated",
			value: "ExampleCache; fwd=stale; fwd-status=304",
			want: []Layer{
				{Name: "ExampleCache", Status: REVALIDATED, Raw: "ExampleCache; fwd=stale; fwd-status=304", Detail: map[string]string{"fwd": "stale", "fwd-status": "304"}},
			},
		},
		{
			name:  "fwd=stale with 200 is expired",
			value: "ExampleCache; fwd=stale; fwd-status=200; stored",
			want: []Layer{
				{Name: "ExampleCache", Status: EXPIRED, Raw: "ExampleCache; fwd=stale; fwd-status=200; stored", Detail: map[string]string{"fwd": "stale", "fwd-status": "200", "stored": "true"}},
			},
		},
		{
			name:  "every fwd reason",
			value: "a; fwd=uri-miss, b; fwd=vary-miss, c; fwd=miss, d; fwd=partial, e; fwd=bypass, f; fwd=method, g; fwd=request, h; fwd=stale, i; fwd=future-reason",
			want: []Layer{
				{Name: "a", Status: MISS, Raw: "a; fwd=uri-miss", Detail: map[string]string{"fwd": "uri-miss"}},
				{Name: "b", Status: MISS, Raw: "b; fwd=vary-miss", Detail: map[string]string{"fwd": "vary-miss"}},
				{Name: "c", Status: MISS, Raw: "c; fwd=miss", Detail: map[string]string{"fwd": "miss"}},
				{Name: "d", Status: MISS, Raw: "d; fwd=partial", Detail: map[string]string{"fwd": "partial"}},
				{Name: "e", Status: BYPASS, Raw: "e; fwd=bypass", Detail: map[string]string{"fwd": "bypass"}},
				{Name: "f", Status: BYPASS, Raw: "f; fwd=method", Detail: map[string]string{"fwd": "method"}},
				{Name: "g", Status: BYPASS, Raw: "g; fwd=request", Detail: map[string]string{"fwd": "request"}},
				{Name: "h", Status: EXPIRED, Raw: "h; fwd=stale", Detail: map[string]string{"fwd": "stale"}},
				{Name: "i", Status: MISS, Raw: "i; fwd=future-reason", Detail: map[string]string{"fwd": "future-reason"}},
			},
		},
		{
			name:  "collapsed and unknown parameters kept",
			value: `edge; fwd=miss; collapsed; x-pop=SJC; weight=1.5; sig=:aGk=:`,
			want: []Layer{
				{Name: "edge", Status: MISS, Raw: `edge; fwd=miss; collapsed; x-pop=SJC; weight=1.5; sig=:aGk=:`, Detail: map[string]string{
					"fwd": "miss", "collapsed": "true", "x-pop": "SJC", "weight": "1.5", "sig": "aGk=",
				}},
			},
		},
		{
			name:  "member without hit or fwd",
			value: "origin, edge; hit",
			want: []Layer{
				{Name: "origin", Status: UNKNOWN, Raw: "origin"},
				{Name: "edge", Status: HIT, Raw: "edge; hit", Detail: map[string]string{"hit": "true"}},
			},
		},
		{
			name:  "hit=?0 is not a hit",
			value: "c; hit=?0",
			want:  []Layer{{Name: "c", Status: UNKNOWN, Raw: "c; hit=?0", Detail: map[string]string{"hit": "false"}}},
		},
		{
			name:  "tabs and surrounding spaces",
			value: "  a;hit ,\tb;fwd=miss  ",
			want: []Layer{
				{Name: "a", Status: HIT, Raw: "a;hit", Detail: map[string]string{"hit": "true"}},
				{Name: "b", Status: MISS, Raw: "b;fwd=miss", Detail: map[string]string{"fwd": "miss"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCacheStatus(tc.value)
			if err != nil {
				t.Fatalf("ParseCacheStatus(%q): %v", tc.value, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseCacheStatus(%q) =\n%+v\nwant\n%+v", tc.value, got, tc.want)
			}
		})
	}
}

func TestParseCacheStatusErrors(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string // substring of the error
	}{
		{"empty", "", "empty value"},
		{"blank", "   ", "empty value"},
		{"unterminated string", `"Netlify Edge; hit`, "parse list"},
		{"trailing comma", "a; hit,", "parse list"},
		{"bad parameter", "a; =hit", "parse list"},
		{"non-ASCII name", "caché; hit", "parse list"},
		{"non-ASCII in string", `"caché"; hit`, "parse list"},
		{"integer member", "42; hit", "want a token or string"},
		{"inner list member", "(a b); hit", "inner list"},
		{"hit and fwd together", "c; hit; fwd=miss", "both hit and fwd"},
		{"too long", "c; hit; detail=" + strings.Repeat("x", maxValueLen), "exceeds"},
		{"too many members", strings.Repeat("c; hit, ", maxLayers) + "c; hit", "members exceed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCacheStatus(tc.value)
			if err == nil {
				t.Fatalf("ParseCacheStatus(%q) = %+v, want an error containing %q", tc.value, got, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cache-status: ") {
				t.Errorf("error = %q, want it to start with %q and contain %q", err, "cache-status: ", tc.want)
			}
		})
	}
}
