package golden

import "testing"

func TestDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"equal", "a\nb\n", "a\nb\n", "  a\n  b\n"},
		{"empty", "", "", ""},
		{"one line inserted", "a\nc\n", "a\nb\nc\n", "  a\n+ b\n  c\n"},
		{"one line removed", "a\nb\nc\n", "a\nc\n", "  a\n- b\n  c\n"},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "  a\n- b\n+ B\n  c\n"},
		{"no final newline", "a\nb", "a\nb\n", "  a\n  b\n"},
		{"blank line kept", "a\n\nb\n", "a\nb\n", "  a\n- \n  b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diff(tt.want, tt.got); got != tt.diff {
				t.Errorf("diff(%q, %q) = %q, want %q", tt.want, tt.got, got, tt.diff)
			}
		})
	}
}
