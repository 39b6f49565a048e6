package stale

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func normalize(t testing.TB, body string, lineLimit int, exprs ...string) (string, []int) {
	t.Helper()
	patterns, err := compilePatterns(exprs)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	counts, err := normalizer{patterns: patterns, lineLimit: lineLimit}.copy(&out, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), counts
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		lineLimit  int
		patterns   []string
		want       string
		wantCounts []int
	}{
		{name: "no patterns pass the body through", body: "a\nb", patterns: nil, want: "a\nb", wantCounts: []int{}},
		{name: "matches are removed, newlines kept", body: "<p>t=1</p>\n<p>t=22</p>\n", patterns: []string{`t=\d+`}, want: "<p></p>\n<p></p>\n", wantCounts: []int{2}},
		{name: "last line without newline", body: "x\nt=1", patterns: []string{`t=\d+`}, want: "x\n", wantCounts: []int{1}},
		{name: "patterns do not match across lines", body: "<span>\n1</span>\n", patterns: []string{`<span>\s*1</span>`}, want: "<span>\n1</span>\n", wantCounts: []int{0}},
		{name: "anchors match at line ends", body: "keep x\nx keep\n", patterns: []string{`^x`, `x$`}, want: "keep \n keep\n", wantCounts: []int{1, 1}},
		{name: "empty matches are not counted", body: "abc\n", patterns: []string{`z*`}, want: "abc\n", wantCounts: []int{0}},
		{name: "patterns apply in order", body: "aab\n", patterns: []string{`ab`, `a`}, want: "\n", wantCounts: []int{1, 1}},
		{name: "carriage return stays part of the line", body: "t=1\r\n", patterns: []string{`t=\d+$`}, want: "t=1\r\n", wantCounts: []int{0}},
		{name: "a line over the limit is matched in pieces", body: "t=1" + strings.Repeat("-", 13) + "t=2\n", lineLimit: 16, patterns: []string{`t=\d+`}, want: strings.Repeat("-", 13) + "\n", wantCounts: []int{2}},
		{name: "a match across pieces is missed", body: strings.Repeat("-", 15) + "t=2\n", lineLimit: 16, patterns: []string{`t=\d+`}, want: strings.Repeat("-", 15) + "t=2\n", wantCounts: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.lineLimit
			if limit == 0 {
				limit = DefaultLineLimit
			}
			got, counts := normalize(t, tt.body, limit, tt.patterns...)
			if got != tt.want {
				t.Errorf("normalized = %q, want %q", got, tt.want)
			}
			if !slices.Equal(counts, tt.wantCounts) {
				t.Errorf("counts = %v, want %v", counts, tt.wantCounts)
			}
		})
	}
}
