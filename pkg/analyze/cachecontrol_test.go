package analyze

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func ip(n int) *int { return &n }

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Directives
	}{
		{"empty", "", Directives{}},
		{"only separators", " ,, \t, ", Directives{}},
		{
			"common", "public, max-age=60",
			Directives{Public: true, MaxAge: ip(60), List: []Directive{{Name: "public"}, {Name: "max-age", Value: "60", HasValue: true}}},
		},
		{
			"names are case-insensitive", "Public, MAX-AGE=60, S-MaxAge=120",
			Directives{Public: true, MaxAge: ip(60), SMaxAge: ip(120), List: []Directive{
				{Name: "public"}, {Name: "max-age", Value: "60", HasValue: true}, {Name: "s-maxage", Value: "120", HasValue: true}}},
		},
		{
			"quoted field list with comma", `private="Set-Cookie, x-user", max-age=0`,
			Directives{Private: true, PrivateFields: []string{"Set-Cookie", "X-User"}, MaxAge: ip(0), List: []Directive{
				{Name: "private", Value: "Set-Cookie, x-user", HasValue: true}, {Name: "max-age", Value: "0", HasValue: true}}},
		},
		{
			"unquoted field name does not swallow the next directive", "private=set-cookie,max-age=60",
			Directives{Private: true, PrivateFields: []string{"Set-Cookie"}, MaxAge: ip(60), List: []Directive{
				{Name: "private", Value: "set-cookie", HasValue: true}, {Name: "max-age", Value: "60", HasValue: true}}},
		},
		{
			"no-cache with field and bare no-cache", `no-cache="Set-Cookie", no-cache, s-maxage=300`,
			Directives{NoCache: true, NoCacheFields: []string{"Set-Cookie"}, SMaxAge: ip(300), List: []Directive{
				{Name: "no-cache", Value: "Set-Cookie", HasValue: true}, {Name: "no-cache"}, {Name: "s-maxage", Value: "300", HasValue: true}}},
		},
		{
			"first of repeated max-age wins", "max-age=5, max-age=10",
			Directives{MaxAge: ip(5), List: []Directive{{Name: "max-age", Value: "5", HasValue: true}, {Name: "max-age", Value: "10", HasValue: true}}},
		},
		{
			"malformed max-age keeps the rest", "max-age=abc, private",
			Directives{Private: true, Invalid: []string{"max-age=abc"}, List: []Directive{{Name: "max-age", Value: "abc", HasValue: true}, {Name: "private"}}},
		},
		{
			"negative max-age is malformed", "max-age=-1",
			Directives{Invalid: []string{"max-age=-1"}, List: []Directive{{Name: "max-age", Value: "-1", HasValue: true}}},
		},
		{
			"later valid max-age after a malformed one", "max-age=x, max-age=30",
			Directives{MaxAge: ip(30), Invalid: []string{"max-age=x"}, List: []Directive{{Name: "max-age", Value: "x", HasValue: true}, {Name: "max-age", Value: "30", HasValue: true}}},
		},
		{
			"flag with argument still counts", "no-store=1, public",
			Directives{NoStore: true, Public: true, Invalid: []string{"no-store=1"}, List: []Directive{{Name: "no-store", Value: "1", HasValue: true}, {Name: "public"}}},
		},
		{
			"quoted delta seconds accepted", `max-age="60"`,
			Directives{MaxAge: ip(60), List: []Directive{{Name: "max-age", Value: "60", HasValue: true}}},
		},
		{
			"comma inside quoted extension", `ext="a, b", max-age=3`,
			Directives{MaxAge: ip(3), List: []Directive{{Name: "ext", Value: "a, b", HasValue: true}, {Name: "max-age", Value: "3", HasValue: true}}},
		},
		{
			"escaped quote inside quoted string", `ext="say \"hi\", ok", s-maxage=7`,
			Directives{SMaxAge: ip(7), List: []Directive{{Name: "ext", Value: `say "hi", ok`, HasValue: true}, {Name: "s-maxage", Value: "7", HasValue: true}}},
		},
		{
			"overflowing delta saturates", "max-age=99999999999999999999",
			Directives{MaxAge: ip(maxDelta), List: []Directive{{Name: "max-age", Value: "99999999999999999999", HasValue: true}}},
		},
		{
			"delta directive without value", "s-maxage, public",
			Directives{Public: true, Invalid: []string{"s-maxage"}, List: []Directive{{Name: "s-maxage"}, {Name: "public"}}},
		},
		{
			"whitespace around equals tolerated", "max-age = 60",
			Directives{MaxAge: ip(60), List: []Directive{{Name: "max-age", Value: "60", HasValue: true}}},
		},
		{
			"trailing junk after value", "max-age=60;foo, public",
			Directives{MaxAge: ip(60), Public: true, Invalid: []string{"max-age=60;foo"}, List: []Directive{{Name: "max-age", Value: "60", HasValue: true}, {Name: "public"}}},
		},
		{
			"unterminated quote eats the rest", `ext="open, max-age=3`,
			Directives{Invalid: []string{`ext="open, max-age=3`}, List: []Directive{{Name: "ext", Value: "open, max-age=3", HasValue: true}}},
		},
		{
			"stray text that is not a directive", `=60, "x,y", public`,
			Directives{Public: true, Invalid: []string{"=60", `"x,y"`}, List: []Directive{{Name: "public"}}},
		},
		{
			"every known directive",
			"stale-while-revalidate=30, stale-if-error=86400, immutable, must-revalidate, proxy-revalidate, no-transform, must-understand, no-store",
			Directives{
				StaleWhileRevalidate: ip(30), StaleIfError: ip(86400), Immutable: true, MustRevalidate: true, ProxyRevalidate: true,
				NoTransform: true, MustUnderstand: true, NoStore: true,
				List: []Directive{
					{Name: "stale-while-revalidate", Value: "30", HasValue: true}, {Name: "stale-if-error", Value: "86400", HasValue: true},
					{Name: "immutable"}, {Name: "must-revalidate"}, {Name: "proxy-revalidate"}, {Name: "no-transform"},
					{Name: "must-understand"}, {Name: "no-store"},
				},
			},
		},
		{
			"empty quoted private is unqualified", `private=""`,
			Directives{Private: true, List: []Directive{{Name: "private", Value: "", HasValue: true}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseCacheControl(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCacheControl(%q)\n got  %+v\n want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDirectivesAccessors(t *testing.T) {
	d := ParseCacheControl(`Public, max-age=1, public, x-ext="v", private="Set-Cookie"`)
	if got, want := d.Names(), []string{"max-age", "private", "public", "x-ext"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if got, ok := d.Get("X-EXT"); !ok || got != "v" {
		t.Errorf(`Get("X-EXT") = %q, %v; want "v", true`, got, ok)
	}
	if d.Has("no-store") {
		t.Errorf(`Has("no-store") = true, want false`)
	}
	if got, want := d.PrivateAll(), false; got != want {
		t.Errorf("PrivateAll() = %v, want %v (private names a field)", got, want)
	}
	if got, want := ParseCacheControl("private").PrivateAll(), true; got != want {
		t.Errorf("PrivateAll() for bare private = %v, want %v", got, want)
	}
}

func TestDirectiveString(t *testing.T) {
	tests := []struct {
		in   Directive
		want string
	}{
		{Directive{Name: "public"}, "public"},
		{Directive{Name: "max-age", Value: "60", HasValue: true}, "max-age=60"},
		{Directive{Name: "private", Value: "Set-Cookie, X-User", HasValue: true}, `private="Set-Cookie, X-User"`},
		{Directive{Name: "ext", Value: `a"b\c`, HasValue: true}, `ext="a\"b\\c"`},
		{Directive{Name: "ext", HasValue: true}, `ext=""`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"public, max-age=31536000, immutable",
		"private, no-cache, no-store, must-revalidate, max-age=0",
		"s-maxage=300, stale-while-revalidate=60, stale-if-error=86400",
		`private="Set-Cookie, X-User", max-age=0`,
		"private=set-cookie,max-age=60",
		`no-cache="Set-Cookie"`,
		"max-age=5, max-age=10",
		"max-age=abc, private",
		`ext="say \"hi\", ok"`,
		`ext="open`,
		"max-age=99999999999999999999",
		"=,=,\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseCacheControl(s)
		names := d.Names()
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("Names() = %q, want sorted and distinct", names)
		}
		for _, p := range []*int{d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError} {
			if p != nil && (*p < 0 || *p > maxDelta) {
				t.Fatalf("delta %d out of range for %q", *p, s)
			}
		}
		if d.PrivateAll() && len(d.PrivateFields) > 0 {
			t.Fatalf("PrivateAll with fields %q", d.PrivateFields)
		}
		// Every directive survives a render and re-parse unchanged.
		for _, e := range d.List {
			if e.Name == "" || e.Name != strings.ToLower(e.Name) {
				t.Fatalf("directive name %q not a lower-case token", e.Name)
			}
			back := ParseCacheControl(e.String())
			if len(back.List) != 1 || back.List[0] != e {
				t.Fatalf("render %q of %+v re-parses to %+v", e.String(), e, back.List)
			}
		}
	})
}
