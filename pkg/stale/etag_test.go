package stale

import "testing"

func TestParseETag(t *testing.T) {
	tests := []struct {
		in         string
		wantOpaque string
		wantWeak   bool
		wantOK     bool
	}{
		{`"abc"`, `"abc"`, false, true},
		{`W/"abc"`, `"abc"`, true, true},
		{`w/"abc"`, `"abc"`, true, true},
		{` "abc" `, `"abc"`, false, true},
		{`""`, `""`, false, true},
		{`W/""`, `""`, true, true},
		{`"5d8c-72a5"`, `"5d8c-72a5"`, false, true},
		{"\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"", false, true},
		{``, ``, false, false},
		{`abc`, ``, false, false},
		{`"abc`, ``, false, false},
		{`W/abc`, ``, false, false},
		{`"a"b"`, ``, false, false},
		{`"a b"`, ``, false, false},
		{`"a", "b"`, ``, false, false},
		{`W/`, ``, false, false},
		{`"`, ``, false, false},
	}
	for _, tt := range tests {
		got, ok := parseETag(tt.in)
		if ok != tt.wantOK || got.opaque != tt.wantOpaque || got.weak != tt.wantWeak {
			t.Errorf("parseETag(%q) = %+v, %v; want {%s %v}, %v", tt.in, got, ok, tt.wantOpaque, tt.wantWeak, tt.wantOK)
		}
	}
}
