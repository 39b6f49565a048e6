package purge

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestInputTargets(t *testing.T) {
	const base = "https://www.example.com"
	tests := []struct {
		name    string
		in      Input
		want    []Target
		wantErr string
	}{
		{name: "nothing", in: Input{}, wantErr: "no target given"},
		{name: "paths and urls", in: Input{URLs: []string{"/a", "https://WWW.example.com/b?x=1"}}, want: []Target{
			{Kind: KindURL, Value: "https://www.example.com/a"},
			{Kind: KindURL, Value: "https://www.example.com/b?x=1"},
		}},
		{name: "everything", in: Input{Everything: true}, want: []Target{{Kind: KindEverything}}},
		{name: "everything and more", in: Input{Everything: true, Tags: []string{"blog"}}, wantErr: "cannot be combined"},
		{name: "tag prefix host", in: Input{Tags: []string{"blog"}, Prefixes: []string{"/blog/", "https://WWW.example.com/docs/"}, Hosts: []string{"WWW.Example.com"}}, want: []Target{
			{Kind: KindTag, Value: "blog"},
			{Kind: KindPrefix, Value: "www.example.com/blog/"},
			{Kind: KindPrefix, Value: "www.example.com/docs/"},
			{Kind: KindHost, Value: "www.example.com"},
		}},
		{name: "tag with space", in: Input{Tags: []string{"a b"}}, wantErr: "one word"},
		{name: "host with scheme", in: Input{Hosts: []string{"https://www.example.com"}}, wantErr: "must be a host name"},
		{name: "prefix with query", in: Input{Prefixes: []string{"/a?x=1"}}, wantErr: "query string"},
		{name: "bad url", in: Input{URLs: []string{"ftp://x/y"}}, wantErr: "not an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Targets(base)
			if tt.wantErr != "" {
				var ie *InputError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ie) {
					t.Fatalf("Targets() error = %v, want an InputError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Targets() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func urls(vs ...string) []Target {
	out := make([]Target, len(vs))
	for i, v := range vs {
		out[i] = Target{Kind: KindURL, Value: v}
	}
	return out
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name     string
		in       []Target
		variants bool
		want     []Target
	}{
		{
			name: "duplicates dropped, first kept",
			in:   append(urls("https://a.example/x", "https://a.example/y", "https://a.example/x"), Target{Kind: KindTag, Value: "t"}, Target{Kind: KindTag, Value: "t"}),
			want: append(urls("https://a.example/x", "https://a.example/y"), Target{Kind: KindTag, Value: "t"}),
		},
		{
			name:     "variants of a path",
			in:       urls("https://a.example/x?q=1"),
			variants: true,
			want: []Target{
				{Kind: KindURL, Value: "https://a.example/x?q=1"},
				{Kind: KindURL, Value: "https://a.example/x/?q=1", VariantOf: "https://a.example/x?q=1"},
				{Kind: KindURL, Value: "http://a.example/x?q=1", VariantOf: "https://a.example/x?q=1"},
				{Kind: KindURL, Value: "http://a.example/x/?q=1", VariantOf: "https://a.example/x?q=1"},
			},
		},
		{
			name:     "root has no slash twin; explicit variant stays explicit",
			in:       urls("http://a.example/", "https://a.example/"),
			variants: true,
			want:     urls("http://a.example/", "https://a.example/"),
		},
		{
			name:     "explicit port keeps its scheme",
			in:       urls("http://127.0.0.1:6081/a/"),
			variants: true,
			want: []Target{
				{Kind: KindURL, Value: "http://127.0.0.1:6081/a/"},
				{Kind: KindURL, Value: "http://127.0.0.1:6081/a", VariantOf: "http://127.0.0.1:6081/a/"},
			},
		},
		{
			name:     "tags have no variants",
			in:       []Target{{Kind: KindTag, Value: "blog"}},
			variants: true,
			want:     []Target{{Kind: KindTag, Value: "blog"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Expand(tt.in, tt.variants)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Expand() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestCheckHosts(t *testing.T) {
	allowed := []string{"www.example.com", "*.cdn.example.com", "127.0.0.1:6081"}
	tests := []struct {
		target  Target
		wantErr bool
	}{
		{Target{Kind: KindURL, Value: "https://www.example.com/a"}, false},
		{Target{Kind: KindURL, Value: "https://www.example.com:8443/a"}, false},
		{Target{Kind: KindURL, Value: "https://img.cdn.example.com/a.png"}, false},
		{Target{Kind: KindURL, Value: "https://cdn.example.com/a.png"}, true},
		{Target{Kind: KindURL, Value: "http://127.0.0.1:6081/a"}, false},
		{Target{Kind: KindURL, Value: "http://127.0.0.1:6082/a"}, true},
		{Target{Kind: KindURL, Value: "https://blog.example.org/a"}, true},
		{Target{Kind: KindURL, Value: "https://www.example.com.evil.example/a"}, true},
		{Target{Kind: KindPrefix, Value: "www.example.com/blog/"}, false},
		{Target{Kind: KindPrefix, Value: "example.com/blog/"}, true},
		{Target{Kind: KindHost, Value: "www.example.com"}, false},
		{Target{Kind: KindHost, Value: "example.org"}, true},
		{Target{Kind: KindTag, Value: "blog"}, false},
		{Target{Kind: KindEverything}, false},
	}
	for _, tt := range tests {
		err := CheckHosts("production", []Target{tt.target}, allowed)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckHosts(%v) = %v, want error %v", tt.target, err, tt.wantErr)
		}
	}
}

func TestCheckHostsMessage(t *testing.T) {
	targets := urls("https://www.example.com/ok", "https://blog.example.org/a")
	err := CheckHosts("production", targets, []string{"www.example.com"})
	want := `purge: https://blog.example.org/a is outside environment "production" (allowed hosts: www.example.com); nothing was sent`
	if err == nil || err.Error() != want {
		t.Fatalf("CheckHosts() error = %v\nwant %s", err, want)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("CheckHosts() error is %T, want *InputError", err)
	}
}
