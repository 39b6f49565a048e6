package textdiff

import (
	"slices"
	"strings"
	"testing"
)

func render(hunks []Hunk) string {
	var b strings.Builder
	for _, h := range hunks {
		b.WriteString(h.Header() + "\n")
		for _, l := range h.Lines {
			b.WriteString(string(l.Kind) + l.Text + "\n")
		}
	}
	return b.String()
}

func TestHunks(t *testing.T) {
	old := SplitLines("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")
	tests := []struct {
		name    string
		changes []Change
		want    string
	}{
		{"one line changed", []Change{{Start: 4, End: 5, New: []string{"E"}}},
			"@@ -3,5 +3,5 @@\n c\n d\n-e\n+E\n f\n g\n"},
		{"block kept but for one line", []Change{{Start: 1, End: 4, New: []string{"b", "C", "d"}}},
			"@@ -1,6 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n f\n"},
		{"insertion moves later hunks", []Change{{Start: 1, End: 1, New: []string{"x", "y"}}, {Start: 9, End: 10, New: []string{"J"}}},
			"@@ -1,3 +1,5 @@\n a\n+x\n+y\n b\n c\n@@ -8,3 +10,3 @@\n h\n i\n-j\n+J\n"},
		{"close changes share a hunk", []Change{{Start: 2, End: 3, New: []string{"C"}}, {Start: 5, End: 6, New: []string{"F"}}},
			"@@ -1,8 +1,8 @@\n a\n b\n-c\n+C\n d\n e\n-f\n+F\n g\n h\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(Hunks(old, tt.changes, 2)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	old := SplitLines("a\nb\nc\n")
	got := Apply(old, []Change{{Start: 0, End: 1, New: []string{"A", "A2"}}, {Start: 2, End: 3}})
	if want := []string{"A", "A2", "b"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
