package finding

import "testing"

func TestRank(t *testing.T) {
	tests := []struct {
		s    Severity
		want int
	}{
		{Info, 1},
		{Warn, 2},
		{Error, 3},
		{"", 0},
		{"fatal", 0},
	}
	for _, tt := range tests {
		if got := tt.s.Rank(); got != tt.want {
			t.Errorf("Severity(%q).Rank() = %d, want %d", tt.s, got, tt.want)
		}
	}
}
