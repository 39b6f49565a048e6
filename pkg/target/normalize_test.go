package target

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
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
		got, err := Normalize(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Normalize(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("Normalize(%q) error %q repeats the password", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"https://www.example.com/a", "HTTP://Example.COM:80/A?q=1#x", "https://[::1]:443/",
		"http://127.0.0.1:6081/blog/post-1", "https://www.example.com/caf%C3%A9?", "https:///x", "mailto:a@b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Normalize(raw)
		if err != nil {
			return
		}
		again, err := Normalize(got)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not normalize again: %v", raw, got, err)
		}
		if again != got {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", raw, got, again)
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") {
			t.Fatalf("Normalize(%q) = %q, want an http(s) URL", raw, got)
		}
	})
}

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, scheme, want string
		wantErr          bool
	}{
		{in: "WWW.Example.com", want: "www.example.com"},
		{in: "www.example.com:443", scheme: "https", want: "www.example.com"},
		{in: "www.example.com:443", want: "www.example.com:443"},
		{in: "[::1]", want: "[::1]"},
		{in: "", wantErr: true},
		{in: "a b", wantErr: true},
		{in: "a:b:c", wantErr: true},
		{in: "www.example.com:8x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in, tt.scheme)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("NormalizeHost(%q, %q) = %q, %v; want %q, error %v", tt.in, tt.scheme, got, err, tt.want, tt.wantErr)
		}
	}
}
