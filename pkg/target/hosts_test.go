package target

import (
	"slices"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	allowed := []string{"www.example.com", "*.cdn.example.com", "127.0.0.1:6081", " [::1] "}
	tests := []struct {
		host string
		want bool
	}{
		{"www.example.com", true},
		{"WWW.Example.COM", true},
		{"www.example.com:8443", true},
		{"img.cdn.example.com", true},
		{"a.img.cdn.example.com:443", true},
		{"cdn.example.com", false},
		{"evilcdn.example.com", false},
		{"127.0.0.1:6081", true},
		{"127.0.0.1:6082", false},
		{"127.0.0.1", false},
		{"[::1]:8080", true},
		{"blog.example.org", false},
		{"www.example.com.evil.example", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := HostAllowed(tt.host, allowed); got != tt.want {
			t.Errorf("HostAllowed(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestEnvAllowedHosts(t *testing.T) {
	tests := []struct {
		env  *Env
		want []string
	}{
		{nil, nil},
		{&Env{BaseURL: "https://www.example.com:8443/site/"}, []string{"www.example.com:8443"}},
		{&Env{BaseURL: "https://www.example.com", Hosts: []string{"example.com", "*.example.com"}}, []string{"example.com", "*.example.com"}},
		{&Env{}, nil},
	}
	for _, tt := range tests {
		if got := tt.env.AllowedHosts(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v.AllowedHosts() = %q, want %q", tt.env, got, tt.want)
		}
	}
	env := &Env{BaseURL: "https://www.example.com"}
	for u, want := range map[string]bool{
		"https://www.example.com/a":    true,
		"http://www.example.com:8080/": true,
		"https://other.example.com/a":  false,
		"http://[::1/x":                false,
	} {
		if got := env.Allows(u); got != want {
			t.Errorf("Allows(%q) = %v, want %v", u, got, want)
		}
	}
}
