package purge_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cachectl/cachectl/pkg/cachestatus"
	"github.com/cachectl/cachectl/pkg/purge"
)

func TestParseKeyHeader(t *testing.T) {
	tests := []struct {
		in      string
		want    purge.KeyHeader
		wantErr string
	}{
		{"CF-Device-Type: mobile,tablet, desktop", purge.KeyHeader{Name: "CF-Device-Type", Values: []string{"mobile", "tablet", "desktop"}}, ""},
		{"Accept-Language:en", purge.KeyHeader{Name: "Accept-Language", Values: []string{"en"}}, ""},
		{"CF-Device-Type mobile", purge.KeyHeader{}, `expected "Name: value1,value2"`},
		{"Cookie: a", purge.KeyHeader{}, "never holds Cookie or Authorization"},
		{"authorization: Bearer x", purge.KeyHeader{}, "never holds Cookie or Authorization"},
		{"Host: www.example.com", purge.KeyHeader{}, "the URL names the host"},
		{"Bad Name: x", purge.KeyHeader{}, `found header name "Bad Name"`},
		{"X-Lang: en,,de", purge.KeyHeader{}, `found value "", expected a non-empty header value`},
		{"X-Lang: en\x01", purge.KeyHeader{}, "without control characters"},
	}
	for _, tt := range tests {
		got, err := purge.ParseKeyHeader(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseKeyHeader(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseKeyHeader(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestMergeKeyHeaders(t *testing.T) {
	cfg := []purge.KeyHeader{{Name: "cf-device-type", Values: []string{"mobile", "desktop"}}, {Name: "accept-language", Values: []string{"en"}}}
	flags := []purge.KeyHeader{{Name: "Accept-Language", Values: []string{"de", "en"}}, {Name: "CF-IPCountry", Values: []string{"US"}}}
	got, err := purge.MergeKeyHeaders(cfg, flags)
	if err != nil {
		t.Fatal(err)
	}
	want := []purge.KeyHeader{
		{Name: "Accept-Language", Values: []string{"en", "de"}},
		{Name: "CF-Device-Type", Values: []string{"mobile", "desktop"}},
		{Name: "CF-IPCountry", Values: []string{"US"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeKeyHeaders = %+v, want %+v", got, want)
	}
	many := []purge.KeyHeader{
		{Name: "A", Values: []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{Name: "B", Values: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}},
	}
	if _, err := purge.MergeKeyHeaders(many); err == nil || !strings.Contains(err.Error(), "72 variants") || !strings.Contains(err.Error(), "64 allowed") {
		t.Errorf("MergeKeyHeaders of 72 variants error = %v, want a refusal naming 72 and 64", err)
	}
}

// TestWithKeyHeaders: every URL becomes one target per combination, the
// first header varying slowest; tags and prefixes stay as they are.
func TestWithKeyHeaders(t *testing.T) {
	hs, err := purge.MergeKeyHeaders([]purge.KeyHeader{
		{Name: "CF-Device-Type", Values: []string{"mobile", "desktop"}},
		{Name: "Accept-Language", Values: []string{"en", "de"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := []purge.Target{
		{Kind: purge.KindURL, Value: "https://www.example.com/a", RelatedTo: "https://www.example.com/x"},
		{Kind: purge.KindTag, Value: "blog"},
	}
	got := purge.WithKeyHeaders(in, hs)
	var lines []string
	for _, t := range got {
		lines = append(lines, string(t.Kind)+" "+t.Value+" "+purge.FormatHeaders(t.Headers)+" "+t.RelatedTo)
	}
	want := []string{
		"url https://www.example.com/a Accept-Language: en; CF-Device-Type: mobile https://www.example.com/x",
		"url https://www.example.com/a Accept-Language: en; CF-Device-Type: desktop https://www.example.com/x",
		"url https://www.example.com/a Accept-Language: de; CF-Device-Type: mobile https://www.example.com/x",
		"url https://www.example.com/a Accept-Language: de; CF-Device-Type: desktop https://www.example.com/x",
		"tag blog  ",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("WithKeyHeaders:\n got %q\nwant %q", lines, want)
	}
	if got := purge.WithKeyHeaders(in, nil); !reflect.DeepEqual(got, in) {
		t.Errorf("WithKeyHeaders without headers = %+v, want the targets unchanged", got)
	}
}

// TestVariantsPurgedAndVerified: on a cache node that keys on X-Device,
// each variant of a URL is purged by its own PURGE and verified by a probe
// that sends its headers; the records carry the headers.
func TestVariantsPurgedAndVerified(t *testing.T) {
	node := newCacheNode(t)
	node.keyHeader = "X-Device"
	const u = "https://www.example.com/p/1"
	for _, d := range []string{"mobile", "desktop"} {
		node.warmVariant(t, u, map[string]string{"X-Device": d})
	}
	p := newHTTPPurge(t, 0, node)
	targets := purge.WithKeyHeaders([]purge.Target{{Kind: purge.KindURL, Value: u}}, []purge.KeyHeader{{Name: "X-Device", Values: []string{"mobile", "desktop"}}})
	batches, err := purge.Plan(p, targets, false)
	if err != nil {
		t.Fatal(err)
	}
	var out collector
	r := &purge.Runner{Provider: p, Verifier: &nodeGetter{node: node.srv.URL}, Verify: purge.VerifyOptions{Settle: time.Second, Interval: 10 * time.Millisecond}, OnResult: out.add}
	sum, err := r.Run(t.Context(), purge.NewRunInfo("production", p.Name(), ""), batches)
	if err != nil || sum.Err() != nil {
		t.Fatalf("Run() = %+v, %v, %v", sum, err, sum.Err())
	}
	if len(out.recs) != 2 {
		t.Fatalf("%d records, want 2", len(out.recs))
	}
	for _, rec := range out.recs {
		if rec.Headers["X-Device"] == "" || rec.Verify == nil || !rec.Verify.Passed || rec.Verify.Cache.Status != cachestatus.MISS {
			t.Errorf("record %+v (verify %+v), want a variant purged and verified MISS", rec, rec.Verify)
		}
	}
	if got := node.totalPurges(); got != 2 {
		t.Errorf("node received %d purges, want one per variant", got)
	}
}
