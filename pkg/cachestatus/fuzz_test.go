package cachestatus

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzDetect feeds Detect arbitrary header sets, written as "Name: value"
// lines, and arbitrary extra header names (comma-separated).
func FuzzDetect(f *testing.F) {
	for _, tc := range catalog {
		f.Add(strings.Join(tc.headers, "\n"), strings.Join(tc.extra, ","))
	}
	f.Add("Cache-Status: a;hit\nX-Cache: HIT\nX-Varnish: 1 2\nAge: 9", "Cache-Status")
	f.Add("X-Cache: \xff\xfe\nAge: \x00", "\xff")
	f.Fuzz(func(t *testing.T, lines, extra string) {
		h := http.Header{}
		for l := range strings.SplitSeq(lines, "\n") {
			name, value, _ := strings.Cut(l, ":")
			h.Add(name, value)
		}
		var opts Options
		if extra != "" {
			opts.ExtraHeaders = strings.Split(extra, ",")
		}
		got := Detect(h, opts)
		checkResult(t, h, got)
		if again := Detect(h, opts); !reflect.DeepEqual(again, got) {
			t.Errorf("Detect is not deterministic:\n%+v\n%+v", got, again)
		}
	})
}

// FuzzParseCacheStatus checks that no Cache-Status value makes the parser
// panic or return layers that break Result's invariants.
func FuzzParseCacheStatus(f *testing.F) {
	for _, tc := range catalog {
		for _, l := range tc.headers {
			if name, value, _ := strings.Cut(l, ":"); strings.EqualFold(name, "Cache-Status") {
				f.Add(strings.TrimSpace(value))
			}
		}
	}
	for _, v := range []string{
		`"Netlify Durable"; hit, "Netlify Edge"; fwd=miss`,
		"ExampleCache; fwd=stale; fwd-status=304",
		"c; hit; ttl=-1",
		`Souin; fwd=bypass; detail="a, b"`,
		"edge; sig=:aGk=:; w=1.5; d=@1659578233; s=%\"caf%c3%a9\"",
		"(a b); hit",
		`"unterminated`,
		"",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		layers, err := ParseCacheStatus(value)
		if err != nil {
			if layers != nil {
				t.Errorf("ParseCacheStatus(%q) returned layers with error %v", value, err)
			}
			return
		}
		if len(layers) == 0 || len(layers) > maxLayers {
			t.Fatalf("ParseCacheStatus(%q) = %d layers, want 1..%d", value, len(layers), maxLayers)
		}
		for i, l := range layers {
			if !l.Status.Valid() {
				t.Errorf("layer %d status %q is not valid", i, l.Status)
			}
			if l.Raw == "" {
				t.Errorf("layer %d has an empty Raw", i)
			}
		}
	})
}
