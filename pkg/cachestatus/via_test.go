package cachestatus

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Via headers as Traffic Server 9.2 writes them, short (insert_response_via_str 1
// and 2) and verbose (3), and behind or in front of other proxies.
func TestTrafficServerVia(t *testing.T) {
	const ats = "http/1.1 edge1 (ApacheTrafficServer/9.2.5 "
	tests := []struct {
		name       string
		via        string
		want       Status
		wantSource string
		wantLayers []string
	}{
		{name: "miss, written", via: ats + "[cMsSfW])", want: MISS, wantSource: "Via", wantLayers: []string{"edge1=MISS"}},
		{name: "fresh hit", via: ats + "[cHs f ])", want: HIT, wantSource: "Via"},
		{name: "RAM hit", via: ats + "[cRs f ])", want: HIT, wantSource: "Via"},
		{name: "read-while-write hit", via: ats + "[cWs f ])", want: HIT, wantSource: "Via"},
		{name: "not acceptable", via: ats + "[cAsSfW])", want: MISS, wantSource: "Via"},
		{name: "stale, origin sent a new copy", via: ats + "[cSsSfU])", want: EXPIRED, wantSource: "Via"},
		{name: "stale, origin answered 304", via: ats + "[cSsNfU])", want: REVALIDATED, wantSource: "Via"},
		{name: "stale, origin failed", via: ats + "[cSsEf ])", want: STALE, wantSource: "Via"},
		{name: "no lookup", via: ats + "[c s f ])", want: BYPASS, wantSource: "Via"},
		{name: "verbose miss", via: "http/1.1 edge1[0A0B0C0D] (ApacheTrafficServer/9.2.5 [uScMsSfWpSeN:t cCMi p sS])", want: MISS, wantSource: "Via", wantLayers: []string{"edge1=MISS"}},
		{name: "verbose hit", via: ats + "[uScHs f p eN:t cCHi p s ])", want: HIT, wantSource: "Via"},
		{name: "brackets optional closing paren", via: "http/1.1 edge1 (ApacheTrafficServer/9.2.5 [cHs f ]", want: HIT, wantSource: "Via"},
		{name: "parent miss, child hit", via: "http/1.1 parent (ApacheTrafficServer/9.2.5 [cMsSfW]), http/1.1 child (ApacheTrafficServer/9.2.5 [cHs f ])", want: HIT, wantSource: "Via", wantLayers: []string{"parent=MISS", "child=HIT"}},
		{name: "another proxy in front says nothing", via: ats + "[cHs f ]), 1.1 lb.example.net", want: UNKNOWN},
		{name: "another proxy behind", via: "1.1 varnish (Varnish/7.1), " + ats + "[cMsSfW])", want: MISS, wantSource: "Via", wantLayers: []string{"varnish=UNKNOWN", "edge1=MISS"}},
		{name: "without codes", via: ats + ")", want: UNKNOWN},
		{name: "codes without lookup", via: ats + "[uS])", want: UNKNOWN},
		{name: "unknown lookup code", via: ats + "[cZs f ])", want: UNKNOWN},
		{name: "unterminated brackets", via: ats + "[cHs f", want: UNKNOWN},
		{name: "not traffic server", via: "1.1 varnish (Varnish/7.1) [cHs f ]", want: UNKNOWN},
		{name: "google", via: "1.1 google", want: UNKNOWN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Via": {tt.via}}
			got := Detect(h, Options{})
			if got.Status != tt.want || got.Source != tt.wantSource {
				t.Errorf("Detect(Via: %s) = %s from %q, want %s from %q", tt.via, got.Status, got.Source, tt.want, tt.wantSource)
			}
			if tt.wantLayers != nil {
				if gl := layerStrings(got.Layers); !slices.Equal(gl, tt.wantLayers) {
					t.Errorf("Layers = %q, want %q", gl, tt.wantLayers)
				}
			}
			checkResult(t, h, got)
		})
	}
}

