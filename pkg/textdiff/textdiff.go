// Package textdiff compares texts line by line: the alignment of two short
// texts, and hunks of a larger file's changes shown with a few lines of
// context, as `diff -u` shows them.
package textdiff

import (
	"strconv"
	"strings"
)

// Kind says which side a line of an alignment is on.
type Kind byte

// Line kinds: in both texts, only in the old one, only in the new one.
const (
	Same    Kind = ' '
	Removed Kind = '-'
	Added   Kind = '+'
)

// Line is one line of an alignment.
type Line struct {
	Kind Kind
	Text string
}

// Align lines up a and b on a longest common subsequence, so that one
// inserted line shows as one line, not as every line after it. It takes
// time and memory proportional to len(a)×len(b): meant for short texts.
func Align(a, b []string) []Line {
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []Line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, Line{Same, a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, Line{Removed, a[i]})
			i++
		default:
			out = append(out, Line{Added, b[j]})
			j++
		}
	}
	return out
}

// SplitLines splits s after each newline; a final line without one is
// still a line, and a trailing newline adds none.
func SplitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\n")
	}
	return lines
}

// Change replaces the old text's lines [Start, End) (0-based) with New.
type Change struct {
	Start, End int
	New        []string
}

// Apply returns old with changes made; changes are sorted by Start and do
// not overlap.
func Apply(old []string, changes []Change) []string {
	out := make([]string, 0, len(old))
	at := 0
	for _, c := range changes {
		out = append(out, old[at:c.Start]...)
		out = append(out, c.New...)
		at = c.End
	}
	return append(out, old[at:]...)
}

// Hunk is one block of a unified diff: the lines of a change or of changes
// close together, with context lines around them.
type Hunk struct {
	// OldStart and NewStart are 1-based line numbers, as diff -u counts.
	OldStart, OldLines, NewStart, NewLines int
	Lines                                  []Line
}

// Header is the hunk's "@@ -l,n +l,n @@" line.
func (h Hunk) Header() string {
	return "@@ -" + span(h.OldStart, h.OldLines) + " +" + span(h.NewStart, h.NewLines) + " @@"
}

func span(start, n int) string {
	return strconv.Itoa(start) + "," + strconv.Itoa(n)
}

// Hunks shows changes to old as unified-diff hunks with context lines of
// unchanged text around each; changes closer than twice that share a hunk.
// Each change's lines are aligned with Align, so a change that keeps most
// of its lines shows only those that differ.
func Hunks(old []string, changes []Change, context int) []Hunk {
	var hunks []Hunk
	delta := 0 // lines the changes before the current group added
	for i := 0; i < len(changes); {
		j := i + 1
		for j < len(changes) && changes[j].Start-changes[j-1].End <= 2*context {
			j++
		}
		h, d := hunk(old, changes[i:j], context, delta)
		hunks = append(hunks, h)
		delta += d
		i = j
	}
	return hunks
}

// hunk is one group of changes; it returns the hunk and the lines the
// group adds to the text (negative when it removes more).
func hunk(old []string, group []Change, context, delta int) (Hunk, int) {
	from := max(0, group[0].Start-context)
	to := min(len(old), group[len(group)-1].End+context)
	var lines []Line
	same := func(ls []string) {
		for _, l := range ls {
			lines = append(lines, Line{Same, l})
		}
	}
	same(old[from:group[0].Start])
	added := 0
	for k, c := range group {
		if k > 0 {
			same(old[group[k-1].End:c.Start])
		}
		lines = append(lines, Align(old[c.Start:c.End], c.New)...)
		added += len(c.New) - (c.End - c.Start)
	}
	same(old[group[len(group)-1].End:to])
	h := Hunk{Lines: lines}
	for _, l := range lines {
		if l.Kind != Added {
			h.OldLines++
		}
		if l.Kind != Removed {
			h.NewLines++
		}
	}
	h.OldStart, h.NewStart = from+1, from+delta+1
	return h, added
}
