package target

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	env := &Env{Name: "production", BaseURL: "https://www.example.com/site"}
	tests := []struct {
		env     *Env
		in      string
		want    string
		wantErr string
	}{
		{env, "/a/b?x=1", "https://www.example.com/site/a/b?x=1", ""},
		{env, "/Case/Kept", "https://www.example.com/site/Case/Kept", ""},
		{nil, "https://Other.example.com/x#frag", "https://Other.example.com/x", ""},
		{nil, "/x", "", "no environment was chosen"},
		{env, "//evil.example.com/x", "", "must not start with //"},
		{nil, "ftp://a/b", "", "expected scheme http or https"},
		{nil, "https:///path", "", "no host"},
		{nil, "https://user:pw@a.example/", "", "credentials in URLs are refused"},
		{nil, "   ", "", "empty target"},
		{nil, "www.example.com/x", "", "expected scheme http or https"},
		{&Env{Name: "staging"}, "/x", "", `environment "staging" has no base_url`},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.env, tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("error echoes a password: %v", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Resolve(nil, "/x"); !errors.Is(err, ErrNoEnvironment) {
		t.Errorf("Resolve(nil, /x) error = %v, want ErrNoEnvironment", err)
	}
}

// FuzzResolve: any target against any base URL either resolves to an
// absolute http(s) URL without credentials or fragment, on the base URL's
// host for a path, or fails with a message naming what was expected.
func FuzzResolve(f *testing.F) {
	for _, s := range [][2]string{
		{"https://www.example.com", "/blog/post-1"},
		{"https://www.example.com/base/", "/a?b=c#frag"},
		{"https://www.example.com", "https://www.example.com/a"},
		{"http://127.0.0.1:8080", "/%2F..%2Fetc"},
		{"https://www.example.com", "//evil.example/a"},
		{"https://www.example.com", "https://user:pass@www.example.com/"},
		{"https://www.example.com", "ftp://x/"},
		{"https://[::1]:8443", "/ä/ü?q=%zz"},
		{"::", "/a"},
		{"https://www.example.com", "  "},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, base, target string) {
		env := &Env{Name: "fuzz", BaseURL: base}
		got, err := Resolve(env, target)
		if err != nil {
			if !strings.Contains(err.Error(), "expected") && !strings.Contains(err.Error(), "invalid") {
				t.Fatalf("error %q says neither what is invalid nor what was expected", err)
			}
			return
		}
		u, perr := url.Parse(got)
		if perr != nil {
			t.Fatalf("Resolve(%q, %q) = %q, which does not parse: %v", base, target, got, perr)
		}
		if u.Fragment != "" {
			t.Fatalf("Resolve(%q, %q) = %q keeps a fragment", base, target, got)
		}
		if strings.HasPrefix(strings.TrimSpace(target), "/") {
			b, berr := url.Parse(base)
			if berr != nil {
				t.Fatalf("resolved a path against an unparseable base %q", base)
			}
			if !strings.EqualFold(u.Host, b.Host) {
				t.Fatalf("path %q against %q went to host %q", target, base, u.Host)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Fatalf("Resolve(%q, %q) = %q: want an http(s) URL with a host and no credentials", base, target, got)
		}
	})
}

func TestCanonicalWithoutBase(t *testing.T) {
	_, err := Canonical(&Env{}, "/a")
	if err == nil || !strings.Contains(err.Error(), "no base_url") {
		t.Fatalf("Canonical(/a, \"\") error = %v, want one about base_url", err)
	}
	got, err := Canonical(&Env{BaseURL: "http://127.0.0.1:6081/site/"}, "/b")
	if want := "http://127.0.0.1:6081/site/b"; err != nil || got != want {
		t.Fatalf("Canonical = %q, %v; want %q", got, err, want)
	}
}

func TestCanonical(t *testing.T) {
	env := &Env{BaseURL: "HTTPS://WWW.Example.com:443/"}
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "/Blog/Post-1#top", want: "https://www.example.com/Blog/Post-1"},
		{in: " /caf%C3%A9?q=1 ", want: "https://www.example.com/caf%C3%A9?q=1"},
		{in: "HTTP://Example.COM:80", want: "http://example.com/"},
		{in: "ftp://x/y", wantErr: "not an http or https URL"},
		{in: "//evil.example/a", wantErr: "must not start with //"},
	}
	for _, tt := range tests {
		got, err := Canonical(env, tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Canonical(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestPortOutOfRangeRefused: a port above 65535 (or 0) is bad input, named
// as such, not a network failure; :0443 is the default port.
func TestPortOutOfRangeRefused(t *testing.T) {
	for _, raw := range []string{"http://127.0.0.1:70000/", "https://www.example.com:0/", "https://www.example.com:99999999999999999999/"} {
		if _, err := Resolve(nil, raw); err == nil || !strings.Contains(err.Error(), "expected a number from 1 to 65535") {
			t.Errorf("Resolve(%s) = %v, want a port error", raw, err)
		}
		if _, err := Normalize(raw); err == nil || !strings.Contains(err.Error(), "expected a number from 1 to 65535") {
			t.Errorf("Normalize(%s) = %v, want a port error", raw, err)
		}
	}
	if got, err := Normalize("https://www.example.com:0443/a"); err != nil || got != "https://www.example.com/a" {
		t.Errorf("Normalize(:0443) = %q, %v; want the default port dropped", got, err)
	}
}