func TestTrafficServerViaYieldsToBetterHeaders(t *testing.T) {
	via := "Via: http/1.1 edge1 (ApacheTrafficServer/9.2.5 [cMsSfW])"
	for _, tc := range []struct {
		other      string
		want       Status
		wantSource string
	}{
		{"X-Cache: hit-fresh", HIT, "X-Cache"}, // xdebug
		{"X-Varnish: 5 3", HIT, "X-Varnish"},   // a Varnish in front
		{"Age: 30", MISS, "Via"},               // Via's codes are more precise than Age
		{"Cache-Status: edge; fwd=stale", EXPIRED, "Cache-Status"},
	} {
		got := Detect(header(via, tc.other, atsSrv), Options{})
		if got.Status != tc.want || got.Source != tc.wantSource {
			t.Errorf("with %q: Detect = %s from %s, want %s from %s", tc.other, got.Status, got.Source, tc.want, tc.wantSource)
		}
	}
}

func TestSoftwareAndEnableHint(t *testing.T) {
	tests := []struct {
		headers []string
		want    string
		hint    string
	}{
		{[]string{"Server: nginx/1.22.1"}, CDNNginx, "add_header X-Cache-Status $upstream_cache_status"},
		{[]string{"Server: squid/5.7", "X-Squid-Error: ERR_ACCESS_DENIED 0"}, CDNSquid, "reply_header_access"},
		{[]string{"Server: ATS/9.2.5"}, CDNTrafficServer, "insert_response_via_str"},
		{[]string{"Via: http/1.1 edge1 (ApacheTrafficServer/9.2.5)"}, CDNTrafficServer, "xdebug"},
		{[]string{"Server: Varnish", "X-Varnish: 32770"}, CDNVarnish, "X-Varnish"},
		{[]string{"Server: Varnish"}, CDNVarnish, "vcl_deliver"},
		{[]string{"Server: uvicorn"}, "", "--cache-header"},
		{nil, "", "cache_headers"},
	}
	for _, tt := range tests {
		got := Software(header(tt.headers...))
		if got != tt.want {
			t.Errorf("Software(%q) = %q, want %q", tt.headers, got, tt.want)
		}
		if hint := EnableHint(got); !strings.Contains(hint, tt.hint) {
			t.Errorf("EnableHint(%q) = %q, want it to mention %q", got, hint, tt.hint)
		}
	}
}

// FuzzTrafficServerVia checks that no Via value makes the parser panic or
// break Result's invariants, and that a Traffic Server entry always
// yields one layer per entry.
func FuzzTrafficServerVia(f *testing.F) {
	for _, v := range []string{
		"http/1.1 edge1 (ApacheTrafficServer/9.2.5 [cMsSfW])",
		"http/1.1 edge1[0A0B0C0D] (ApacheTrafficServer/9.2.5 [uScMsSfWpSeN:t cCMi p sS])",
		"1.1 varnish (Varnish/7.1), http/1.1 e (ApacheTrafficServer/9 [cHs f ])",
		"http/1.1 e (ApacheTrafficServer [c",
		"(ApacheTrafficServer)[",
		"ApacheTrafficServer ]c[",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		layers, ok := parseTrafficServerVia(v)
		if !ok {
			if layers != nil {
				t.Errorf("parseTrafficServerVia(%q) failed with layers", v)
			}
			return
		}
		if len(layers) == 0 || len(layers) > maxLayers {
			t.Fatalf("parseTrafficServerVia(%q) = %d layers, want 1..%d", v, len(layers), maxLayers)
		}
		for i, l := range layers {
			if !l.Status.Valid() || l.Raw == "" {
				t.Errorf("layer %d = %+v: invalid status or empty Raw", i, l)
			}
		}
		h := http.Header{"Via": {v}}
		checkResult(t, h, Detect(h, Options{}))
	})
}
