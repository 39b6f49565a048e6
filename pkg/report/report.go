// Package report writes results as tables for people, as JSON, JSON Lines,
// JUnit XML or Markdown for programs and CI systems, and as a
// self-contained HTML page to hand to people who would rather see a chart.
package report

import (
	"fmt"
	"strings"
)

// Format is an output format name.
type Format string

// Output formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	JSONL    Format = "jsonl"
	JUnit    Format = "junit"
	Markdown Format = "markdown"
	HTML     Format = "html"
)

// ParseFormat checks name against the formats a command supports.
func ParseFormat(name string, supported ...Format) (Format, error) {
	names := make([]string, len(supported))
	for i, f := range supported {
		names[i] = string(f)
		if strings.EqualFold(name, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (expected one of: %s)", name, strings.Join(names, ", "))
}

// Style colours text for a terminal; the zero Style prints plain text.
type Style struct {
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
)

func (s Style) wrap(code, text string) string {
	if !s.Color || text == "" {
		return text
	}
	return code + text + ansiReset
}

// Red, Green, Yellow, Cyan, Bold and Dim colour text when colour is on.
func (s Style) Red(t string) string    { return s.wrap(ansiRed, t) }
func (s Style) Green(t string) string  { return s.wrap(ansiGreen, t) }
func (s Style) Yellow(t string) string { return s.wrap(ansiYellow, t) }
func (s Style) Cyan(t string) string   { return s.wrap(ansiCyan, t) }
func (s Style) Bold(t string) string   { return s.wrap(ansiBold, t) }
func (s Style) Dim(t string) string    { return s.wrap(ansiDim, t) }

// pad right-pads s to width visible characters (colour codes excluded).
func pad(s string, visible, width int) string {
	if visible >= width {
		return s
	}
	return s + strings.Repeat(" ", width-visible)
}
