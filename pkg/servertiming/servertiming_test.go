package servertiming

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func dur(v float64) *float64 { return &v }

// m is a metric with a duration.
func m(name string, d float64, desc string) Metric {
	return Metric{Name: name, Dur: d, HasDur: true, Desc: desc}
}

// named is a metric without a duration.
func named(name, desc string) Metric { return Metric{Name: name, Desc: desc} }

func TestParseCDNForms(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []Metric
	}{
		{"cloudflare miss", []string{`cfCacheStatus;desc="MISS", cfEdge;dur=14,cfOrigin;dur=212`},
			[]Metric{named("cfCacheStatus", "MISS"), m("cfEdge", 14, ""), m("cfOrigin", 212, "")}},
		{"cloudflare hit with worker", []string{`cfCacheStatus;desc="HIT"`, `cfEdge;dur=3,cfOrigin;dur=0`, `cfWorker;dur=1.75`},
			[]Metric{named("cfCacheStatus", "HIT"), m("cfEdge", 3, ""), m("cfOrigin", 0, ""), m("cfWorker", 1.75, "")}},
		{"cloudflare L4 with a query-string description", []string{`cfL4;desc="?proto=TCP&rtt=13312&min_rtt=12887&rtt_var=5014&sent=6&recv=7&lost=0&retrans=0&sent_bytes=3026&recv_bytes=731&delivery_rate=218224&cwnd=254&unsent_bytes=0&cid=0f8ed4a2c1d3e5f6&ts=101&x=0"`},
			[]Metric{named("cfL4", "?proto=TCP&rtt=13312&min_rtt=12887&rtt_var=5014&sent=6&recv=7&lost=0&retrans=0&sent_bytes=3026&recv_bytes=731&delivery_rate=218224&cwnd=254&unsent_bytes=0&cid=0f8ed4a2c1d3e5f6&ts=101&x=0")}},
		{"akamai, spaces after semicolons", []string{"cdn-cache; desc=MISS", "edge; dur=15", "origin; dur=230"},
			[]Metric{named("cdn-cache", "MISS"), m("edge", 15, ""), m("origin", 230, "")}},
		{"akamai in one line", []string{"cdn-cache; desc=HIT, edge; dur=1"},
			[]Metric{named("cdn-cache", "HIT"), m("edge", 1, "")}},
		{"cloudfront miss", []string{`cdn-upstream-layer;desc="EDGE",cdn-upstream-dns;dur=0,cdn-upstream-connect;dur=69,cdn-upstream-fbl;dur=1044,cdn-cache-miss,cdn-pop;desc="IAD89-C3",cdn-rid;desc="K2vZ1Q0cO1Ue4w8F3yXvZ3aWzR0zQk4Y3yU2pO1q0Ww=="`},
			[]Metric{named("cdn-upstream-layer", "EDGE"), m("cdn-upstream-dns", 0, ""), m("cdn-upstream-connect", 69, ""), m("cdn-upstream-fbl", 1044, ""),
				named("cdn-cache-miss", ""), named("cdn-pop", "IAD89-C3"), named("cdn-rid", "K2vZ1Q0cO1Ue4w8F3yXvZ3aWzR0zQk4Y3yU2pO1q0Ww==")}},
		{"cloudfront hit", []string{`cdn-cache-hit,cdn-pop;desc="FRA56-P5",cdn-hit-layer;desc="REC",cdn-downstream-fbl;dur=2`},
			[]Metric{named("cdn-cache-hit", ""), named("cdn-pop", "FRA56-P5"), named("cdn-hit-layer", "REC"), m("cdn-downstream-fbl", 2, "")}},
		{"cloudfront refresh", []string{"cdn-cache-refresh, cdn-upstream-fbl;dur=88"},
			[]Metric{named("cdn-cache-refresh", ""), m("cdn-upstream-fbl", 88, "")}},
		{"origin database time with a query count", []string{`db;dur=12.4;desc="3 queries", app;dur=31.0`},
			[]Metric{m("db", 12.4, "3 queries"), m("app", 31, "")}},
		{"the specification's example, header and trailer", []string{"miss, db;dur=53, app;dur=47.2", "customView, dc;desc=atl", `cache;desc="Cache Read";dur=23.2`, "total;dur=123.4"},
			[]Metric{named("miss", ""), m("db", 53, ""), m("app", 47.2, ""), named("customView", ""), named("dc", "atl"), m("cache", 23.2, "Cache Read"), m("total", 123.4, "")}},
		{"quoted comma and escaped quote", []string{`db;desc="say \"hi\", then go";dur=2`},
			[]Metric{m("db", 2, `say "hi", then go`)}},
		{"first dur and desc count; names of parameters are case-insensitive", []string{`db;DUR=3;dur=4;Desc=a;desc=b;unknown=x`},
			[]Metric{m("db", 3, "a")}},
		{"number forms", []string{"a;dur=.5, b;dur=5., c;dur=+3, d;dur=1e3, e;dur=0.000001, f;dur=123456789.123456"},
			[]Metric{m("a", .5, ""), m("b", 5, ""), m("c", 3, ""), m("d", 1000, ""), m("e", 0.000001, ""), m("f", 123456789.123456, "")}},
		{"names starting with a digit and odd token characters", []string{"1st-byte;dur=4, x.y_z~!;dur=1"},
			[]Metric{m("1st-byte", 4, ""), m("x.y_z~!", 1, "")}},
		{"unquoted value with a slash, as browsers read it", []string{"route;desc=/articles/x"},
			[]Metric{named("route", "/articles/x")}},
		{"tabs and empty list elements", []string{"\t, db;\tdur = 7 ,, app ;dur=1\t"},
			[]Metric{m("db", 7, ""), m("app", 1, "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Parse(tt.lines)
			if len(problems) > 0 {
				t.Errorf("problems %v, want none", problems)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    []Metric // the well-formed metrics kept
		problem string   // in the one problem reported
	}{
		{"parameter without a value", "db;dur, app;dur=1", []Metric{m("app", 1, "")}, "parameter dur has no value"},
		{"empty value", "db;dur=", nil, "parameter dur has an empty value"},
		{"no metric name", ";dur=1, app", []Metric{named("app", "")}, "metric name missing"},
		{"quoted metric name", `"db";dur=1`, nil, "metric name missing or not a token"},
		{"space instead of a semicolon", "db dur=1, app;dur=2", []Metric{m("app", 2, "")}, `unexpected 'd' after db`},
		{"unterminated quoted string", `app;dur=1, db;desc="never closed, x;dur=2`, []Metric{m("app", 1, "")}, "unterminated quoted string"},
		{"backslash at the end", `db;desc="a\`, nil, "unterminated quoted string"},
		{"unquoted value with a space", "db;desc=two words", nil, `unquoted value "two" followed by "words"`},
		{"trailing semicolon", "db;dur=1;", nil, "parameter name missing"},
		{"control character in a quoted string", "db;desc=\"a\x01b\"", nil, `character '\x01' not allowed in a quoted string`},
		{"quote inside an unquoted value", `db;desc=a"b"`, nil, `character '"' not allowed in an unquoted value`},
		{"dur not a number keeps the metric", "db;dur=abc;desc=x", []Metric{named("db", "x")}, "dur=abc is not a number"},
		{"NaN", "db;dur=NaN", []Metric{named("db", "")}, "dur=NaN is not a number"},
		{"hexadecimal", "db;dur=0x10", []Metric{named("db", "")}, "dur=0x10 is not a number"},
		{"underscores", "db;dur=1_000", []Metric{named("db", "")}, "dur=1_000 is not a number"},
		{"exponent without digits", "db;dur=1e", []Metric{named("db", "")}, "dur=1e is not a number"},
		{"negative", "db;dur=-5", []Metric{named("db", "")}, "dur=-5 is negative"},
		{"infinite", "db;dur=1e999", []Metric{named("db", "")}, "dur=1e999 is out of range"},
		{"an invalid first dur wins over a valid second", "db;dur=x;dur=2", []Metric{named("db", "")}, "dur=x is not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := Parse([]string{tt.line})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) metrics\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
			if len(problems) != 1 || !strings.Contains(problems[0].Reason, tt.problem) {
				t.Errorf("Parse(%q) problems = %v, want one containing %q", tt.line, problems, tt.problem)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	long := "db;desc=\"" + strings.Repeat("x", MaxFieldBytes) + "\""
	got, problems := Parse([]string{long, "app;dur=1"})
	if !reflect.DeepEqual(got, []Metric{m("app", 1, "")}) || len(problems) != 1 || !strings.Contains(problems[0].Reason, "not read") {
		t.Errorf("an oversized line: got %v, problems %v; want it skipped and the next line read", got, problems)
	}
	if n := len(problems[0].Metric); n > 84 {
		t.Errorf("problem quotes %d bytes, want it clipped", n)
	}
	many := strings.TrimSuffix(strings.Repeat("a;dur=1,", MaxMetrics+5), ",")
	got, problems = Parse([]string{many})
	if len(got) != MaxMetrics || len(problems) != 1 {
		t.Errorf("%d metrics: kept %d with %d problem(s), want %d and one", MaxMetrics+5, len(got), len(problems), MaxMetrics)
	}
}

func TestSet(t *testing.T) {
	h := http.Header{}
	h.Add("Server-Timing", `db;dur=1.5;desc="2 queries", cfOrigin;dur=20`)
	h.Add("Server-Timing", `db;dur=2.25, cdn-cache-hit, bad;dur`)
	tr := http.Header{"Server-Timing": {"total;dur=30"}}
	got, problems := FromHeader(h, tr)
	want := Set{
		"db":            {Dur: dur(3.75), Desc: "2 queries", Count: 2, Part: Database},
		"cfOrigin":      {Dur: dur(20), Part: Origin, CDN: "cloudflare"},
		"cdn-cache-hit": {Part: Cache, CDN: "cloudfront"},
		"total":         {Dur: dur(30), Part: Origin},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromHeader\n got %+v\nwant %+v", got, want)
	}
	if len(problems) != 1 {
		t.Errorf("problems = %v, want one (bad;dur)", problems)
	}
	if names := got.Names(); !reflect.DeepEqual(names, []string{"cdn-cache-hit", "cfOrigin", "db", "total"}) {
		t.Errorf("Names() = %v", names)
	}
	if e, ok := got.Lookup("cforigin"); !ok || *e.Dur != 20 {
		t.Errorf("Lookup ignoring case = %+v, %v", e, ok)
	}
	if _, ok := got.Lookup("app"); ok {
		t.Error("Lookup(app) found a metric the set does not have")
	}
	cdn := got.OnlyFromCDN()
	if len(cdn) != 2 || cdn["cfOrigin"].Dur == nil || cdn["db"].Dur != nil {
		t.Errorf("OnlyFromCDN = %+v, want cfOrigin and cdn-cache-hit", cdn)
	}
	if s, p := FromHeader(http.Header{}, nil); s != nil || p != nil {
		t.Errorf("no header: %v %v, want nil", s, p)
	}
	if (Set{"db": {}}).OnlyFromCDN() != nil {
		t.Error("OnlyFromCDN of origin metrics is not nil")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		cdn       string
		part      Part
		aboutPart string
	}{
		{"cfEdge", "cloudflare", Edge, "Cloudflare"},
		{"cfOrigin", "cloudflare", Origin, "origin"},
		{"cfWorker", "cloudflare", Edge, "Worker"},
		{"cfL4", "cloudflare", Network, "connection"},
		{"cfCacheStatus", "cloudflare", Cache, "cache status"},
		{"cdn-cache", "akamai", Cache, "Akamai"},
		{"edge", "akamai", Edge, "Akamai edge"},
		{"origin", "akamai", Origin, "waited on the origin"},
		{"cdn-cache-hit", "cloudfront", Cache, "from its cache"},
		{"cdn-cache-miss", "cloudfront", Cache, "from the origin"},
		{"cdn-cache-refresh", "cloudfront", Cache, "revalidated"},
		{"cdn-upstream-dns", "cloudfront", Origin, "DNS"},
		{"cdn-upstream-connect", "cloudfront", Origin, "connection"},
		{"cdn-upstream-fbl", "cloudfront", Origin, "first-byte"},
		{"cdn-downstream-fbl", "cloudfront", Edge, "first byte"},
		{"cdn-hit-layer", "cloudfront", Cache, "layer"},
		{"cdn-pop", "cloudfront", Info, "point of presence"},
		{"db", "", Database, "database"},
		{"Postgres", "", Database, "database"},
		{"app", "", Origin, "origin"},
		{"cfedge", "", Origin, "origin"}, // CDN names are exact
	}
	for _, tt := range tests {
		k := Classify(tt.name)
		if k.CDN != tt.cdn || k.Part != tt.part || !strings.Contains(k.About, tt.aboutPart) {
			t.Errorf("Classify(%q) = %+v, want cdn %q, part %q, about mentioning %q", tt.name, k, tt.cdn, tt.part, tt.aboutPart)
		}
	}
}
