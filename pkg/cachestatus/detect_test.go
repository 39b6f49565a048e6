package cachestatus

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// layerStrings renders layers as "NAME=STATUS" ("STATUS" when unnamed).
func layerStrings(layers []Layer) []string {
	out := make([]string, len(layers))
	for i, l := range layers {
		if l.Name == "" {
			out[i] = string(l.Status)
			continue
		}
		out[i] = l.Name + "=" + string(l.Status)
	}
	return out
}

func TestDetectCatalog(t *testing.T) {
	for _, tc := range catalog {
		t.Run(tc.name, func(t *testing.T) {
			h := header(tc.headers...)
			got := Detect(h, Options{ExtraHeaders: tc.extra})
			if got.Status != tc.wantStatus {
				t.Errorf("Status = %s, want %s (result %+v)", got.Status, tc.wantStatus, got)
			}
			if got.Source != tc.wantSource {
				t.Errorf("Source = %q, want %q", got.Source, tc.wantSource)
			}
			if got.CDN != tc.wantCDN {
				t.Errorf("CDN = %q, want %q", got.CDN, tc.wantCDN)
			}
			if tc.wantLayers != nil {
				if gl := layerStrings(got.Layers); !slices.Equal(gl, tc.wantLayers) {
					t.Errorf("Layers = %q, want %q", gl, tc.wantLayers)
				}
			}
			checkResult(t, h, got)
		})
	}
}

// checkResult asserts what holds for every Result, whatever the headers.
func checkResult(t *testing.T, h http.Header, got Result) {
	t.Helper()
	if !got.Status.Valid() {
		t.Fatalf("Status %q is not one of %v", got.Status, All())
	}
	if got.Layers == nil {
		t.Errorf("Layers is nil, want an empty list at least")
	}
	if n := len(got.Layers); n > 0 && got.Layers[n-1].Status != got.Status {
		t.Errorf("last layer status = %s, want Status %s", got.Layers[n-1].Status, got.Status)
	}
	for i, l := range got.Layers {
		if !l.Status.Valid() {
			t.Errorf("layer %d status %q is not valid", i, l.Status)
		}
	}
	if got.Status == UNKNOWN {
		if got.Source != "" || got.Raw != "" || len(got.Layers) != 0 {
			t.Errorf("UNKNOWN with Source %q, Raw %q, %d layers; want all empty", got.Source, got.Raw, len(got.Layers))
		}
		return
	}
	if got.Source == "" || len(got.Layers) == 0 {
		t.Errorf("status %s with Source %q and %d layers; want both set", got.Status, got.Source, len(got.Layers))
	}
	if want := strings.TrimSpace(strings.Join(h.Values(got.Source), ", ")); got.Raw != want {
		t.Errorf("Raw = %q, want the %s value %q", got.Raw, got.Source, want)
	}
}

func TestDetectAge(t *testing.T) {
	tests := []struct {
		age  []string
		want string // "nil" or the number
	}{
		{nil, "nil"},
		{[]string{"0"}, "0"},
		{[]string{" 42 "}, "42"},
		{[]string{"120", "130"}, "120"},
		{[]string{"-1"}, "nil"},
		{[]string{"1.5"}, "nil"},
		{[]string{""}, "nil"},
		{[]string{"99999999999999999999999"}, "2147483648"},
	}
	for _, tc := range tests {
		h := http.Header{}
		for _, a := range tc.age {
			h.Add("Age", a)
		}
		res := Detect(h, Options{})
		got := "nil"
		if res.AgeS != nil {
			got = fmt.Sprint(*res.AgeS)
		}
		if got != tc.want {
			t.Errorf("Age %q: AgeS = %s, want %s", tc.age, got, tc.want)
		}
	}
}

func TestResultJSON(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{
			name: "unknown keeps an empty layer list",
			want: `{"status":"UNKNOWN","source":"","layers":[],"age_s":null}`,
		},
		{
			name:    "layers and detail",
			headers: []string{"Cache-Status: Souin; hit; ttl=10", "Age: 5", caddySrv},
			want:    `{"status":"HIT","source":"Cache-Status","raw":"Souin; hit; ttl=10","layers":[{"name":"Souin","status":"HIT","raw":"Souin; hit; ttl=10","detail":{"hit":"true","ttl":"10"}}],"age_s":5,"cdn":"souin"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(Detect(header(tc.headers...), Options{}))
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if got := string(b); got != tc.want {
				t.Errorf("JSON =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	got := Headers()
	for _, name := range []string{"Cf-Cache-Status", "Cache-Status", "X-Cache", "X-Varnish", "Age"} {
		if !slices.Contains(got, name) {
			t.Errorf("Headers() = %q, missing %q", got, name)
		}
	}
	got[0] = "changed"
	if Headers()[0] == "changed" {
		t.Errorf("Headers() shares its slice with the caller")
	}
}

// benchHeaders is a realistic mix of responses a site check sees.
var benchHeaders = []http.Header{
	header("Cf-Cache-Status: HIT", cfRay, "Age: 1200", "Server: cloudflare", "Cache-Control: public, max-age=3600", "Content-Type: text/html; charset=utf-8"),
	header("X-Cache: MISS, HIT", "X-Served-By: cache-iad2120-IAD, cache-sjc3120-SJC", "X-Cache-Hits: 0, 4", "Via: 1.1 varnish", "Age: 88", "Content-Type: text/html"),
	header("X-Cache: TCP_MISS"+akamaiFrom, "X-Cache-Remote: TCP_HIT"+akamaiFrom, "X-Check-Cacheable: YES", "Content-Type: text/html"),
	header("X-Cache: Hit from cloudfront", cfPop, "X-Amz-Cf-Id: abc", "Age: 31", "Via: 1.1 0a1b.cloudfront.net (CloudFront)"),
	header(`Cache-Status: "Netlify Durable"; hit, "Netlify Edge"; fwd=miss`, netlifyID, "Server: Netlify", "Age: 2"),
	header("X-Varnish: 32773 32771", "Age: 7", "Via: 1.1 varnish (Varnish/7.5)", "Server: uvicorn"),
	header("X-Cache-Status: BYPASS", nginxSrv, "Set-Cookie: sid=x; HttpOnly", "Cache-Control: private"),
	header("Content-Type: text/html", "Server: uvicorn", "Cache-Control: no-store"),
}

func BenchmarkDetect(b *testing.B) {
	opts := Options{ExtraHeaders: []string{"X-Site-Cache"}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = Detect(benchHeaders[i%len(benchHeaders)], opts)
		i++
	}
}

func BenchmarkDetectVendorHeader(b *testing.B) {
	h := benchHeaders[0]
	b.ReportAllocs()
	for b.Loop() {
		_ = Detect(h, Options{})
	}
}

func TestDetectNilHeader(t *testing.T) {
	got := Detect(nil, Options{ExtraHeaders: []string{"X-Site-Cache", " ", "bad name"}})
	if got.Status != UNKNOWN || got.Source != "" || got.CDN != "" || got.AgeS != nil {
		t.Errorf("Detect(nil) = %+v, want UNKNOWN with nothing else set", got)
	}
	checkResult(t, nil, got)
}
