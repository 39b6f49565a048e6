package target

import "testing"

// TestAllowListResistsLookAlikes: URLs crafted to look like an allowed host
// (userinfo and fragment tricks, a trailing dot, Cyrillic letters,
// punycode, protocol-relative and backslash forms, IPv6 loopback, line
// breaks and NUL) are never taken for it: either refused as URLs or not
// allowed.
func TestAllowListResistsLookAlikes(t *testing.T) {
	env := &Env{Name: "production", BaseURL: "https://www.example.com", Hosts: []string{"www.example.com"}}
	for _, raw := range []string{
		"https://www.example.com@evil.example/a",
		"https://evil.example#@www.example.com/a",
		"https://evil.example/www.example.com",
		"https://www.example.com.evil.example/a",
		"https://www.example.com./a",
		"https://www.exаmple.com/a", // Cyrillic а
		"https://xn--www.exmple-5fh.com/a",
		"//evil.example/a",
		"\\\\evil.example/a",
		"https://[::1]/a",
		"https://www.example.com\n.evil.example/a",
		"https://www.example.com\x00.evil.example/a",
	} {
		u, err := Canonical(env, raw)
		if err == nil && env.Allows(u) {
			t.Errorf("%q resolved to %q and was allowed", raw, u)
		}
	}
	for _, ok := range []string{"/a", "https://WWW.example.com/a", "https://www.example.com:443/a"} {
		u, err := Canonical(env, ok)
		if err != nil || !env.Allows(u) {
			t.Errorf("%q: %q, %v; want allowed", ok, u, err)
		}
	}
}
