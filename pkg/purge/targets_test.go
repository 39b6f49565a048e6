package purge

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "https://www.example.com/a", want: "https://www.example.com/a"},
		{in: "HTTPS://WWW.Example.COM/Blog/Post-1", want: "https://www.example.com/Blog/Post-1"},
		{in: "https://www.example.com:443/a", want: "https://www.example.com/a"},
		{in: "http://www.example.com:80/a", want: "http://www.example.com/a"},
		{in: "http://www.example.com:443/a", want: "http://www.example.com:443/a"},
		{in: "https://www.example.com:8443/a", want: "https://www.example.com:8443/a"},
		{in: "https://www.example.com", want: "https://www.example.com/"},
		{in: "  https://www.example.com/a?b=1&a=2#frag ", want: "https://www.example.com/a?b=1&a=2"},
		{in: "https://www.example.com/a?", want: "https://www.example.com/a?"},
		{in: "https://www.example.com/caf%C3%A9/%2F", want: "https://www.example.com/caf%C3%A9/%2F"},
		{in: "http://[::1]:80/x", want: "http://[::1]/x"},
		{in: "http://127.0.0.1:6081/", want: "http://127.0.0.1:6081/"},
		{in: "ftp://www.example.com/a", wantErr: "not an http or https URL"},
		{in: "/blog/post-1", wantErr: "not an http or https URL"},
		{in: "www.example.com/a", wantErr: "not an http or https URL"},
		{in: "https:///a", wantErr: "has no host"},
		{in: "https://user:secret@www.example.com/a", wantErr: "carries user credentials"},
		{in: "https://www.example.com:x/a", wantErr: "not a valid URL"},
		{in: "https://www.exa mple.com/a", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		got, err := NormalizeURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NormalizeURL(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("NormalizeURL(%q) error %q repeats the password", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"https://www.example.com/a", "HTTP://Example.COM:80/A?q=1#x", "https://[::1]:443/",
		"http://127.0.0.1:6081/blog/post-1", "https://www.example.com/caf%C3%A9?", "https:///x", "mailto:a@b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeURL(raw)
		if err != nil {
			return
		}
		again, err := NormalizeURL(got)
		if err != nil {
			t.Fatalf("NormalizeURL(%q) = %q, which does not normalize again: %v", raw, got, err)
		}
		if again != got {
			t.Fatalf("NormalizeURL is not idempotent: %q -> %q -> %q", raw, got, again)
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") {
			t.Fatalf("NormalizeURL(%q) = %q, want an http(s) URL", raw, got)
		}
	})
}

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

func TestResolveURLWithoutBase(t *testing.T) {
	_, err := ResolveURL("/a", "")
	if err == nil || !strings.Contains(err.Error(), "no base_url") {
		t.Fatalf("ResolveURL(/a, \"\") error = %v, want one about base_url", err)
	}
	got, err := ResolveURL("/b", "http://127.0.0.1:6081/site/")
	if want := "http://127.0.0.1:6081/site/b"; err != nil || got != want {
		t.Fatalf("ResolveURL = %q, %v; want %q", got, err, want)
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

func TestReadTargetsFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{
			name: "comments blanks and crlf",
			in:   "\ufeff# changed pages\r\n/blog/post-1\r\n\r\n  https://www.example.com/about  \n#/skipped\n",
			want: []string{"/blog/post-1", "https://www.example.com/about"},
		},
		{name: "empty", in: "", want: nil},
		{name: "two on a line", in: "/a\n/b /c\n", wantErr: "line 2:"},
		{name: "not a url", in: "# x\n\nwww.example.com/a\n", wantErr: "line 3:"},
		{name: "bad url", in: "/a\nftp://x/y\n", wantErr: "line 2: \"ftp://x/y\" is not an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadTargetsFile(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadTargetsFile() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadTargetsFile() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzReadTargetsFile(f *testing.F) {
	f.Add("# changed\n/blog/post-1\nhttps://www.example.com/a?x=1\n")
	f.Add("\ufeff/a\r\n\r\n#c\n")
	f.Add("/a /b\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ReadTargetsFile(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, line := range got {
			if line == "" || strings.HasPrefix(line, "#") || strings.ContainsAny(line, " \t\n") {
				t.Fatalf("ReadTargetsFile(%q) returned %q", in, line)
			}
		}
	})
}
